"""Dagster definitions: the one way a night runs, whoever starts it.

    raw/<table> (external) ──▶ curated/<table> (Spark) ──▶ dbt models ──▶ published_warehouse
                                [raw_gate, curated_gate]                   [marts_gate]

One partitioned multi-asset, ``nightly_run``, runs ``Pipeline.run_range`` for its partition
(range): the run lock, the sequence check, interrupted-run detection, the run log and
write–audit–publish are that one code path; the brief is drawn after it, by an asset of
its own (D40). The landing sensor (a night starts when it is complete, D43), the schedule
(02:00 Asia/Shanghai, off by default), a launch from the UI and ``fullsite run`` /
``fullsite backfill`` (orchestration/launch.py) all start the job ``nightly``. A backfill is
one run over a partition range (single-run backfill policy, D12): Spark cleans all its
ingests in one pass (D31) and builds the facts and the warehouse once. The assets are
declared one by one (dbt models from the dbt manifest, grouped by layer) so that the UI
shows what each night wrote, night by night: the partitions are the nights that exist
(dynamic, added by the sensor and by each run), each materialization carries its own
night's run id and timings, and each raw gate is a check of the raw assets, evaluated per
night.

    FULLSITE_DATA_ROOT=data/demo DAGSTER_HOME=$PWD/data/demo/dagster dagster dev -m
    orchestration.definitions
"""

import datetime as dt
import graphlib
import json
import os
import shlex
import warnings
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtProject, build_dbt_asset_specs
from pydantic import PrivateAttr

from fullsite import curated, dbt_artifacts, settings
from fullsite.contract import BUSINESS_TZ, SCHEMAS
from fullsite.layout import Layout, data_files
from fullsite.published import PUBLISHED_SCHEMAS
from fullsite.rules import DBT_PROJECT_DIR
from orchestration import adjustments, alerts, faults, progress, runlog, watch
from orchestration.alerts import GATE_STAGES, Alert, tell
from orchestration.names import (
    BRIEF,
    JOB,
    NIGHTS_NAME,
    PUBLISHED,
    RANGE_END,
    REFUSED,
    RESTATE,
)
from orchestration.night_alerts import told
from orchestration.outcome import settle, settle_ended
from orchestration.pipeline import Pipeline, StageFailed
from orchestration.reconcile import reconcile
from orchestration.state import RunRefused
from publications.brief import BriefFailed, draw_briefs

GATES = {g: f"{g}_gate" for g in GATE_STAGES}  # the asset check of each gate
CURATED = curated.DBT_SOURCES  # the curated tables dbt reads (fullsite/curated.py)
NIGHTS = dg.DynamicPartitionsDefinition(name=NIGHTS_NAME)  # added by the sensor and by runs
# Gate checks per night are partitioned asset checks, which Dagster marks as a preview.
warnings.filterwarnings("ignore", message="Specifying a partitions_def on an AssetCheckSpec")


class FullsiteResource(dg.ConfigurableResource):
    """The data root's pipeline for one run. Its Spark session lives as long as the run and
    is stopped at teardown (unless the process already had one: the tests' shared session)."""

    data_root: str
    spark_master: str | None = None
    _pipeline: Pipeline | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._pipeline = Pipeline(
            Path(self.data_root).resolve(), master=self.spark_master, progress=progress.report
        )

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._pipeline is not None:
            self._pipeline.close()

    @property
    def pipeline(self) -> Pipeline:
        if self._pipeline is None:
            raise RuntimeError("the fullsite resource is used outside a run")
        return self._pipeline


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
GATE_KEYS = {"raw": RAW_KEYS, "curated": CURATED_KEYS, "marts": [PUBLISHED]}


def raw_specs() -> list[dg.AssetSpec]:
    """External assets: they land from upstream; a run observes them, never writes them."""
    return [
        dg.AssetSpec(
            k,
            group_name="raw",
            kinds={"parquet"},
            partitions_def=NIGHTS,
            description=f"Landing zone raw/{k.path[-1]}/dt=D (data-contract.md); files land from "
            f"upstream.",
        )
        for k in RAW_KEYS
    ]


def _asset_specs() -> list[dg.AssetSpec]:
    # skippable: a refused run (another run holds the lock) materializes nothing and fails nothing
    curated = [
        dg.AssetSpec(
            k,
            deps=RAW_KEYS,
            group_name="curated",
            kinds={"spark", "parquet"},
            skippable=True,
            partitions_def=NIGHTS,
            description=f"Spark output curated/{k.path[-1]}/ (read by dbt)",
        )
        for k in CURATED_KEYS
    ]
    dbt = [
        s.replace_attributes(partitions_def=NIGHTS, kinds={"dbt", "duckdb"}, skippable=True)
        for s in build_dbt_asset_specs(
            manifest=dbt_artifacts.parsed(),
            dagster_dbt_translator=FullsiteTranslator(),
            exclude="resource_type:unit_test",
        )
    ]
    published_deps = [s.key for s in dbt if s.group_name in PUBLISHED_SCHEMAS]
    # Descriptions are Markdown in the UI: paths with <placeholders> go in code spans.
    published = dg.AssetSpec(
        PUBLISHED,
        deps=published_deps,
        group_name="publish",
        kinds={"duckdb"},
        partitions_def=NIGHTS,
        skippable=True,
        description="`<data-root>/warehouse.duckdb`: replaced in one os.replace once the marts "
        "gate passes.",
    )
    brief = dg.AssetSpec(
        BRIEF,
        deps=[PUBLISHED],
        group_name="publish",
        kinds={"html"},
        partitions_def=NIGHTS,
        skippable=True,
        description=BRIEF_DESCRIPTION,
    )
    return [*curated, *dbt, published, brief]


BRIEF_DESCRIPTION = (
    "`<data-root>/reports/brief/<date>.html` and `latest.html`: the night on one page, drawn from "
    "the published file after each publication (and every published night still missing its "
    "page). A brief that cannot be drawn never undoes the night: the next run, or `fullsite "
    "brief`, draws it."
)


GATE_DESCRIPTIONS = {
    "raw": "The raw gate of the night (Great Expectations): the files against the contract, the "
    "snapshot tables, volumes, the quarantine share, and the partitions ingested before "
    "still unchanged.",
    "curated": "The curated gate (keys, reconciliation, totals tie out); a backfill runs it once, "
    "with its last night.",
    "marts": "The marts gate and dbt's tests; a backfill runs them once, with its last night.",
}


@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec(
            GATES[g], asset=k, partitions_def=NIGHTS, description=GATE_DESCRIPTIONS[g]
        )
        for g, keys in GATE_KEYS.items()
        for k in keys
    ],
    can_subset=True,
)
def gate_results(context: dg.AssetCheckExecutionContext, fullsite: FullsiteResource):
    """The gates run inside the nightly job (they must stop a night before anything reads
    it) and report each night there. Executed on its own, this says again what the run
    log recorded for each gate of the latest night."""
    records = runlog.read_all(Path(fullsite.data_root))
    for key in context.selected_asset_check_keys:
        gate = next(g for g, name in GATES.items() if name == key.name)
        seen = next(
            (
                json.loads(r["gates"] or "{}").get(gate)
                for r in reversed(records)
                if json.loads(r["gates"] or "{}").get(gate)
            ),
            None,
        )
        yield dg.AssetCheckResult(
            asset_key=key.asset_key,
            check_name=key.name,
            passed=bool(seen and seen["passed"]),
            metadata={"findings": dg.MetadataValue.md(_findings_md(seen or {}))},
        )


def _findings_md(seen: dict) -> str:
    lines = [f"error: {x}" for x in seen.get("errors", [])] + [
        f"warning: {x}" for x in seen.get("warnings", [])
    ]
    return "\n".join(f"* {line}" for line in lines) or "none"


def _gate_evaluations(records, failure: StageFailed | None):
    """Each night's own gate results as check evaluations of that night's partition: the raw
    gate per night on the raw assets, the curated and marts gates on the night that ran them
    (a backfill's last), a stage's failure under the gate it stopped (dbt's tests: marts)."""
    for rec in records:
        for gate, keys in GATE_KEYS.items():
            seen = dict(rec.gates.get(gate) or {})
            failed_here = failure is not None and failure.gate == gate and rec.failed_gate == gate
            if not seen and not failed_here:
                continue  # not reached, or ran with another night
            if failed_here and not seen.get("errors"):
                seen = {**seen, "passed": False, "errors": [failure.message]}  # type: ignore[union-attr]
            passed = bool(seen.get("passed", True)) and not failed_here
            meta: dict[str, Any] = {
                "ingest date": str(rec.ingest_date),
                "run_id": rec.run_id,
                "checks evaluated": seen.get("evaluated", 0),
                "errors": len(seen.get("errors", [])),
                "warnings": len(seen.get("warnings", [])),
                "findings": dg.MetadataValue.md(_findings_md(seen)),
            }
            docs = rec.data_docs or (failure.docs if failed_here and failure else None)
            if docs:
                meta["data docs"] = dg.MetadataValue.path(docs)
            if rec.shared_with is None and gate != "raw" and len(records) > 1:
                meta["nights"] = (
                    f"{records[0].ingest_date} … {records[-1].ingest_date} (one run for the "
                    f"backfill)"
                )
            for key in keys:
                yield dg.AssetCheckEvaluation(
                    asset_key=key,
                    check_name=GATES[gate],
                    passed=passed,
                    metadata=meta,
                    partition=str(rec.ingest_date),
                    severity=dg.AssetCheckSeverity.ERROR,
                )


def _observe_raw(layout: Layout, nights: list[dt.date]):
    for key in RAW_KEYS:
        table = key.path[-1]
        for day in nights:
            files = data_files(layout.raw(table, day))
            yield dg.AssetObservation(
                asset_key=key,
                partition=str(day),
                metadata={"files": len(files), "bytes": sum(f.stat().st_size for f in files)},
            )


def _topological(specs: list[dg.AssetSpec]) -> list[dg.AssetSpec]:
    """Materializations of one multi-asset are reported upstream first."""
    by_key = {s.key: s for s in specs}
    graph = {s.key: {d.asset_key for d in s.deps if d.asset_key in by_key} for s in specs}
    return [by_key[k] for k in graphlib.TopologicalSorter(graph).static_order()]


def _night_metadata(rec, dagster_run_id: str, timings: bool) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "ingest date": str(rec.ingest_date),
        "run_id": rec.run_id,
        "dagster run": dagster_run_id,
        "started": rec.started_at.isoformat(timespec="seconds"),
        "finished": rec.finished_at.isoformat(timespec="seconds") if rec.finished_at else None,
    }
    if rec.shared_with:
        meta["stages shared with"] = rec.shared_with
    if timings:
        meta["timings (s)"] = dg.MetadataValue.json(
            {k: round(v, 2) for k, v in rec.timings.items()}
        )
    return meta


def build_nightly():
    specs = _topological(_asset_specs())

    @dg.multi_asset(
        name="nightly_run",
        specs=specs,
        partitions_def=NIGHTS,
        can_subset=False,
        backfill_policy=dg.BackfillPolicy.single_run(),
        op_tags={"kind": "spark+dbt"},
    )
    def nightly_run(context: dg.AssetExecutionContext, fullsite: FullsiteResource):
        """Raw gate, Spark, curated gate, dbt, marts gate, publication: ``Pipeline.run_range``."""
        pipe = fullsite.pipeline
        failure = _run_nights(context, pipe)
        records = pipe.records
        for evaluation in _gate_evaluations(records, failure):
            context.log_event(evaluation)
        # Yielded, not logged: yielding is what hands the logged evaluations over, also
        # when the step then fails (a failing step's unflushed events are dropped).
        yield from _observe_raw(pipe.layout, [r.ingest_date for r in records])
        if pipe.new_adjustments:
            last = dt.date.fromisoformat(context.partition_key_range.end)
            said = adjustments.alert(pipe.layout, context.run.run_id, last, pipe.new_adjustments)
            tell(pipe.layout, said)
        if failure is not None:  # the run log's words for it too (orchestration/outcome.py)
            night = pipe.current.run_id if pipe.current else ""
            raise dg.Failure(
                description=failure.message,
                metadata={
                    "gate": failure.gate or "none",
                    "data docs": failure.docs or "",
                    "run_id": night,
                },
            )
        _materialize(context, specs, pipe)
        _draw_brief(context, pipe.layout)

    return nightly_run


def _run_nights(context: dg.AssetExecutionContext, pipe: Pipeline) -> StageFailed | None:
    """``Pipeline.run_range`` over the run's partition range; the stage that failed, if any.
    A refusal ran nothing: said in one line, and the run fails, so no entry point says
    success."""
    keys = context.partition_key_range
    first, last = dt.date.fromisoformat(keys.start), dt.date.fromisoformat(keys.end)
    # Inside the lock no other run is alive: what an ended run left is reconciled first.
    pipe.on_locked = lambda: reconcile(pipe.layout.root, context.instance, context.run.run_id)
    pipe.dagster_run_id = context.run.run_id
    try:
        pipe.run_range(first, last, restate=context.run.tags.get(RESTATE) == "true")
    except RunRefused as exc:
        context.instance.add_run_tags(context.run.run_id, {REFUSED: str(exc)[:1000]})
        raise dg.Failure(description=f"refused: {exc}", metadata={"refused": str(exc)}) from None
    except StageFailed as exc:
        return exc
    return None


def _materialize(
    context: dg.AssetExecutionContext, specs: list[dg.AssetSpec], pipe: Pipeline
) -> None:
    """What the run made, upstream first and night after night, so that the latest
    materialization Dagster holds is the last night (a range's outputs would be recorded in
    no particular order, issue 44): the curated tables and the published warehouse per
    night; the dbt models, which a range builds once, with its last night (each event is a
    write to Dagster's storage: a 10-night backfill wrote 700 of them, 9 s, issue 46)."""
    nights = sorted(pipe.records, key=lambda r: r.ingest_date)
    for spec in specs:
        if spec.key == BRIEF:
            continue
        per_night = spec.key == PUBLISHED or spec.key in CURATED_KEYS
        for rec in nights if per_night else nights[-1:]:
            meta = _night_metadata(rec, context.run.run_id, timings=spec.key == PUBLISHED)
            if spec.key == PUBLISHED:
                meta["warehouse"] = dg.MetadataValue.path(str(pipe.layout.warehouse))
            elif not per_night and len(nights) > 1:
                meta["nights"] = (
                    f"{nights[0].ingest_date} … {rec.ingest_date} (built once for the range)"
                )
            context.log_event(
                dg.AssetMaterialization(
                    asset_key=spec.key, partition=str(rec.ingest_date), metadata=meta
                )
            )


def _draw_brief(context: dg.AssetExecutionContext, layout: Layout) -> None:
    """The brief of the night just published (and of every published night still missing
    its page), read from the published warehouse (publications/brief.py). A brief that
    cannot be drawn never undoes the night: the next run, or `fullsite brief`, draws it."""
    faults.crash_point("during-brief")
    try:
        drawn = draw_briefs(layout)
    except (BriefFailed, OSError) as exc:  # published is published: say why, and leave it owed
        context.log.warning(f"brief not drawn: {exc} (the next run or `fullsite brief` draws it)")
        return
    for day in sorted(drawn):
        context.log_event(
            dg.AssetMaterialization(
                asset_key=BRIEF,
                partition=str(day),
                metadata={"brief": dg.MetadataValue.path(str(drawn[day])), "ingest date": str(day)},
            )
        )


# --------------------------------------------------------------------------- automation


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dg.sensor(
    job_name=JOB,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Starts the night's run once it is complete (D43): the snapshot and change-log "
    "tables have landed in dt=D, and each event table has landed or its landing "
    "deadline has passed. One night at a time, in sequence, never twice; a gap is "
    "said, not jumped. Off until an operator turns it on.",
)
def landing_sensor(context: dg.SensorEvaluationContext, fullsite: FullsiteResource):
    decision = watch.next_night(Layout(Path(fullsite.data_root)), _now())
    if decision.night is None:
        return dg.SkipReason(decision.said)
    key = str(decision.night)
    return dg.SensorResult(
        run_requests=[dg.RunRequest(run_key=f"night-{key}", partition_key=key)],
        dynamic_partitions_requests=[NIGHTS.build_add_request([key])],
    )


@dg.sensor(
    minimum_interval_seconds=300,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Tells someone, once, when the next night is not published by its deadline "
    "(publish_deadline_hours after the end of its ingest date, Asia/Shanghai).",
)
def deadline_sensor(context: dg.SensorEvaluationContext, fullsite: FullsiteResource):
    layout = Layout(Path(fullsite.data_root))
    now = _now()
    if said := watch.stale(layout, now):
        # said once in the sensor's log; every tick shows it as its reason
        if context.cursor != said:
            context.log.info(said)
            context.update_cursor(said)
        return dg.SkipReason(said)
    late = watch.overdue(layout, now)
    if late is None:
        return dg.SkipReason("no night is past its publication deadline")
    return dg.SkipReason(f"{late.ingest_date} is late: {told(tell(layout, late))}")


@dg.sensor(
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Delivers again, backing off (a minute, doubling, at most an hour apart), every "
    "alert a channel did not take, until it does or an operator acknowledges it "
    "(fullsite acknowledge --alerts). Its last evaluation lists what is still "
    "undelivered.",
)
def alert_retry_sensor(context: dg.SensorEvaluationContext, fullsite: FullsiteResource):
    layout = Layout(Path(fullsite.data_root))
    for pending, outcome in alerts.retry(layout, _now()):
        context.log.info(f"alert {pending.alert.key}: {told(outcome)}")
    left = alerts.undelivered(layout)
    if not left:
        return dg.SkipReason("every alert was delivered")
    return dg.SkipReason(
        f"{len(left)} alert{'s' if len(left) != 1 else ''} not delivered yet: "
        + " | ".join(p.said() for p in left[:5])
    )


@dg.sensor(
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Writes the run log from Dagster's record: once a run is over, its status, "
    "its refusal or its step's failure become its nights' records in dq.run_log "
    "(orchestration/outcome.py), so the run log and `fullsite status` say what Dagster says; "
    "the run's alert (its failure, or its warnings) is told from the same outcome, once.",
)
def run_record_sensor(context: dg.SensorEvaluationContext, fullsite: FullsiteResource):
    written = settle_ended(Path(fullsite.data_root), context.instance, interrupted=False)
    for rec in written:
        context.log.info(f"run log: {rec.run_id} {rec.status}")
    return dg.SkipReason(
        f"{len(written)} run-log record{'s' if len(written) != 1 else ''} written from Dagster"
    )


@dg.run_failure_sensor(
    default_status=dg.DefaultSensorStatus.RUNNING,
    monitor_all_code_locations=False,
    description="Tells someone when a nightly run fails in a way it could not tell itself (killed, "
    "or failed before its step ran); a failure the run told is not told twice.",
)
def run_failure_alert(context: dg.RunFailureSensorContext, fullsite: FullsiteResource):
    run = context.dagster_run
    if run.job_name != JOB or REFUSED in run.tags:  # a refusal ran nothing: nobody is woken
        return
    # the run's own alert, from its outcome, first (orchestration/outcome.py); what follows
    # is then "already told" — unless nothing of the run could tell (killed before a record)
    settle(Path(fullsite.data_root), context.instance, run.run_id, interrupted=False)
    night = run.tags.get("dagster/partition") or run.tags.get(RANGE_END) or "?"
    why = (context.failure_event.message or "the run failed").strip().splitlines()[0]
    tell(
        Layout(Path(fullsite.data_root)),
        Alert(
            key=f"failed/{run.run_id}",
            ingest_date=night,
            status="failed",
            stage="run",
            summary=f"the Dagster run {run.run_id} of {night} failed",
            findings=[why],
            next_step=f"Read the run's log in Dagster, then run the night again: "
            f"fullsite run --data-root {shlex.quote(fullsite.data_root)} --date {night}",
        ),
    )


def _from_environment(name: str) -> str | None:
    """A resource field from its setting: a ``dg.EnvVar`` when the variable is set (the UI
    shows the run's configuration as coming from it), else the setting's default."""
    return dg.EnvVar(name) if os.environ.get(name) else settings.get(name)


def _resource(data_root: str | Path | None) -> FullsiteResource:
    """A run started by ``fullsite`` names its data root; ``dagster dev`` takes it, and the
    Spark master, from the environment (fullsite/settings.py)."""
    master = _from_environment("FULLSITE_SPARK_MASTER")
    if data_root is not None:
        return FullsiteResource(data_root=str(Path(data_root).resolve()), spark_master=master)
    return FullsiteResource(
        data_root=_from_environment("FULLSITE_DATA_ROOT") or "data/demo", spark_master=master
    )


def build_definitions(data_root: str | Path | None = None) -> dg.Definitions:
    nightly_run = build_nightly()
    job = dg.define_asset_job(
        JOB,
        selection=dg.AssetSelection.assets(nightly_run).without_checks(),
        description="One night (or a range): gates, Spark, dbt, publication; then the brief.",
    )

    # Off until an operator turns it on (README): a data root is often a copy or a demo.
    @dg.schedule(
        name=f"{JOB}_schedule",
        cron_schedule="0 2 * * *",
        execution_timezone=BUSINESS_TZ,
        job=job,
        default_status=dg.DefaultScheduleStatus.STOPPED,
        description="02:00 Asia/Shanghai, the day before, whether or not its files have landed "
        "(the landing sensor waits for them instead).",
    )
    def nightly_schedule(context: dg.ScheduleEvaluationContext):
        night = (
            context.scheduled_execution_time.astimezone(ZoneInfo(BUSINESS_TZ)).date()
            - dt.timedelta(days=1)
        ).isoformat()
        # the night exists once it is asked for
        context.instance.add_dynamic_partitions(NIGHTS_NAME, [night])
        return dg.RunRequest(run_key=f"scheduled-{night}", partition_key=night)

    return dg.Definitions(
        assets=[*raw_specs(), nightly_run],
        asset_checks=[gate_results],
        jobs=[job],
        schedules=[nightly_schedule],
        sensors=[
            landing_sensor,
            deadline_sensor,
            alert_retry_sensor,
            run_record_sensor,
            run_failure_alert,
        ],
        resources={"fullsite": _resource(data_root)},
        # one process per run: the lock and the Spark session are the run's
        executor=dg.in_process_executor,
    )


defs = build_definitions()
