"""Each gate stops the run on a real bad input, with the right reason; warnings don't."""
from __future__ import annotations

import datetime as dt
import shutil

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from expectations.gates import curated_gate, marts_gate
from fullsite.layout import Layout
from orchestration import runlog, state
from orchestration.pipeline import StageFailed
from spark_jobs.facts import recomputed_dates
from tests.runs import night
from tests.integration.conftest import PUBLISHED

NEXT = PUBLISHED + dt.timedelta(days=1)
# Compensation above the window's spend: what the marts gate must never let through.
BAD_CLAIM = """insert into finance.compensation_claims (campaign_version_id, spend, compensation_amount, status, reason, settlement_month)
               values ('X-v1', 100.00, 150.00, 'final', 'compensated', DATE '2024-08-01')"""


def _night_fails_unpublished(root, spark) -> StageFailed:
    """Run NEXT: it must fail and leave the published warehouse byte-identical."""
    before = (root / "warehouse.duckdb").read_bytes()
    with pytest.raises(StageFailed) as failure:
        night(root, NEXT, NEXT)
    assert (root / "warehouse.duckdb").read_bytes() == before
    return failure.value


def test_five_percent_unknown_products_fail_the_raw_gate(scratch_root, spark):
    folder = scratch_root / "raw" / "impressions" / f"dt={NEXT}"
    main = folder / "part-0000.parquet"
    table = pq.read_table(main)
    n = table.num_rows
    bad = pa.array([i % 20 == 0 for i in range(n)])  # 5 %
    table = table.set_column(table.schema.get_field_index("product_id"), "product_id",
                             pc.if_else(bad, pa.scalar("P-NOPE"), table.column("product_id")))
    pq.write_table(table, main)
    failure = _night_fails_unpublished(scratch_root, spark)
    assert failure.gate == "raw" and "over_limit" in failure.message
    assert state.last_success(scratch_root) == PUBLISHED
    # nothing downstream read the partition: no curated facts were built for NEXT
    assert not (scratch_root / "curated" / "fct_product_daily" / f"business_date={NEXT}").exists()


def test_duplicated_key_fails_the_curated_gate(scratch_root):
    part = scratch_root / "curated" / "fct_product_daily" / f"business_date={PUBLISHED}"
    first = sorted(part.glob("*.parquet"))[0]
    shutil.copy(first, part / "part-duplicate.parquet")
    result = curated_gate(Layout(scratch_root), PUBLISHED, recomputed_dates(PUBLISHED), "test-curated")
    assert not result.passed
    assert any(f.check == "fct_product_daily_keys" for f in result.errors)
    assert "fct_product_daily_keys" in result.reason()
    assert result.docs and "fct_product_daily_keys" in open(result.docs).read()


def test_compensation_above_spend_fails_the_marts_gate(scratch_root):
    db = scratch_root / "staging" / "bad.duckdb"
    db.parent.mkdir(exist_ok=True)
    shutil.copy(scratch_root / "warehouse.duckdb", db)
    con = duckdb.connect(str(db))
    con.execute(BAD_CLAIM)
    con.close()
    result = marts_gate(Layout(scratch_root), db, "test-marts", PUBLISHED)
    assert not result.passed
    assert {f.check for f in result.errors} >= {"compensation_within_spend"}


def test_clean_published_state_passes_the_marts_gate(published_root, tmp_path):
    db = tmp_path / "copy.duckdb"
    shutil.copy(published_root / "warehouse.duckdb", db)
    result = marts_gate(Layout(published_root), db, "test-clean", PUBLISHED)
    assert result.passed, result.reason()


def test_warnings_are_recorded_but_do_not_block(published_root):
    rows = runlog.read_all(published_root)
    assert all(r["status"] == "success" for r in rows)
    warned = [r for r in rows if r["message"] and "conflicting_duplicates" in r["message"]]
    assert warned, "the generator's conflicting redeliveries must show as warnings"
    assert all(r["data_docs"] for r in warned)


def test_a_duplicated_curated_key_stops_the_run_at_the_curated_gate(scratch_root, spark, monkeypatch):
    import spark_jobs.nightly as nightly

    original = nightly.build_date

    def build_then_duplicate(spark_, layout, D, first=None):
        original(spark_, layout, D, first)
        part = layout.curated_table("fct_product_daily") / f"business_date={D}"
        shutil.copy(sorted(part.glob("*.parquet"))[0], part / "part-duplicate.parquet")

    monkeypatch.setattr(nightly, "build_date", build_then_duplicate)
    failure = _night_fails_unpublished(scratch_root, spark)
    assert failure.gate == "curated" and "fct_product_daily_keys" in failure.message
    assert runlog.read_all(scratch_root)[-1]["failed_gate"] == "curated"


def test_compensation_above_spend_stops_the_run_at_the_marts_gate(scratch_root, spark, monkeypatch):
    import orchestration.warehouse as warehouse

    original = warehouse.run_dbt

    def dbt_then_corrupt(layout, first, D):
        outcome = original(layout, first, D)
        con = duckdb.connect(str(warehouse.staging_db(layout)))
        con.execute(BAD_CLAIM)
        con.close()
        return outcome

    monkeypatch.setattr(warehouse, "run_dbt", dbt_then_corrupt)
    failure = _night_fails_unpublished(scratch_root, spark)
    assert failure.gate == "marts" and "compensation_within_spend" in failure.message
    last = runlog.read_all(scratch_root)[-1]
    assert last["failed_gate"] == "marts" and last["data_docs"].endswith("index.html")
