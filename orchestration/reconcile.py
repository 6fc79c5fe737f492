"""One record of a run whose process ended before it finished (issue 44).

A run killed or crashed leaves its records open ("running") and its Dagster run STARTED;
killed right after the swap, its night is published but Dagster has no materialization of
it and its warnings were never told. Once no run is alive — the next run holding the lock,
or `fullsite status` finding the lock free — Dagster's record is completed first, and the
run log is then written from it (orchestration/outcome.py):

* Dagster: the run FAILURE, and, if it published, the night's materializations, recorded
  with the run that made them;
* the run log: ``interrupted``, saying whether the night was published;
* the alerts: the digest of its warnings, told once.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from fullsite.layout import Layout
from orchestration import outcome, runlog, state
from orchestration.names import JOB, PUBLISHED
from orchestration.night_alerts import alerts_after
from orchestration.runlog import RunRecord

INTERRUPTED = "interrupted: the process ended before the run finished (killed, crashed, restarted)"


def reconcile(root: Path, inst: dg.DagsterInstance, current: str | None = None) -> list[RunRecord]:
    """Call holding the run lock (``current``: the Dagster run that holds it, if any).
    Returns the run-log records it marked interrupted."""
    _fail_stale_runs(root, inst, current)
    settled = outcome.settle_ended(root, inst)
    made = state.published_build(root)
    # open records no Dagster run speaks for: a run outside Dagster (the benchmark probe)
    orphans = runlog.mark_interrupted(root, made.run_id if made else None)
    marked = [r for r in settled if r.status == "interrupted"] + orphans
    published = [r for r in marked if r.message == runlog.PUBLISHED_THEN_ENDED]
    if published:
        _record_publication(root, inst, published)
    return marked


def _fail_stale_runs(root: Path, inst: dg.DagsterInstance, current: str | None) -> None:
    """Dagster runs STARTED whose process is gone end FAILURE. Holding the lock for a run
    (``current``), every other STARTED run is gone; otherwise only those whose records say
    their process ended (a run still starting up holds no record yet)."""
    stale = inst.get_run_records(
        dg.RunsFilter(job_name=JOB, statuses=[dg.DagsterRunStatus.STARTED])
    )
    ended = {
        r["dagster_run_id"]
        for r in runlog.open_rows(root)
        if runlog.process_gone(root, r["run_id"])
    }
    for record in stale:
        run_id = record.dagster_run.run_id
        if run_id != current and (current is not None or run_id in ended):
            inst.report_run_failed(record.dagster_run, INTERRUPTED)


def _record_publication(root: Path, inst: dg.DagsterInstance, nights: list[RunRecord]) -> None:
    """The nights a killed run published: materialized in Dagster, night after night, and
    its warnings told (what the run would have done had it lived a second longer)."""
    for rec in sorted(nights, key=lambda r: r.ingest_date):
        inst.report_runless_asset_event(
            dg.AssetMaterialization(
                asset_key=PUBLISHED,
                partition=str(rec.ingest_date),
                metadata={
                    "ingest date": str(rec.ingest_date),
                    "run_id": rec.run_id,
                    "dagster run": rec.dagster_run_id or "",
                    "recorded": "after its run ended right after publishing (killed or crashed)",
                },
            )
        )
    dagster_run = nights[-1].dagster_run_id or nights[-1].run_id
    alerts_after(Layout(root), dagster_run, nights, None)
