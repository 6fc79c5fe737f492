"""Dagster definitions: the one way a night runs, whoever starts it.

    raw/<table> (external, observed) ──▶ curated/<table> (Spark) ──▶ dbt models ──▶ published_warehouse
                                          [raw_gate, curated_gate]                    [marts_gate]

One partitioned multi-asset, ``nightly_run``, runs ``Pipeline.run_range`` for its partition
(range): the run lock, the sequence check, interrupted-run detection, the run log and
write–audit–publish are that one code path. The schedule (02:00 Asia/Shanghai, for the day
before), a launch from the UI and ``fullsite run`` / ``fullsite backfill`` (orchestration/
launch.py) all start the job ``nightly``. A backfill is one run over a partition range
(single-run backfill policy, decision D12): Spark cleans all its ingests in one pass (D31)
and builds the facts and the warehouse once. The assets are declared one by one (dbt models from the dbt
manifest, grouped by layer) so that the UI shows what each night wrote; they are
materialized together because they are written together.

    FULLSITE_DATA_ROOT=data/demo DAGSTER_HOME=$PWD/data/demo/dagster dagster dev -m orchestration.definitions
"""

import datetime as dt
import graphlib
import os
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtProject, build_dbt_asset_specs
from pydantic import PrivateAttr

from fullsite import curated, dbt_artifacts
from fullsite.contract import BUSINESS_TZ, SCHEMAS
from fullsite.layout import Layout, data_files
from fullsite.published import PUBLISHED_SCHEMAS
from fullsite.rules import DBT_PROJECT_DIR
from orchestration import progress
from orchestration.pipeline import Pipeline, StageFailed
from orchestration.state import RunRefused

JOB = "nightly"
GATES = {"raw": "raw_gate", "curated": "curated_gate", "marts": "marts_gate"}
DEFAULT_START = "2024-07-01"  # only when the data root has no raw partition yet
CURATED = curated.DBT_SOURCES  # the curated tables dbt reads (fullsite/curated.py)


class FullsiteResource(dg.ConfigurableResource):
    """The data root's pipeline for one run. Its Spark session lives as long as the run and
    is stopped at teardown (unless the process already had one: the tests' shared session)."""

    data_root: str
    spark_master: str | None = None
    _pipeline: Pipeline | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._pipeline = Pipeline(Path(self.data_root).resolve(), master=self.spark_master, progress=progress.report)

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._pipeline is not None:
            self._pipeline.close()

    @property
    def pipeline(self) -> Pipeline:
        if self._pipeline is None:
            raise RuntimeError("the fullsite resource is used outside a run")
        return self._pipeline


def first_date(root: Path) -> str:
    """The first ingest date of the data root: where its partitions start."""
    dates = [p.name[3:] for t in SCHEMAS for p in Layout(root).raw(t).glob("dt=*") if data_files(p)]
    return min(dates) if dates else os.environ.get("FULLSITE_START_DATE", DEFAULT_START)


# ------------------------------------------------------------------------------- dbt

LAYERS = ("staging", "intermediate", *PUBLISHED_SCHEMAS)


class FullsiteTranslator(DagsterDbtTranslator):
    """dbt sources are the assets upstream (raw tables land, curated tables come from
    Spark); models are grouped by layer and described by their dbt description."""

    def get_asset_key(self, props):
        if props["resource_type"] == "source":
            return dg.AssetKey([props["source_name"], props["name"]])
        return super().get_asset_key(props)

    def get_group_name(self, props):
        layer = props.get("schema") or ""
        return layer if layer in LAYERS else "dbt"

    def get_description(self, props):
        return props.get("description") or f"dbt {props['resource_type']} {props['name']}"

    def get_metadata(self, props):
        schema = props.get("schema")
        # Only the published schemas exist in the warehouse file analysts open.
        if schema in PUBLISHED_SCHEMAS:
            return {"dagster/table_name": f"warehouse.{schema}.{props['alias'] or props['name']}"}
        return {}


dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, target_path=dbt_artifacts.target_dir())


# ---------------------------------------------------------------------------- assets

RAW_KEYS = [dg.AssetKey(["raw", t]) for t in SCHEMAS]
CURATED_KEYS = [dg.AssetKey(["curated", t]) for t in CURATED]
PUBLISHED = dg.AssetKey("published_warehouse")
BRIEF = dg.AssetKey("nightly_brief")


def raw_specs() -> list[dg.AssetSpec]:
    """External assets: they land from upstream; a run observes them, never writes them."""
    return [dg.AssetSpec(k, group_name="raw", kinds={"parquet"},
                         description=f"Landing zone raw/{k.path[-1]}/dt=D (data-contract.md); files land from upstream.")
            for k in RAW_KEYS]


def _asset_specs(partitions: dg.PartitionsDefinition) -> tuple[list[dg.AssetSpec], list[dg.AssetCheckSpec]]:
    curated = [dg.AssetSpec(k, deps=RAW_KEYS, group_name="curated", kinds={"spark", "parquet"},
                            partitions_def=partitions, description=f"Spark output curated/{k.path[-1]}/ (read by dbt)")
               for k in CURATED_KEYS]
    dbt = [s.replace_attributes(partitions_def=partitions, kinds={"dbt", "duckdb"})
           for s in build_dbt_asset_specs(manifest=dbt_artifacts.parsed(), dagster_dbt_translator=FullsiteTranslator(),
                                          exclude="resource_type:unit_test")]
    published_deps = [s.key for s in dbt if s.group_name in PUBLISHED_SCHEMAS]
    # Descriptions are Markdown in the UI: paths with <placeholders> go in code spans.
    published = dg.AssetSpec(PUBLISHED, deps=published_deps, group_name="publish", kinds={"duckdb"}, partitions_def=partitions,
                             description="`<data-root>/warehouse.duckdb`: replaced in one os.replace once the marts gate passes.")
    checks = [dg.AssetCheckSpec(GATES[g], asset=k, blocking=True, description=f"the {g} gate (Great Expectations)")
              for g in ("raw", "curated") for k in CURATED_KEYS]
    checks.append(dg.AssetCheckSpec(GATES["marts"], asset=PUBLISHED, blocking=True, description="the marts gate"))
    return [*curated, *dbt, published], checks


def _gate_metadata(results, failure: StageFailed | None, gate: str) -> tuple[bool, dict]:
    """One gate's verdict over the run (it runs once per ingest for raw) and what to read."""
    ran = [r for r in results if r.gate == gate]
    passed = all(r.passed for r in ran) and not (failure and failure.gate == gate)
    findings = [f"{f.severity}: {f.line()}" for r in ran for f in r.findings]
    if failure and failure.gate == gate and not any(not r.passed for r in ran):
        findings.append(f"error: {failure.message}")  # dbt's own tests fail under the marts gate
    docs = next((r.docs for r in reversed(ran) if r.docs), None) or (failure.docs if failure else None)
    meta = {
        "checks evaluated": sum(r.evaluated for r in ran),
        "errors": sum(len(r.errors) for r in ran) or int(not passed),
        "warnings": sum(len(r.warnings) for r in ran),
        "findings": dg.MetadataValue.md("\n".join(f"* {line}" for line in findings) or "none"),
    }
    if docs:
        meta["data docs"] = dg.MetadataValue.path(docs)
    return passed, meta


def _observe_raw(context, layout: Layout, first: dt.date, last: dt.date) -> None:
    for key in RAW_KEYS:
        table = key.path[-1]
        for k in range((last - first).days + 1):
            day = first + dt.timedelta(days=k)
            files = data_files(layout.raw(table, day))
            context.log_event(dg.AssetObservation(asset_key=key, partition=str(day), metadata={
                "files": len(files), "bytes": sum(f.stat().st_size for f in files)}))


def _mark_stale_runs_failed(context) -> None:
    """Inside the run lock no other run is alive: a Dagster run still 'started' was killed."""
    stale = context.instance.get_run_records(dg.RunsFilter(job_name=JOB, statuses=[dg.DagsterRunStatus.STARTED]))
    for record in stale:
        if record.dagster_run.run_id != context.run.run_id:
            context.instance.report_run_failed(record.dagster_run, "interrupted: the process ended before the run finished")


def _topological(specs: list[dg.AssetSpec]) -> list[dg.AssetSpec]:
    """Materializations of one multi-asset are reported upstream first."""
    by_key = {s.key: s for s in specs}
    graph = {s.key: {d.asset_key for d in s.deps if d.asset_key in by_key} for s in specs}
    return [by_key[k] for k in graphlib.TopologicalSorter(graph).static_order()]


def build_nightly(partitions: dg.PartitionsDefinition):
    specs, checks = _asset_specs(partitions)
    specs = _topological(specs)

    @dg.multi_asset(name="nightly_run", specs=specs, check_specs=checks, partitions_def=partitions, can_subset=False,
                    backfill_policy=dg.BackfillPolicy.single_run(), op_tags={"kind": "spark+dbt"})
    def nightly_run(context: dg.AssetExecutionContext, fullsite: FullsiteResource):
        """Raw gate, Spark, curated gate, dbt, marts gate, publication: ``Pipeline.run_range``."""
        keys = context.partition_key_range
        first, last = dt.date.fromisoformat(keys.start), dt.date.fromisoformat(keys.end)
        pipe = fullsite.pipeline
        pipe.on_locked, pipe.dagster_run_id = (lambda: _mark_stale_runs_failed(context)), context.run.run_id
        failure = None
        try:
            records = pipe.run_range(first, last)
        except RunRefused as exc:
            raise dg.Failure(description=str(exc), metadata={"refused": True}) from None
        except StageFailed as exc:
            failure, records = exc, []
        _observe_raw(context, pipe.layout, first, last)
        if failure is None:
            run = records[-1]
            timings = {k: round(v, 2) for k, v in run.timings.items()}
            for spec in specs:
                meta: dict[str, Any] = {"run_id": run.run_id, "ingest dates": f"{first} … {last}"}
                if spec.key == PUBLISHED:
                    meta.update(warehouse=dg.MetadataValue.path(str(pipe.layout.warehouse)),
                                timings=dg.MetadataValue.json(timings))
                yield dg.MaterializeResult(asset_key=spec.key, metadata=meta)
        for gate, name in GATES.items():
            if not any(r.gate == gate for r in pipe.gate_results) and not (failure and failure.gate == gate):
                continue  # not reached
            passed, meta = _gate_metadata(pipe.gate_results, failure, gate)
            for key in (CURATED_KEYS if gate != "marts" else [PUBLISHED]):
                yield dg.AssetCheckResult(check_name=name, asset_key=key, passed=passed, metadata=meta,
                                          severity=dg.AssetCheckSeverity.ERROR)
        if failure is not None:
            raise dg.Failure(description=failure.message, metadata={
                "gate": failure.gate or "none", "data docs": failure.docs or ""})

    return nightly_run


@dg.asset(key=BRIEF, deps=[PUBLISHED], group_name="publish", kinds={"html"},
          description="`<data-root>/reports/brief/<date>.html` and `latest.html`: the night on one page, drawn from the "
                      "published file after each publication (and every published night still missing its page). "
                      "A brief that cannot be drawn never undoes the night: the next run, or `fullsite brief`, draws it.")
def nightly_brief(context: dg.AssetExecutionContext, fullsite: FullsiteResource):
    """The brief of the night just published, read from the published warehouse (publications/brief.py)."""
    from publications.brief import BriefFailed, draw_briefs

    layout = fullsite.pipeline.layout
    try:
        drawn = draw_briefs(layout)
    except (BriefFailed, OSError) as exc:  # published is published: say why, and leave it owed
        context.log.warning(f"brief not drawn: {exc} (the next run or `fullsite brief` draws it)")
        return dg.MaterializeResult(metadata={"drawn": "none", "why": str(exc)})
    last = max(drawn) if drawn else None
    return dg.MaterializeResult(metadata={
        "drawn": ", ".join(str(d) for d in sorted(drawn)) or "none",
        **({"brief": dg.MetadataValue.path(str(drawn[last])), "ingest date": str(last)} if last else {})})


def build_definitions(data_root: str | Path | None = None) -> dg.Definitions:
    root = Path(data_root or os.environ.get("FULLSITE_DATA_ROOT", "data/demo"))
    daily = dg.DailyPartitionsDefinition(start_date=first_date(root), timezone=BUSINESS_TZ)
    nightly_run = build_nightly(daily)
    job = dg.define_asset_job(JOB, selection=dg.AssetSelection.assets(nightly_run, nightly_brief),
                              description="One night (or a range): gates, Spark, dbt, publication; then the brief.")
    # Off until an operator turns it on (README): a data root is often a copy or a demo.
    schedule = dg.build_schedule_from_partitioned_job(job, hour_of_day=2, minute_of_hour=0,
                                                      default_status=dg.DefaultScheduleStatus.STOPPED)
    return dg.Definitions(
        assets=[*raw_specs(), nightly_run, nightly_brief],
        jobs=[job],
        schedules=[schedule],
        resources={"fullsite": FullsiteResource(data_root=str(root.resolve()),
                                                spark_master=os.environ.get("FULLSITE_SPARK_MASTER"))},
        executor=dg.in_process_executor,  # one process per run: the lock and the Spark session are the run's
    )


defs = build_definitions()
