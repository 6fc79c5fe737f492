"""`fullsite status`: what an operator needs at 07:00, gathered once, said as text or JSON.

What is published is read from the published file itself (its build record); the runs are
the run log's last records, shown as their processes stand (a run whose process is gone is
interrupted); open raw findings, owed briefs, open adjustments and undelivered alerts each
get a line and the command that deals with them.
"""

from __future__ import annotations

import datetime as dt
import json
import shlex
from dataclasses import dataclass
from pathlib import Path

from fullsite import landing
from fullsite.layout import Layout
from fullsite.published import Build
from fullsite.quoting import glob_safe_dir
from orchestration import alerts, builds, runlog, state
from orchestration.launch import dagster_home

RUN_FIELDS = (
    "run_id",
    "ingest_date",
    "status",
    "failed_gate",
    "message",
    "started_at",
    "finished_at",
    "dagster_run_id",
    "shared_with",
    "command_started_at",
)


@dataclass
class Status:
    layout: Layout
    made: Build | None
    last: dt.date | None
    runs: list[dict]
    findings: list[dict]
    told: str
    owed: list[dt.date]
    adjustments: list[dict]
    pending: list[alerts.Pending]


def jsonable(value):
    return value.isoformat() if isinstance(value, dt.date | dt.datetime) else value


def shown(root: Path, row: dict, published_run_id: str | None = None) -> dict:
    """A run-log record as status shows it: 'interrupted' once its process is gone."""
    return {**row, "status": runlog.shown_status(root, row, published_run_id)}


def took(row: dict) -> str:
    """The command's wall time (from its process's start), or for a backfill's earlier night
    (and an older record) the night's own stages."""
    own = row.get("started_at")
    start = own if row.get("shared_with") else row.get("command_started_at") or own
    if not row.get("finished_at") or not start:
        return ""
    seconds = int((row["finished_at"] - start).total_seconds())
    return f"{seconds // 60}:{seconds % 60:02d}"


def gather(layout: Layout, owed: list[dt.date], adjustments: list[dict]) -> Status:
    """Everything status says, read once (the owed briefs and open adjustments come from the
    publications, which the caller reads)."""
    root = layout.root
    made = state.published_build(root)
    published_run = made.run_id if made else None
    try:
        told = alerts.channels(layout).described()
    except alerts.ConfigError as exc:
        told = f"misconfigured: {exc}"
    runs = [shown(root, r, published_run) for r in runlog.read_recent(root, 10)]
    return Status(
        layout=layout,
        made=made,
        last=state.last_success(root),
        runs=runs,
        findings=landing.open_findings(layout),
        told=told,
        owed=owed,
        adjustments=adjustments,
        pending=alerts.undelivered(layout),
    )


def as_json(s: Status) -> str:
    layout, last = s.layout, s.last
    return json.dumps(
        {
            "data_root": str(layout.root),
            "last_success": jsonable(last),
            "next_run": jsonable(last + dt.timedelta(days=1)) if last else None,
            "warehouse": str(layout.warehouse) if layout.warehouse.exists() else None,
            "warehouse_build": s.made.build_id if s.made else None,
            "last_error": str(layout.last_error) if layout.last_error.exists() else None,
            "alerts": s.told,
            "raw_findings": s.findings,
            "briefs_owed": [str(d) for d in s.owed],
            "undelivered_alerts": [_pending_json(p) for p in s.pending],
            "open_adjustments": [_adjustment_json(a) for a in s.adjustments],
            "runs": [_run_json(r) for r in s.runs],
        },
        indent=2,
    )


def _pending_json(p: alerts.Pending) -> dict:
    return {
        "key": p.alert.key,
        "summary": p.alert.summary,
        "channels": p.channels,
        "attempts": p.attempts,
        "last_attempt": p.last_at.isoformat(),
        "next_try": p.next_try().isoformat(),
    }


def _adjustment_json(a: dict) -> dict:
    return {k: jsonable(str(v) if k.endswith(("value", "delta")) else v) for k, v in a.items()}


def _run_json(r: dict) -> dict:
    return {
        **{k: jsonable(r[k]) for k in RUN_FIELDS},
        "took": took(r),
        "timings": json.loads(r["timings"] or "{}"),
    }


def lines(s: Status, data_root: str) -> list[str]:
    """The text an operator reads, section by section."""
    q = shlex.quote(data_root)
    return [
        *_head(s),
        *_alert_lines(s, q),
        *_owed_lines(s),
        *_adjustment_lines(s, q),
        *_finding_lines(s, q),
        *_run_lines(s, q),
    ]


def _head(s: Status) -> list[str]:
    layout, last, made = s.layout, s.last, s.made
    root = shlex.quote(str(layout.root))
    home = shlex.quote(str(glob_safe_dir(dagster_home(layout.root))))
    published = layout.warehouse if layout.warehouse.exists() else "not published yet"
    return [
        f"data root:        {layout.root}",
        f"last success:     {last or 'none yet'}"
        + (f" (warehouse build {made.build_id})" if made else ""),
        f"next run:         {(last + dt.timedelta(days=1)) if last else 'any date (first run)'}",
        f"warehouse:        {published}",
        f"builds:           {builds.summary(layout)}",
        f"Dagster UI:       fullsite ui --data-root {root}   (or FULLSITE_DATA_ROOT={root} "
        f"DAGSTER_HOME={home} dagster dev -m orchestration.definitions)",
        f"alerts:           {s.told}",
    ]


def _alert_lines(s: Status, q: str) -> list[str]:
    if not s.pending:
        return []
    return [
        f"  not delivered:  {len(s.pending)} — retried by the alert_retry_sensor until delivered:",
        *[f"    {p.said()}" for p in s.pending],
        f"  acknowledge:    fullsite acknowledge --data-root {q} --alerts   (or --alert KEY)",
    ]


def _owed_lines(s: Status) -> list[str]:
    out = []
    if s.runs and s.runs[-1]["status"] == "failed" and s.layout.last_error.exists():
        out.append(f"last error:       {s.layout.last_error}")
    if s.owed:
        out.append(
            f"briefs owed:      {', '.join(map(str, s.owed))} (the next run draws them; "
            "or fullsite brief --date D)"
        )
    return out


def _adjustment_lines(s: Status, q: str) -> list[str]:
    if not s.adjustments:
        return []
    payable = sum(a["payable_delta"] for a in s.adjustments)
    out = [
        f"adjustments:      {len(s.adjustments)} open — figures of closed statements changed "
        f"(payable {payable:+,.2f} CNY):"
    ]
    out += [
        f"    {a['statement']} {a['line_key']} {a['money_column']}: {a['issued_value']:,.2f} → "
        f"{a['current_value']:,.2f} ({a['reason']}; first seen {a['first_seen_night']})"
        for a in s.adjustments[:10]
    ]
    if len(s.adjustments) > 10:
        out.append(f"    … {len(s.adjustments) - 10} more (finance.adjustments)")
    out.append(f"  issue them:     fullsite report adjustments --data-root {q}")
    return out


def _finding_lines(s: Status, q: str) -> list[str]:
    if not s.findings:
        return []
    return [
        f"raw findings:     {len(s.findings)} open — partitions changed after they were ingested:",
        *[f"    {f['finding']}   [{f['key']}]" for f in s.findings],
        f"  acknowledge:    fullsite acknowledge --data-root {q} --all   (or one KEY)",
    ]


def _run_lines(s: Status, q: str) -> list[str]:
    out = []
    for row in s.runs:
        gate = f" at {row['failed_gate']} gate" if row["failed_gate"] else ""
        lasted = f" took {took(row)}" if took(row) else ""
        shared = (
            " (a backfill night: shared stages with its last night)"
            if row.get("shared_with")
            else ""
        )
        msg = f": {row['message']}" if row["message"] else ""
        out.append(f"  {row['run_id']:<40} {row['status']}{gate}{lasted}{shared}{msg}")
    if s.runs:
        out.append(f"details: fullsite status --data-root {q} --run {s.runs[-1]['run_id']}")
    return out
