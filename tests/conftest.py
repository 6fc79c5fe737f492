"""Shared fixtures: tiny generated data sets, made once per test session."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")

TINY_START = dt.date(2024, 7, 28)  # crosses a month end
TINY_DAYS = 8


@pytest.fixture(scope="session")
def tiny_raw(tmp_path_factory):
    """A tiny raw landing zone: 8 days across July's end, seed 7."""
    from fullsite.generator.run import generate

    root = tmp_path_factory.mktemp("tiny")
    generate(root, TINY_START, TINY_DAYS, "tiny", seed=7)
    return root


@pytest.fixture(scope="session")
def spark():
    """One Spark session for the whole test run (starting one costs ~5 s)."""
    from spark_runtime.session import get_spark

    session = get_spark()
    yield session
    session.stop()


FIRST = TINY_START  # 2024-07-28
PUBLISHED = dt.date(2024, 8, 1)  # the shared data root is published up to here


def copy_root(src, dst):
    import shutil

    shutil.copytree(src, dst, symlinks=True)
    return dst


@pytest.fixture(scope="session")
def published_root(tmp_path_factory, tiny_raw, spark):
    """tiny data backfilled 2024-07-28 … 2024-08-01 (read-only for tests: copy it to change it)."""
    from tests.runs import night

    root = copy_root(tiny_raw, tmp_path_factory.mktemp("published") / "root")
    night(root, FIRST, PUBLISHED)
    return root


@pytest.fixture
def scratch_root(tmp_path, published_root):
    """A private copy of the published data root."""
    return copy_root(published_root, tmp_path / "root")


NEXT = PUBLISHED + dt.timedelta(days=1)  # 2024-08-02: July is final after it


@dataclass
class NextNight:
    """The shared next night and what it went through on the way (read-only for tests)."""

    root: Path
    after_kill: dict = field(default_factory=dict)  # the published state the killed run left
    reader: dict = field(default_factory=dict)  # what an analyst's open connection saw (JSON)
    recovery: object = None  # Dagster's result of the recovering run


@pytest.fixture(scope="session")
def backfilled_to_next(tmp_path_factory, tiny_raw):
    """The tiny data with the next night's hostile rows planted, backfilled FIRST … NEXT
    beside the tests (compared with the shared next night, which reached NEXT by a nightly run)."""
    from tests.hostile.planting import plant_hostile
    from tests.runs import Backfill

    root = copy_root(tiny_raw, tmp_path_factory.mktemp("backfill") / "root")
    plant_hostile(root, NEXT)
    run = Backfill(root, FIRST, NEXT)
    yield run
    run.stop()


@pytest.fixture(scope="session")
def harder_backfilled(tmp_path_factory, tiny_raw):
    """The tiny days made harder (tests/reference/harder.py) and merchant names a spreadsheet
    would run, backfilled over all 8 days beside the tests (compared with the reference)."""
    from tests.reference.harder import make_harder, plant_spreadsheet_names
    from tests.runs import Backfill

    root = copy_root(tiny_raw, tmp_path_factory.mktemp("harder") / "root")
    missing = make_harder(root)["missing saves partition"].split("=", 1)[1]
    planted = {"missing saves": missing, "merchant names": plant_spreadsheet_names(root)}
    run = Backfill(root, FIRST, FIRST + dt.timedelta(days=TINY_DAYS - 1), planted)
    yield run
    run.stop()


LATER = NEXT + dt.timedelta(days=1)  # 2024-08-03: the night the corrected rules first run


@pytest.fixture(scope="session")
def corrected_rules(tmp_path_factory) -> Path:
    """A copy of the dbt project with a retroactive correction of the SME rebate rates."""
    from tests.restating import corrected_project

    return corrected_project(tmp_path_factory.mktemp("rules") / "dbt_project")


@pytest.fixture(scope="session")
def restated_fresh(tmp_path_factory, tiny_raw, corrected_rules):
    """The raw zone the period-close scenario ends with (the next night's hostile rows, the
    clicks of 2024-07-30 re-sent), backfilled FIRST … LATER with the corrected rules into a
    fresh root beside the tests: what a restated warehouse must equal."""
    from tests.hostile.planting import plant_hostile
    from tests.restating import rewrite_clicks
    from tests.runs import Backfill

    root = copy_root(tiny_raw, tmp_path_factory.mktemp("restated_fresh") / "root")
    plant_hostile(root, NEXT)
    rewrite_clicks(root)
    run = Backfill(root, FIRST, LATER, env={"FULLSITE_DBT_PROJECT": str(corrected_rules)})
    yield run
    run.stop()


BESIDE = ("backfilled_to_next", "harder_backfilled", "restated_fresh")


def pytest_collection_modifyitems(items):
    """The tests that compare with a backfill run beside come last: that backfill runs at a
    lower priority (tests/runs.py Backfill) and takes what the rest of the suite leaves of
    the two cores, so it gets the whole suite's length to finish in (D38)."""
    items.sort(key=lambda item: any(name in BESIDE for name in getattr(item, "fixturenames", ())))


@pytest.fixture(scope="session", autouse=True)
def _start_backfills_beside(request):
    """Start the backfills run beside the tests as the session starts, when a selected test
    needs them: they fill the gaps the serial suite leaves on the two cores."""
    wanted = {name for item in request.session.items for name in getattr(item, "fixturenames", ())}
    for name in BESIDE:
        if name in wanted:
            request.getfixturevalue(name)


@pytest.fixture(scope="session")
def next_night(tmp_path_factory, published_root, spark) -> NextNight:
    """published_root plus the night of NEXT with hostile rows planted (tests/hostile/planting.py).
    The night is run the hard way, one night for several properties: ``fullsite run`` is
    killed while Spark writes it, then the run is launched again as the UI and the schedule
    launch one (Dagster's own API), with an analyst holding the warehouse open from before
    the killed run to after the recovery. What each step left is recorded for the tests
    that check it (tests/integration/test_pipeline.py)."""
    import json

    from typer.testing import CliRunner

    from orchestration import state
    from orchestration.cli import app
    from tests.hostile.planting import plant_hostile
    from tests.runs import Reader, kill_mid_spark, through_dagster_api

    root = copy_root(published_root, tmp_path_factory.mktemp("next") / "root")
    plant_hostile(root, NEXT)
    wh = root / "warehouse.duckdb"
    seen = NextNight(root)
    before = wh.read_bytes()
    reader = Reader(wh, "select max(business_date), count(*) from marts.fct_product_daily")
    try:
        seen.reader["before"] = reader.look()
        kill_mid_spark(root, NEXT)
        seen.after_kill = {
            "unchanged": wh.read_bytes() == before,
            "last_success": state.last_success(root),
            "status": json.loads(
                CliRunner().invoke(app, ["status", "--data-root", str(root), "--json"]).output
            ),
        }
        seen.recovery = through_dagster_api(root, NEXT)  # no manual clean-up
        seen.reader["after"] = reader.look()
    finally:
        reader.close()
    assert seen.recovery.success, "the shared next night did not recover"
    return seen


@pytest.fixture(scope="session")
def next_night_root(next_night) -> Path:
    """The data root of the shared next night (read-only for tests: copy it to change it)."""
    return next_night.root


@pytest.fixture(scope="session")
def a_night_later(next_night_root, tmp_path_factory, spark) -> Path:
    """The shared next night plus the night after (LATER): a newer build of the same final
    July, with a ledger of its own (nothing issued yet), built on the spare build the next
    night left (D50). Tests may issue statements into it; its warehouse is read-only.

    Night: made here, on a copy of the shared next night."""
    from tests.runs import night

    root = copy_root(next_night_root, tmp_path_factory.mktemp("later") / "root")
    night(root, LATER)
    return root
