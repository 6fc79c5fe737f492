"""A run's outcome in the run log, written from Dagster's record of the run (issue 44).

The run's step records what it measured — each night's gates, timings and data docs — as
``running``. How the run ended is Dagster's to say: once Dagster's run is over (SUCCESS,
FAILURE, CANCELED), its status, its refusal tag and its step's failure are copied onto the
run's records, and only then is a record closed. So ``dq.run_log``, ``fullsite status`` and
the run's alert say what Dagster says, from the same events:

* SUCCESS: ``success``;
* a refusal (the ``fullsite/refused`` tag): ``refused``;
* the step's own failure (a gate, a stage, said in words): ``failed``, with its gate,
  words and data docs, on the night that failed; its other nights "not published";
* a run that ended with no failure of its step (killed, crashed, canceled): ``interrupted``,
  saying whether its night was published.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from fullsite.layout import Layout
from orchestration import night_alerts, runlog, state
from orchestration.names import REFUSED
from orchestration.night_alerts import alerts_after
from orchestration.pipeline import StageFailed
from orchestration.runlog import RunRecord

OVER = (dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED)


@dataclass(frozen=True)
class Outcome:
    """How a Dagster run ended, in the run log's words."""

    status: str  # success | failed | refused | interrupted
    message: str | None = None
    gate: str | None = None
    docs: str | None = None
    night_run_id: str | None = None  # the night whose stage failed
    finished: dt.datetime | None = None


def outcome_of(inst: dg.DagsterInstance, run_id: str) -> Outcome | None:
    """The outcome of a Dagster run that is over; None while it is not (or is unknown)."""
    record = inst.get_run_record_by_id(run_id)
    if record is None or record.dagster_run.status not in OVER:
        return None
    run = record.dagster_run
    finished = dt.datetime.fromtimestamp(record.end_time, dt.UTC) if record.end_time else _now()
    if run.status == dg.DagsterRunStatus.SUCCESS:
        return Outcome("success", finished=finished)
    if REFUSED in run.tags:
        return Outcome("refused", f"refused: {run.tags[REFUSED]}", finished=finished)
    return _failure(inst, run_id, finished)


def _failure(inst: dg.DagsterInstance, run_id: str, finished: dt.datetime) -> Outcome:
    """The step's own failure (``dg.Failure`` with the gate, words and night), or Dagster's
    error when it could not run the step; no step failure at all: the run was interrupted."""
    events = inst.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE)
    failure = next((e.dagster_event.step_failure_data for e in events if e.dagster_event), None)
    if failure is None:
        return Outcome("interrupted", finished=finished)
    user = failure.user_failure_data
    if user is None:
        said = f"the Dagster run {run_id} failed: {_first_cause(failure.error)}"
        return Outcome("failed", said, finished=finished)
    meta = {k: str(v.value) for k, v in (user.metadata or {}).items()}
    return Outcome(
        "failed",
        user.description or "the run failed",
        gate=meta.get("gate") if meta.get("gate") not in (None, "none") else None,
        docs=meta.get("data docs") or None,
        night_run_id=meta.get("run_id") or None,
        finished=finished,
    )


def _first_cause(error) -> str:
    """The first line of what went wrong at the bottom of Dagster's error chain (its own
    wrapper, "Error occurred while executing op", says nothing)."""
    while error is not None and error.cause is not None:
        error = error.cause
    return error.message.strip().splitlines()[0] if error and error.message else "unknown error"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def settle(
    root: Path, inst: dg.DagsterInstance, run_id: str, interrupted: bool = True
) -> list[RunRecord]:
    """The records of Dagster run ``run_id``, written from its outcome and closed, once it
    is over (nothing before). An interrupted run is left open unless ``interrupted``: what
    it published is then told too, which only the holder of the run lock does
    (orchestration/reconcile.py). Returns the records written."""
    rows = [r for r in runlog.open_rows(root) if r["dagster_run_id"] == run_id]
    return _settle_rows(root, inst, run_id, rows, interrupted)


def _settle_rows(
    root: Path, inst: dg.DagsterInstance, run_id: str, rows: list[dict], interrupted: bool
) -> list[RunRecord]:
    outcome = outcome_of(inst, run_id) if rows else None
    if outcome is None or (outcome.status == "interrupted" and not interrupted):
        return []
    made = state.published_build(root)
    written = [_write(root, row, outcome, made.run_id if made else None) for row in rows]
    _tell(root, run_id, written, outcome)
    return written


def _tell(root: Path, run_id: str, records: list[RunRecord], outcome: Outcome) -> None:
    """The run's alert, from the same outcome and records: the night that failed, or the
    digest of a published run's warnings. A refusal wakes nobody; what an interrupted run
    published is told by the reconciliation. Told once per run (the alert's key)."""
    if outcome.status == "success":
        alerts_after(Layout(root), run_id, records, None)
    elif outcome.status == "failed":
        failure = StageFailed(outcome.gate, outcome.message or "the run failed", outcome.docs)
        alerts_after(Layout(root), run_id, records, failure)


def settle_ended(root: Path, inst: dg.DagsterInstance, interrupted: bool = True) -> list[RunRecord]:
    """Every open record whose Dagster run is over, settled (see ``settle``); the open
    records are read once, not once per run."""
    by_run: dict[str, list[dict]] = {}
    for row in runlog.open_rows(root):
        if row["dagster_run_id"]:
            by_run.setdefault(row["dagster_run_id"], []).append(row)
    return [
        rec
        for run_id, rows in sorted(by_run.items())
        for rec in _settle_rows(root, inst, run_id, rows, interrupted)
    ]


def _write(root: Path, row: dict, outcome: Outcome, published_run: str | None) -> RunRecord:
    rec = runlog.record_of(row)
    rec.status = outcome.status
    rec.finished_at = rec.finished_at or outcome.finished
    if outcome.status == "interrupted":
        published = bool(published_run) and runlog.same_run(row, published_run or "")
        rec.message = runlog.PUBLISHED_THEN_ENDED if published else runlog.ENDED
    elif outcome.status == "refused":
        rec.message = outcome.message
    elif outcome.status == "failed":
        _failed(rec, outcome)
        if published_run and runlog.same_run(row, published_run):  # failed after publishing
            rec.message = f"{night_alerts.PUBLISHED} {rec.message}"
    rec.write(root)
    return rec


def _failed(rec: RunRecord, outcome: Outcome) -> None:
    """The night that failed carries the failure; a night of the same run that did not is
    'not published' (a failure Dagster saw before any night's stage: every night carries it)."""
    night = outcome.night_run_id
    if night is None or night == rec.run_id:
        rec.failed_gate, rec.message = outcome.gate, outcome.message
        rec.data_docs = outcome.docs or rec.data_docs
    else:
        night = night[:10]  # a run id begins with its ingest date
        rec.failed_gate, rec.message = None, f"not published: the run for {night} failed"
