"""The Dagster definitions: the nightly graph materializes a partition end to end, and a
failing blocking gate stops everything downstream."""
from __future__ import annotations

import dagster as dg

from orchestration import definitions as d
from orchestration import runlog
from tests.conftest import FIRST, copy_root
from tests.published import query

ASSETS = [d.raw_landing, d.curated_layer, d.fullsite_dbt, d.published_warehouse]


def _materialize(root):
    return dg.materialize(ASSETS, partition_key=str(FIRST), resources=d.resources(str(root)),
                          instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)


def test_definitions_load_with_schedule_and_partitions():
    schedule = d.defs.resolve_schedule_def(d.nightly_schedule.name)
    assert schedule.cron_schedule == "0 2 * * *" and schedule.execution_timezone == "Asia/Shanghai"
    assert d.daily.timezone == "Asia/Shanghai"
    graph = d.defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {"raw/impressions", "curated/fct_product_daily", "finance/compensation_claims", "published_warehouse"} <= keys


def test_a_partition_materializes_and_publishes(tiny_raw, spark, tmp_path):
    root = copy_root(tiny_raw, tmp_path / "root")
    result = _materialize(root)
    assert result.success
    checks = {(e.check_name, e.passed) for e in result.get_asset_check_evaluations()}
    assert {("raw_gate", True), ("curated_gate", True), ("marts_gate", True)} <= checks
    assert query(root / "warehouse.duckdb", "select max(business_date) from marts.fct_product_daily") == [(FIRST,)]
    assert [r["status"] for r in runlog.read_all(root)] == ["success"]


def test_a_failing_raw_gate_blocks_downstream(tiny_raw, spark, tmp_path):
    root = copy_root(tiny_raw, tmp_path / "root")
    for f in (root / "raw" / "merchants" / f"dt={FIRST}").glob("*.parquet"):
        f.unlink()
    result = _materialize(root)
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert "published_warehouse" not in materialized and "curated/fct_product_daily" not in materialized
    assert not (root / "warehouse.duckdb").exists()
    assert [(r["status"], r["failed_gate"]) for r in runlog.read_all(root)] == [("failed", "raw_gate")]
