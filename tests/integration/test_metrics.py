"""The semantic layer (issue 35): metrics defined once, asked by name from a published
warehouse, read-only — the README's examples, the two ROI figures of merchant_daily, the
query of docs/queries.md that computes metrics, and a question asked while a night is
being published. The published root is the shared one (tests/conftest.py published_root)."""

from __future__ import annotations

import datetime as dt
import json
import re
import shlex
import shutil
import subprocess
import sys
import threading
from decimal import Decimal
from pathlib import Path

import pytest

from fullsite.layout import Layout
from publications import metrics
from tests.published import query

REPO = Path(__file__).resolve().parents[2]


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "orchestration.cli", *args], capture_output=True, text=True, cwd=REPO
    )


def readme_examples() -> list[list[str]]:
    """Every `fullsite metrics` command line of the README's "For analysts" section."""
    section = (REPO / "README.md").read_text().split("## For analysts", 1)[1].split("\n## ", 1)[0]
    return [
        shlex.split(line)[1:]
        for line in section.splitlines()
        if line.startswith(".venv/bin/fullsite metrics")
    ]


def test_the_readmes_metric_examples_answer_from_the_published_warehouse(published_root):
    """Night: the shared published root, made in tests/conftest.py (published_root)."""
    examples = readme_examples()
    assert len(examples) >= 3
    for args in examples:
        args = [str(published_root) if a == "data/demo" else a for a in args]
        done = cli(*args)
        assert done.returncode == 0 and done.stdout.strip(), (args, done.stderr)
        if "--metrics" in args:  # the same question as JSON: every metric asked is answered
            rows = json.loads(cli(*args, "--format", "json").stdout)
            asked = args[args.index("--metrics") + 1].split(",")
            assert rows and set(asked) <= set(rows[0]), (asked, rows[:1])


def test_an_unknown_metric_is_one_line_naming_the_known_ones(published_root):
    """Night: the shared published root, made in tests/conftest.py (published_root)."""
    done = cli("metrics", "--data-root", str(published_root), "--metrics", "roi")
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
    assert "roi" in done.stderr and "did you mean" in done.stderr and "Traceback" not in done.stderr


def test_merchant_daily_carries_both_roi_figures_as_their_metrics_define_them(published_root):
    """Night: the shared published root, made in tests/conftest.py (published_root)."""
    wh = published_root / "warehouse.duckdb"
    con = metrics.connect(wh)
    try:
        frame = metrics.ask(
            con, ["merchant_gmv_per_spend", "full_site_roi"], ["merchant", "metric_time__day"]
        )
    finally:
        con.close()
    asked = {
        (r.merchant, r.metric_time__day.date()): (r.merchant_gmv_per_spend, r.full_site_roi)
        for r in frame.itertuples()
    }
    table = {
        (m, d): (roi, fsr)
        for m, d, roi, fsr in query(
            wh, "select merchant_id, business_date, roi, full_site_roi from marts.merchant_daily"
        )
    }
    assert asked.keys() == table.keys()

    def same(a, b):
        return (a is None or a != a) and (b is None or b != b) or a == b  # both null, or equal

    differing = [
        k for k in table if not (same(asked[k][0], table[k][0]) and same(asked[k][1], table[k][1]))
    ]
    assert differing == []
    # two figures, not one
    assert any(r != f for r, f in table.values() if r is not None and f is not None)


def test_the_query_page_computes_merchant_figures_as_the_metrics_do(published_root):
    """docs/queries.md's per-merchant query of the last 7 days, column by column, against the
    Night: the shared published root, made in tests/conftest.py (published_root).
    metrics over the same dates (rounded as the page rounds them)."""
    page = (REPO / "docs" / "queries.md").read_text()
    sql = re.search(
        r"## Paid versus natural GMV per merchant.*?```sql\n(.*?)```", page, re.S
    ).group(1)
    wh = published_root / "warehouse.duckdb"
    rows = {r[0]: r for r in query(wh, sql.replace("limit 20", ""))}
    last = query(wh, "select max(business_date) from marts.merchant_daily")[0][0]
    con = metrics.connect(wh)
    try:
        frame = metrics.ask(
            con,
            [
                "gmv",
                "paid_attributed_gmv",
                "natural_gmv",
                "spend",
                "full_site_roi",
                "merchant_gmv_per_spend",
            ],
            ["merchant"],
            start=last - dt.timedelta(days=6),
            end=last,
        )
    finally:
        con.close()
    assert len(rows) == len(frame)
    for r in frame.itertuples():
        _, _, _, gmv, paid, natural, _, spend, fsr, gps = rows[r.merchant]
        assert (gmv, paid, natural, spend) == (
            r.gmv,
            r.paid_attributed_gmv,
            r.natural_gmv,
            r.spend,
        ), r.merchant
        for shown, exact in ((fsr, r.full_site_roi), (gps, r.merchant_gmv_per_spend)):
            assert shown == (None if exact is None or exact != exact else round(exact, 2)), (
                r.merchant
            )


def test_every_day_with_a_settlement_adds_up_to_the_statements(next_night_root):
    """July is final after the shared next night: merchant_daily's days add up to finance.
    Night: the shared next night, made in tests/conftest.py (next_night)."""
    wh = next_night_root / "warehouse.duckdb"
    ((comp, reb),) = query(
        wh, "select sum(compensation_amount), sum(rebate_amount) from marts.merchant_daily"
    )
    assert (
        reb
        and reb
        == query(
            wh,
            "select sum(rebate_amount) from finance.merchant_rebates_monthly where status = "
            "'final'",
        )[0][0]
    )
    assert comp == (
        query(
            wh,
            "select sum(compensation_amount) from finance.compensation_claims where status = "
            "'final'",
        )[0][0]
        or Decimal("0.00")
    )
    live = query(
        wh,
        """select count(*) from marts.merchant_plan_usage u
                        anti join marts.merchant_daily d using (merchant_id, business_date)
                        where u.live_campaigns > 0""",
    )
    assert live == [(0,)]  # every merchant-day with a live campaign has its row


def test_a_question_asked_while_a_night_is_published_is_answered(scratch_root):
    """Publication replaces the file (os.replace) under readers: a metric question asked
    Night: a copy of the shared published root, made in tests/conftest.py (published_root).
    meanwhile reads one build or the other, never fails and never blocks the publication."""
    from orchestration.warehouse import publish, staging_db

    layout = Layout(scratch_root)
    stop = threading.Event()
    published = []

    def publish_again_and_again():
        while not stop.is_set():
            staging_db(layout).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(layout.warehouse, staging_db(layout))
            publish(layout)
            published.append(1)

    worker = threading.Thread(target=publish_again_and_again)
    worker.start()
    try:
        answers = [
            cli(
                "metrics",
                "--data-root",
                str(scratch_root),
                "--metrics",
                "gmv,full_site_roi",
                "--format",
                "json",
            )
            for _ in range(3)
        ]
    finally:
        stop.set()
        worker.join()
    assert len(published) > 3
    assert all(a.returncode == 0 for a in answers), [a.stderr for a in answers]
    assert len({a.stdout for a in answers}) == 1 and json.loads(answers[0].stdout)[0]["gmv"]


@pytest.mark.parametrize(
    "text, shown",
    [
        ("M1", "M1"),
        (Decimal("1.50"), "1.50"),
        (2.123456, "2.1235"),
        (dt.datetime(2024, 7, 1), "2024-07-01"),
        (None, ""),
    ],
)
def test_cells_read_as_analysts_read_them(text, shown):
    assert metrics._shown(text) == shown


def test_the_semantic_layer_validates_against_a_published_warehouse(scratch_root):
    """`mf validate-configs` with its data-warehouse checks (every semantic model, dimension,
    entity, measure and metric queried) on a copy of a published warehouse; make lint runs the
    Night: a copy of the shared published root, made in tests/conftest.py (published_root).
    semantic checks alone."""
    import os

    env = {**os.environ, "FULLSITE_DBT_DB": str(scratch_root / "warehouse.duckdb")}
    done = subprocess.run(
        [str(Path(sys.executable).parent / "mf"), "validate-configs"],
        cwd=REPO / "dbt_project",
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "validated metrics against data warehouse" in done.stdout


def test_rows_come_in_the_order_of_their_group_by_unless_asked_otherwise(published_root):
    """Issue 47: `--group-by metric_time__day` answers day after day, without `--order-by`.
    Night: the shared published root, made in tests/conftest.py (published_root)."""
    done = cli(
        "metrics",
        "--data-root",
        str(published_root),
        "--metrics",
        "gmv",
        "--group-by",
        "metric_time__day,merchant__merchant_tier",
        "--format",
        "json",
    )
    assert done.returncode == 0, done.stderr
    keys = [
        (r["metric_time__day"], r["merchant__merchant_tier"] or "") for r in json.loads(done.stdout)
    ]
    assert len(keys) > 3 and keys == sorted(keys)
    reverse = json.loads(
        cli(
            "metrics",
            "--data-root",
            str(published_root),
            "--metrics",
            "gmv",
            "--group-by",
            "metric_time__day",
            "--order-by",
            "-metric_time__day",
            "--format",
            "json",
        ).stdout
    )
    days = [r["metric_time__day"] for r in reverse]
    assert days == sorted(days, reverse=True)
