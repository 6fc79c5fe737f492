"""Shared fixtures: tiny generated data sets, made once per test session."""
from __future__ import annotations

import datetime as dt
import os

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


FIRST = TINY_START                          # 2024-07-28
PUBLISHED = dt.date(2024, 8, 1)             # the shared data root is published up to here


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


NEXT = PUBLISHED + dt.timedelta(days=1)     # 2024-08-02: July is final after it


@pytest.fixture(scope="session")
def next_night_root(tmp_path_factory, published_root, spark):
    """published_root plus the night of NEXT with hostile rows planted (tests/hostile/planting.py),
    run as `fullsite run` runs it (read-only for tests)."""
    from typer.testing import CliRunner

    from orchestration.cli import app
    from tests.hostile.planting import plant_hostile

    root = copy_root(published_root, tmp_path_factory.mktemp("next") / "root")
    plant_hostile(root, NEXT)
    result = CliRunner().invoke(app, ["run", "--data-root", str(root), "--date", str(NEXT)])
    assert result.exit_code == 0, result.output
    return root
