"""The warehouse is extended night by night: a nightly run starts from the published file,
rebuilds only the dates from D - late_days and the rows not yet final, never rewrites a
settled row, and ends equal to a build from scratch."""

from __future__ import annotations

import datetime as dt
import re

import duckdb

from fullsite.layout import Layout
from fullsite.published import BUILD_RECORD
from orchestration import warehouse
from tests.conftest import NEXT, copy_root
from tests.published import figures, query

SETTLED = {  # table: (key columns, which rows are settled)
    "marts.campaign_roi_7d": ("campaign_version_id", "status = 'final'"),
    "finance.compensation_claims": ("campaign_version_id", "status = 'final'"),
    "finance.merchant_rebates_monthly": ("merchant_id, month", "status = 'final'"),
    "marts.campaign_uplift": ("campaign_version_id", "is_final"),
    "marts.product_lifecycle_daily": ("product_id, business_date", "is_final"),
}


def _dbt_dates(root) -> dict:
    """The run date and the first rebuilt date dbt compiled into the last build's SQL."""
    compiled = root / "staging" / "dbt_target" / "compiled" / "fullsite" / "models"
    lifecycle = (compiled / "intermediate" / "int_product_lifecycle_daily.sql").read_text()
    published = (compiled / "marts" / "product_lifecycle_daily.sql").read_text()
    found = {
        "run_date": re.search(r"<= cast\('([0-9-]+)' as date\) as is_final", lifecycle).group(1)
    }
    if rebuilt := re.search(r"where business_date >= cast\('([0-9-]+)' as date\)", published):
        found["rebuild_from"] = rebuilt.group(1)
    return found


def test_nightly_run_is_incremental_and_equals_a_full_build(next_night_root, tmp_path):
    """Night: the shared next night, made in tests/conftest.py (next_night)."""
    incremental = next_night_root  # NEXT run on the published file
    # The same curated layer (Spark's output of that night), built by dbt from scratch: without
    # the build record the published file no longer vouches for its SQL, so dbt builds it all.
    full = copy_root(next_night_root, tmp_path / "full")
    con = duckdb.connect(str(full / "warehouse.duckdb"))
    con.execute(f"drop table {BUILD_RECORD}")
    con.close()
    layout = Layout(full)
    assert warehouse.run_dbt(layout, NEXT, NEXT).success
    warehouse.finalize_staging(layout, NEXT)
    warehouse.publish(layout)

    assert _dbt_dates(incremental) == {
        "run_date": str(NEXT),
        "rebuild_from": str(NEXT - dt.timedelta(days=2)),
    }
    assert _dbt_dates(full) == {"run_date": str(NEXT)}
    assert figures(incremental / "warehouse.duckdb") == figures(full / "warehouse.duckdb")


def test_settled_rows_are_carried_over_unchanged(published_root, next_night_root):
    """Night: the shared published root, made in tests/conftest.py (published_root); the shared
    next night, made in tests/conftest.py (next_night)."""
    root = next_night_root  # NEXT run on the published file
    settled_somewhere = 0
    for table, (key, settled) in SETTLED.items():
        before = query(
            published_root / "warehouse.duckdb",
            f"select * from {table} where {settled} order by {key}",
        )
        after = query(
            root / "warehouse.duckdb", f"select * from {table} where {settled} order by {key}"
        )
        assert set(before) <= set(after), table
        settled_somewhere += len(before)
    assert settled_somewhere > 0  # the tiny data settles windows, months or dates before NEXT
