"""One record of a run whose process ended before it finished (issue 44).

A run killed or crashed leaves its run-log record "running" and its Dagster run STARTED;
killed right after the swap, its night is published but Dagster has no materialization of
it and its warnings were never told. Once no run is alive — the next run holding the lock,
or `fullsite status` finding the lock free — the three are brought to say the same thing:

* the run log: ``interrupted``, saying whether the night was published;
* Dagster: the run FAILURE, and, if it published, the night's materializations, recorded
  with the run that made them;
* the alerts: the digest of its warnings, told once.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from fullsite.layout import Layout
from orchestration import runlog, state
from orchestration.names import JOB, PUBLISHED
from orchestration.night_alerts import alerts_after
from orchestration.runlog import RunRecord


def reconcile(root: Path, inst: dg.DagsterInstance, current: str | None = None) -> list[RunRecord]:
    """Call with no run alive (``current``: the Dagster run that holds the lock, if any).
    Returns the run-log records it marked interrupted."""
    made = state.published_build(root)
    marked = runlog.mark_interrupted(root, made.run_id if made else None)
    _fail_stale_runs(inst, current)
    published = [r for r in marked if r.message == runlog.PUBLISHED_THEN_ENDED]
    if published:
        _record_publication(root, inst, published)
    return marked


def _fail_stale_runs(inst: dg.DagsterInstance, current: str | None) -> None:
    stale = inst.get_run_records(
        dg.RunsFilter(job_name=JOB, statuses=[dg.DagsterRunStatus.STARTED])
    )
    for record in stale:
        if record.dagster_run.run_id != current:
            inst.report_run_failed(record.dagster_run, f"interrupted: {runlog.ENDED}")


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
