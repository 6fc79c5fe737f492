"""End to end on tiny generated data: runs, re-runs, refusals, gates, kills, readers."""

from __future__ import annotations

import datetime as dt
import json
import os

import duckdb
import pytest
from typer.testing import CliRunner

from orchestration import runlog, state
from orchestration.cli import app
from orchestration.pipeline import StageFailed
from tests.conftest import FIRST, NEXT, PUBLISHED
from tests.published import figures, query
from tests.runs import night

OUTPUT_COLUMNS = {  # outputs.md: published names and the columns analysts rely on
    "marts.fct_product_daily": "product_id business_date merchant_id category impressions "
    "paid_impressions clicks paid_clicks invalid_clicks favorites "
    "carts orders units gmv spend paid_attributed_orders "
    "paid_attributed_gmv",
    "marts.fct_product_traffic_daily": "product_id business_date scene is_paid impressions clicks "
    "invalid_clicks spend attributed_orders attributed_gmv",
    "marts.product_lifecycle_daily": "product_id business_date is_standard impressions_7d "
    "clicks_7d saves_7d orders_7d gmv_7d orders_prev_7d "
    "gmv_prev_7d cum_orders ctr_7d save_rate_7d cvr_7d stage "
    "is_final",
    "marts.product_tags_daily": "product_id business_date platform_recommended search_bestseller "
    "ctr_14d save_rate_14d cvr_14d search_cvr_14d baseline_roi "
    "roi_tier_1 roi_tier_2 roi_tier_3",
    "marts.dim_campaign_versions": "campaign_version_id campaign_id version_no merchant_id "
    "product_id valid_from valid_to start_date daily_budget "
    "target_roi roi_choice is_tagged",
    "marts.fct_campaign_daily": "campaign_version_id business_date spend paid_impressions "
    "paid_clicks invalid_clicks gmv paid_attributed_gmv roi",
    "marts.campaign_roi_7d": "campaign_version_id campaign_id merchant_id product_id start_date "
    "close_date spend_days spend gmv roi target_roi achievement status",
    "finance.compensation_claims": "campaign_version_id campaign_id merchant_id product_id "
    "start_date close_date settlement_month status spend gmv roi "
    "target_roi is_tagged roi_choice eligible reason "
    "compensation_amount",
    "finance.merchant_rebates_monthly": "merchant_id month merchant_tier spend compensation "
    "rebate_base rebate_rate rebate_amount status",
    "marts.campaign_uplift": "campaign_version_id start_date gmv_before_7d gmv_after_7d "
    "gmv_uplift natural_impressions_before_7d "
    "natural_impressions_after_7d natural_traffic_uplift is_final",
    "marts.merchant_plan_usage": "merchant_id business_date live_campaigns plan_quota over_quota",
    "dq.ingest_reconciliation": "table_name ingest_date rows_in accepted duplicates quarantined",
    "dq.quarantine_summary": "table_name ingest_date reason rows",
    "dq.run_log": "run_id ingest_date started_at finished_at status failed_gate message",
}


def _columns(warehouse, table):
    schema, name = table.split(".")
    return {
        r[0]: r[1]
        for r in query(
            warehouse,
            f"""select column_name, data_type from information_schema.columns
                                                    where table_schema = '{schema}' and table_name
                                                        = '{name}'""",
        )
    }


def test_published_tables_carry_the_contracted_columns_and_no_user_ids(published_root):
    """Night: the shared published root, made in tests/conftest.py (published_root)."""
    wh = published_root / "warehouse.duckdb"
    for table, cols in OUTPUT_COLUMNS.items():
        have = _columns(wh, table)
        assert set(cols.split()) <= set(have), f"{table} lacks {set(cols.split()) - set(have)}"
        assert "user_id" not in have
        for col, typ in have.items():
            if col in (
                "spend",
                "gmv",
                "compensation_amount",
                "rebate_amount",
                "rebate_base",
                "compensation",
            ):
                assert typ == "DECIMAL(18,2)", (table, col, typ)
    assert _columns(wh, "dq.run_log")["started_at"] == "TIMESTAMP WITH TIME ZONE"
    schemas = {r[0] for r in query(wh, "select schema_name from information_schema.schemata")}
    assert not {"staging", "intermediate"} & schemas


def test_reconciliation_and_totals_tie_out(published_root):
    """Night: the shared published root, made in tests/conftest.py (published_root)."""
    wh = published_root / "warehouse.duckdb"
    assert query(
        wh,
        "select count(*) from dq.ingest_reconciliation where rows_in <> accepted + duplicates + "
        "quarantined",
    ) == [(0,)]
    assert query(wh, "select count(distinct ingest_date) from dq.ingest_reconciliation") == [(5,)]
    con = duckdb.connect()
    accepted = con.execute(f"""select business_date::date, sum(cost) from
                               read_parquet('{published_root}/curated/accepted/clicks/*/*/*.parquet',
                                            hive_partitioning = true)
                               where is_paid and not is_invalid group by 1 order by 1""").fetchall()
    facts = query(
        wh, "select business_date, sum(spend) from marts.fct_product_daily group by 1 order by 1"
    )
    assert [a for a in accepted if a[0] <= PUBLISHED] == facts


def test_every_settled_window_has_one_claim_and_months_tie_out(published_root):
    """Night: the shared published root, made in tests/conftest.py (published_root)."""
    wh = published_root / "warehouse.duckdb"
    assert query(
        wh,
        """select count(*) from marts.campaign_roi_7d w left join finance.compensation_claims c
            using (campaign_version_id)
                        where w.status in ('final', 'void') and c.campaign_version_id is null""",
    ) == [(0,)]
    assert query(wh, """select sum(spend) from marts.fct_campaign_daily""") == query(
        wh, "select sum(spend) from finance.merchant_rebates_monthly"
    )


def test_skipped_date_is_refused(scratch_root, spark):
    """Night: a copy of the shared published root, made in tests/conftest.py (published_root)."""
    with pytest.raises(state.RunRefused, match="run 2024-08-02 next"):
        night(scratch_root, NEXT + dt.timedelta(days=1), NEXT + dt.timedelta(days=1))
    with pytest.raises(state.RunRefused, match="before the last successful run"):
        night(scratch_root, FIRST, FIRST)


def test_rerun_of_the_last_date_changes_nothing(scratch_root, published_root, spark):
    """Re-running the last published date, from the command line as an operator does.
    Night: a copy of the shared published root, made in tests/conftest.py (published_root); the
    shared published root, made in tests/conftest.py (published_root)."""
    before = figures(published_root / "warehouse.duckdb")
    result = CliRunner().invoke(
        app, ["run", "--data-root", str(scratch_root), "--date", str(PUBLISHED)]
    )
    assert result.exit_code == 0, result.output
    assert figures(scratch_root / "warehouse.duckdb") == before
    assert state.last_success(scratch_root) == PUBLISHED


def test_failing_raw_gate_publishes_nothing(scratch_root, spark):
    """Night: a copy of the shared published root, made in tests/conftest.py (published_root)."""
    wh = scratch_root / "warehouse.duckdb"
    before = wh.read_bytes()
    for f in (scratch_root / "raw" / "products" / f"dt={NEXT}").glob("*.parquet"):
        f.unlink()
    with pytest.raises(StageFailed) as failure:
        night(scratch_root, NEXT, NEXT)
    assert (
        failure.value.gate == "raw"
        and f"no data file for dt={NEXT} in products" in failure.value.message
    )
    assert wh.read_bytes() == before
    assert state.last_success(scratch_root) == PUBLISHED
    last = runlog.read_all(scratch_root)[-1]
    assert (last["status"], last["failed_gate"]) == ("failed", "raw")
    assert last["data_docs"] and os.path.exists(last["data_docs"])
    assert f"no data file for dt={NEXT} in products" in open(last["data_docs"]).read()


def test_schema_breaking_file_fails_the_raw_gate(scratch_root, spark):
    """Night: a copy of the shared published root, made in tests/conftest.py (published_root)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = scratch_root / "raw" / "clicks" / f"dt={NEXT}"
    table = pq.read_table(next(folder.glob("*.parquet")))
    pq.write_table(
        table.set_column(
            table.schema.get_field_index("cost"), "cost", table.column("cost").cast(pa.float64())
        ),
        folder / "part-9999.parquet",
    )
    before = (scratch_root / "warehouse.duckdb").read_bytes()
    with pytest.raises(StageFailed) as failure:
        night(scratch_root, NEXT, NEXT)
    assert (
        failure.value.message
        == f"raw gate: clicks dt={NEXT} part-9999.parquet: column cost is DOUBLE, contract says "
        f"DECIMAL(18,2)"
    )
    assert (scratch_root / "warehouse.duckdb").read_bytes() == before


def test_killed_run_leaves_the_published_state_and_recovers(next_night):
    """A run killed mid-Spark leaves the published state as it was; the next run, launched
    as the UI and the schedule launch one, recovers with no manual clean-up (the shared
    next night went this way: tests/conftest.py). That the recovered night publishes what an
    uninterrupted run does is test_backfill_equals_nightly_runs."""
    killed, root = next_night.after_kill, next_night.root
    assert killed["unchanged"] and killed["last_success"] == PUBLISHED
    newest = killed["status"]["runs"][-1]
    # seen at once, with no run alive
    assert (newest["ingest_date"], newest["status"]) == (
        str(NEXT),
        "interrupted",
    )
    result = next_night.recovery
    assert result.success
    checks = {(e.check_name, e.passed) for e in result.get_asset_check_evaluations()}
    assert checks == {("raw_gate", True), ("curated_gate", True), ("marts_gate", True)}
    statuses = [r["status"] for r in runlog.read_all(root) if r["ingest_date"] == NEXT]
    assert statuses == ["interrupted", "success"]  # the killed run is recorded as interrupted
    shown = CliRunner().invoke(app, ["status", "--data-root", str(root), "--json"])
    assert shown.exit_code == 0, shown.output
    status = json.loads(shown.output)
    assert status["last_success"] == str(NEXT)
    nights = [r for r in status["runs"] if r["ingest_date"] == str(NEXT)]
    assert [r["status"] for r in nights] == ["interrupted", "success"]
    assert nights[0]["message"].startswith("the process ended before the run finished")


def test_a_reader_holding_the_warehouse_open_neither_blocks_a_run_nor_sees_it_half_published(
    next_night,
):
    """An analyst's connection, open from before the killed run of the shared next night to
    Night: the shared next night, made in tests/conftest.py (next_night).
    after its recovery, kept seeing the state it opened; the file now holds the new night."""
    assert next_night.reader["after"] == next_night.reader["before"]
    assert next_night.reader["before"][0] == str(PUBLISHED)
    wh = next_night.root / "warehouse.duckdb"
    assert query(wh, "select max(business_date) from marts.fct_product_daily") == [(NEXT,)]
    assert (
        query(
            wh,
            "select count(*) from finance.merchant_rebates_monthly where month = DATE "
            "'2024-07-01' and status = 'final'",
        )[0][0]
        > 0
    )
    assert query(
        wh, f"select status from dq.run_log where ingest_date = DATE '{NEXT}' order by started_at"
    ) == [(r["status"],) for r in runlog.read_all(next_night.root) if r["ingest_date"] == NEXT]


def test_backfill_equals_nightly_runs(backfilled_to_next, next_night_root):
    """One backfill of FIRST … NEXT by `fullsite backfill` equals the shared root, which
    reached NEXT by a backfill and then a nightly run launched through Dagster's API (the
    Night: the backfill run beside the tests, made in tests/conftest.py (backfilled_to_next); the
    shared next night, made in tests/conftest.py (next_night).
    hostile rows planted in both): both ways in publish the same."""
    root = backfilled_to_next.finished()
    assert figures(root / "warehouse.duckdb") == figures(next_night_root / "warehouse.duckdb")


def test_a_backfill_into_a_log_file_says_each_stage_and_no_jvm_noise(backfilled_to_next):
    """Issue 47: a backfill whose output goes to a file prints a plain line per stage (it was
    silent for minutes), and the JVM's "Using incubator modules" notice is not ours to print.
    Night: the backfill run beside the tests, made in tests/conftest.py (backfilled_to_next)."""
    backfilled_to_next.finished()
    log = backfilled_to_next.log.read_text()
    assert "incubator" not in log
    stages = [line for line in log.splitlines() if line.startswith("[")]
    assert any(line.endswith(f"{FIRST}: raw gate") for line in stages), log[-2000:]
    assert any(line.endswith(f"{NEXT}: dbt build") for line in stages), log[-2000:]
    # [mm:ss] since the start
    assert all(line[:7].count(":") == 1 and line[6] == "]" for line in stages)


def test_cumulative_orders_equal_a_full_recomputation(published_root):
    """cum_orders is carried as incremental state; after several runs it must equal a count
    Night: the shared published root, made in tests/conftest.py (published_root).
    of every accepted order up to the date."""
    con = duckdb.connect()
    full = dict(
        ((p, d), n)
        for p, d, n in con.execute(f"""
        with orders as (select product_id, business_date::date d from
            read_parquet('{published_root}/curated/accepted/purchases/*/*/*.parquet',
            hive_partitioning = true)),
             dates as (select distinct d from orders where d <= DATE '{PUBLISHED}')
        select o.product_id, dates.d, count(*) from dates join orders o on o.d <= dates.d group by
            all""").fetchall()
    )
    published = query(
        published_root / "warehouse.duckdb",
        "select product_id, business_date, cum_orders from marts.product_lifecycle_daily",
    )
    assert published
    for p, d, n in published:
        assert n == full.get((p, d), 0), (p, d)


def test_gmv_ties_out_with_accepted_purchases(published_root):
    """Night: the shared published root, made in tests/conftest.py (published_root)."""
    con = duckdb.connect()
    accepted = con.execute(f"""select business_date::date, sum(amount) from
                               read_parquet('{published_root}/curated/accepted/purchases/*/*/*.parquet',
                                            hive_partitioning = true)
                               group by 1 order by 1""").fetchall()
    facts = query(
        published_root / "warehouse.duckdb",
        "select business_date, sum(gmv) from marts.fct_product_daily group by 1 order by 1",
    )
    assert [a for a in accepted if a[0] <= PUBLISHED] == facts
