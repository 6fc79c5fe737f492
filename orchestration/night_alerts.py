"""What a run tells after its nights: one message per event, the night that failed or one
digest of nights published with warnings (orchestration/alerts.py delivers them). Said by
the run's step and, for a run killed right after publishing, by the reconciliation."""

from __future__ import annotations

import shlex
from collections.abc import Sequence

from fullsite.layout import Layout
from orchestration.alerts import Alert, tell
from orchestration.pipeline import StageFailed
from orchestration.runlog import RunRecord

PUBLISHED = "the night is published; then"  # a run that failed after publishing (outcome.py)


def alerts_after(
    layout: Layout,
    dagster_run_id: str,
    records: Sequence[RunRecord],
    failure: StageFailed | None,
) -> None:
    """Never raises (orchestration/alerts.py)."""
    if failure is not None:
        tell(layout, _failed(layout, dagster_run_id, records, failure))
    elif warned := _published_with_warnings(dagster_run_id, records):
        tell(layout, warned)


def nights_said(records: Sequence[RunRecord]) -> str:
    first, last = records[0].ingest_date, records[-1].ingest_date
    return f"{first} … {last}" if len(records) > 1 else str(first)


def told(outcome: dict[str, str]) -> str:
    """What telling did, in words."""
    if not outcome:
        return "already told"
    if outcome.keys() == {"none"}:
        return (
            "not told: no alert channel is configured (FULLSITE_ALERT_* or fullsite.toml [alerts])"
        )
    return "; ".join(f"{channel}: {what}" for channel, what in outcome.items())


def _failed(
    layout: Layout, dagster_run_id: str, records: Sequence[RunRecord], failure: StageFailed
) -> Alert:
    failed = next(
        (r for r in records if r.failed_gate == failure.gate and r.message == failure.message),
        records[-1] if records else None,
    )
    day = str(failed.ingest_date) if failed else "?"
    published = bool(failed and failed.message and failed.message.startswith(PUBLISHED))
    seen = (failed.gates.get(failure.gate) if failed and failure.gate else None) or {}
    rerun = f"fullsite run --data-root {shlex.quote(str(layout.root))} --date {day}"
    return Alert(
        key=f"failed/{dagster_run_id}",
        ingest_date=day,
        status="failed",
        stage=failure.gate or "run",
        summary=f"the night {day} is published, then its run failed"
        if published
        else f"the night {day} failed: nothing was published",
        findings=list(seen.get("errors") or []) or [failure.message],
        data_docs=failure.docs,
        next_step="The night is published; read the run's log in Dagster for what failed "
        "after it, and `fullsite status` for what is owed (the brief)."
        if published
        else "The warehouse still holds the last published night. Have the files named "
        f"above corrected upstream, then run the night again: {rerun}",
    )


def _published_with_warnings(dagster_run_id: str, records: Sequence[RunRecord]) -> Alert | None:
    warnings = [w for r in records for seen in r.gates.values() for w in seen.get("warnings", [])]
    if not (warnings and records):
        return None
    last = records[-1]
    return Alert(
        key=f"warnings/{dagster_run_id}",
        ingest_date=str(last.ingest_date),
        status="published_with_warnings",
        stage="gates",
        summary=f"published {nights_said(records)} "
        f"with {len(warnings)} warning{'s' if len(warnings) != 1 else ''}",
        findings=warnings,
        data_docs=last.data_docs,
        next_step="Nothing to re-run: the night is published. Read the warnings; they stay in "
        "the run log and the data docs.",
    )
