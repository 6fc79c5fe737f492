"""Dagster definitions: the nightly pipeline as partitioned assets with blocking gates.

    raw/<table> ──▶ curated/<table> ──▶ dbt models (dagster-dbt) ──▶ published_warehouse
     [raw_gate]      [curated_gate]      [dbt tests]                  [marts_gate]

Daily partitions in Asia/Shanghai, a schedule at 02:00 local for the previous day, retries
with exponential backoff on the Spark step. Storage lives under the data root
(``DAGSTER_HOME=<data-root>/dagster``); the `fullsite` CLI does not need any of this.

    FULLSITE_DATA_ROOT=data/demo DAGSTER_HOME=$PWD/data/demo/dagster dagster dev -m orchestration.definitions
"""

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from fullsite.contract import SCHEMAS
from fullsite.rules import DBT_PROJECT_DIR
from orchestration import runlog, state
from orchestration.pipeline import Pipeline, StageFailed
from orchestration.runlog import RunRecord
from orchestration.warehouse import prepare_staging, staging_db

START = os.environ.get("FULLSITE_START_DATE", "2024-07-01")
daily = dg.DailyPartitionsDefinition(start_date=START, timezone="Asia/Shanghai")


class FullsiteResource(dg.ConfigurableResource):
    data_root: str
    spark_master: str | None = None

    def pipeline(self) -> Pipeline:
        return _pipeline(str(Path(self.data_root).resolve()), self.spark_master)


_PIPELINES: dict = {}


def _pipeline(root: str, master: str | None) -> Pipeline:
    """One pipeline (and so one Spark session) per process and data root."""
    if (root, master) not in _PIPELINES:
        _PIPELINES[(root, master)] = Pipeline(root, master=master)
    return _PIPELINES[(root, master)]


def _day(context) -> dt.date:
    return dt.date.fromisoformat(context.partition_key)


def _record(pipe: Pipeline, D: dt.date, context) -> RunRecord:
    """The dq.run_log record of this Dagster run: one per run id, shared by its steps even
    when they run in separate processes (it is re-read from its Parquet file)."""
    run_id = f"{D}-dagster-{context.run_id[:8]}"
    if row := runlog.read_one(pipe.layout.root, run_id):
        return RunRecord(run_id, D, row["started_at"], timings=json.loads(row["timings"] or "{}"),
                         message=row["message"], data_docs=row["data_docs"])
    rec = RunRecord(run_id, D, dt.datetime.now(dt.timezone.utc))
    rec.write(pipe.layout.root)
    return rec


def _check(name: str, asset, fn) -> dg.AssetCheckResult:
    try:
        fn()
        return dg.AssetCheckResult(check_name=name, asset_key=asset, passed=True)
    except StageFailed as exc:
        return dg.AssetCheckResult(check_name=name, asset_key=asset, passed=False,
                                   metadata={"reason": exc.message, "data_docs": exc.docs or ""})


def _failed(pipe: Pipeline, rec: RunRecord, result: dg.AssetCheckResult) -> None:
    pipe.fail([rec], rec, StageFailed(result.check_name, result.metadata["reason"].value,
                                      result.metadata["data_docs"].value or None))


RAW_KEYS = [dg.AssetKey(["raw", t]) for t in SCHEMAS]
CURATED_KEYS = [dg.AssetKey(["curated", t]) for t in (
    "fct_product_daily", "fct_product_traffic_daily", "fct_campaign_segment_daily", "fct_product_segment_daily",
    "product_lifecycle_daily", "dq_ingest_reconciliation", "dq_quarantine_summary")]


def _gate_results(name: str, keys: list, result: dg.AssetCheckResult):
    """The gate's verdict on every table it covers (each check blocks what reads that table)."""
    meta = result.metadata
    for key in keys:
        yield dg.AssetCheckResult(check_name=name, asset_key=key, passed=result.passed, metadata=meta)


@dg.multi_asset(specs=[dg.AssetSpec(k, partitions_def=daily, group_name="raw",
                                    description="raw landing zone partition dt=D (data-contract.md)") for k in RAW_KEYS],
                check_specs=[dg.AssetCheckSpec("raw_gate", asset=k, blocking=True) for k in RAW_KEYS])
def raw_landing(context: dg.AssetExecutionContext, fullsite: FullsiteResource):
    """Gate 1: schemas, required partitions and the small tables of D, before Spark reads them."""
    pipe, D = fullsite.pipeline(), _day(context)
    state.check_sequence(pipe.layout.root, D)
    rec = _record(pipe, D, context)
    result = _check("raw_gate", RAW_KEYS[0], lambda: pipe.raw_stage(rec, D))
    if not result.passed:
        _failed(pipe, rec, result)
    for key in RAW_KEYS:
        yield dg.MaterializeResult(asset_key=key, metadata={"ingest_date": str(D)})
    yield from _gate_results("raw_gate", RAW_KEYS, result)


@dg.multi_asset(specs=[dg.AssetSpec(k, partitions_def=daily, group_name="curated", deps=RAW_KEYS) for k in CURATED_KEYS],
                retry_policy=dg.RetryPolicy(max_retries=2, delay=30, backoff=dg.Backoff.EXPONENTIAL),
                check_specs=[dg.AssetCheckSpec("curated_gate", asset=k, blocking=True) for k in CURATED_KEYS])
def curated_layer(context: dg.AssetExecutionContext, fullsite: FullsiteResource):
    """Spark: clean/quarantine (then the quarantine share), attribution, facts, lifecycle; gate 2."""
    pipe, D = fullsite.pipeline(), _day(context)
    rec = _record(pipe, D, context)
    result = _check("curated_gate", CURATED_KEYS[0], lambda: pipe.curated_stage(rec, D))
    rec.write(pipe.layout.root)  # keep the timings for the steps that follow
    if not result.passed:
        _failed(pipe, rec, result)
    timings = json.dumps({k: round(v, 2) for k, v in rec.timings.items()})
    for key in CURATED_KEYS:
        yield dg.MaterializeResult(asset_key=key, metadata={"timings": timings})
    yield from _gate_results("curated_gate", CURATED_KEYS, result)


class FullsiteTranslator(DagsterDbtTranslator):
    """dbt sources are the assets upstream: raw tables land, curated tables come from Spark."""

    def get_asset_key(self, dbt_resource_props):
        if dbt_resource_props["resource_type"] == "source":
            return dg.AssetKey([dbt_resource_props["source_name"], dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)


dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, target_path=Path(os.environ.get(
    "FULLSITE_DBT_TARGET", str(DBT_PROJECT_DIR / "target"))))


def _manifest() -> Path:
    path = dbt_project.manifest_path
    sources = [f for d in ("models", "macros", "tests", "seeds") for f in (DBT_PROJECT_DIR / d).rglob("*") if f.is_file()]
    newest = max([f.stat().st_mtime for f in sources] + [(DBT_PROJECT_DIR / "dbt_project.yml").stat().st_mtime])
    if not path.exists() or path.stat().st_mtime < newest:  # fresh checkout or edited project: parse
        subprocess.run([str(Path(sys.executable).parent / "dbt"), "parse", "--project-dir", str(DBT_PROJECT_DIR),
                        "--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", str(dbt_project.target_path), "--quiet"],
                       check=True, env={**os.environ, "FULLSITE_DATA_ROOT": os.environ.get("FULLSITE_DATA_ROOT", "data/demo")})
    return path


@dbt_assets(manifest=_manifest(), partitions_def=daily, dagster_dbt_translator=FullsiteTranslator(),
            exclude="resource_type:unit_test")
def fullsite_dbt(context: dg.AssetExecutionContext, dbt: DbtCliResource, fullsite: FullsiteResource):
    pipe, D = fullsite.pipeline(), _day(context)
    dbt_vars = prepare_staging(pipe.layout, D, D)
    os.environ["FULLSITE_DATA_ROOT"] = str(pipe.layout.root)
    os.environ["FULLSITE_DBT_DB"] = str(staging_db(pipe.layout))
    yield from dbt.cli(["build", "--vars", json.dumps(dbt_vars)], context=context).stream()


@dg.asset(partitions_def=daily, group_name="publish", deps=[fullsite_dbt],
          check_specs=[dg.AssetCheckSpec("marts_gate", asset="published_warehouse", blocking=True)],
          description="<data-root>/warehouse.duckdb, replaced atomically once the marts gate passes.")
def published_warehouse(context: dg.AssetExecutionContext, fullsite: FullsiteResource):
    pipe, D = fullsite.pipeline(), _day(context)
    rec = _record(pipe, D, context)
    result = _check("marts_gate", "published_warehouse", lambda: pipe.audit_and_publish(rec, [rec], D))
    if not result.passed:
        _failed(pipe, rec, result)
    yield dg.MaterializeResult(metadata={"warehouse": str(pipe.layout.warehouse), "published": result.passed})
    yield result


nightly = dg.define_asset_job("nightly", selection=dg.AssetSelection.all())
nightly_schedule = dg.build_schedule_from_partitioned_job(nightly, hour_of_day=2, minute_of_hour=0)


def resources(data_root: str | None = None) -> dict:
    root = data_root or os.environ.get("FULLSITE_DATA_ROOT", "data/demo")
    return {
        "fullsite": FullsiteResource(data_root=root, spark_master=os.environ.get("FULLSITE_SPARK_MASTER")),
        "dbt": DbtCliResource(project_dir=dbt_project, profiles_dir=str(DBT_PROJECT_DIR),
                              dbt_executable=str(Path(sys.executable).parent / "dbt")),
    }


defs = dg.Definitions(
    assets=[raw_landing, curated_layer, fullsite_dbt, published_warehouse],
    jobs=[nightly],
    schedules=[nightly_schedule],
    resources=resources(),
)
