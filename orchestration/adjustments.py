"""What a run tells the finance ledger (issue 43, D46).

* **Before dbt**: what changed under the warehouse since the published build — the dbt
  files (rules) and the raw files this run re-processes (a restatement) — recorded in
  ``reports/changes/<run>.parquet``. finance.adjustments names them as the reason of every
  difference with a closed statement.
* **After publication**: each open adjustment the published build shows for the first
  time is recorded in ``reports/adjustments_seen/<run>.parquet`` (its night, run, build and
  reason never change after), and told once (orchestration/alerts.py).
"""

from __future__ import annotations

import datetime as dt
import shlex

import duckdb

from fullsite import ledger
from fullsite.landing import Change
from fullsite.layout import Layout
from fullsite.published import build_files, read_build
from orchestration.alerts import Alert
from orchestration.warehouse import project_files, project_fingerprint

OPEN_COLUMNS = (
    "statement_seq",
    "statement",
    "line_key",
    "money_column",
    "issued_value",
    "current_value",
    "delta",
    "reason",
    "first_seen_night",
    "first_seen_run_id",
)


def _published(layout: Layout) -> duckdb.DuckDBPyConnection | None:
    if not layout.warehouse.exists():
        return None
    try:
        return duckdb.connect(str(layout.warehouse), read_only=True)
    except duckdb.Error:
        return None


def rule_changes(layout: Layout) -> list[str]:
    """The dbt files that differ from those the published build was made from."""
    con = _published(layout)
    if con is None:
        return []
    try:
        before, made = build_files(con), read_build(con)
    except duckdb.Error:
        return []
    finally:
        con.close()
    now = project_files()
    if before is None:
        changed = made is not None and made.project_fingerprint != project_fingerprint()
        return ["the dbt project (the build before did not record its files)"] if changed else []
    return [
        _file_said(path, before, now)
        for path in sorted(before.keys() | now.keys())
        if before.get(path) != now.get(path)
    ]


def _file_said(path: str, before: dict, now: dict) -> str:
    if path not in before:
        return f"{path} (added)"
    return path if path in now else f"{path} (removed)"


def record_changes(layout: Layout, run_id: str, night: dt.date, restated: list[Change]) -> None:
    """What this run changes under the warehouse, before it builds (nothing: no file)."""
    at = dt.datetime.now(dt.UTC)
    rows = [
        {"run_id": run_id, "night": night, "recorded_at": at, "kind": "rules", "item": item}
        for item in rule_changes(layout)
    ]
    rows += [
        {"run_id": run_id, "night": night, "recorded_at": at, "kind": "raw", "item": c.restated()}
        for c in restated
    ]
    ledger.ensure(layout)
    ledger.append_rows(layout.changes, run_id, rows, ledger.CHANGE_COLUMNS)


def _key(row: dict) -> tuple:
    return (
        row["statement_seq"],
        row["line_key"],
        row["money_column"],
        row["issued_value"],
        row["current_value"],
    )


def open_in_published(layout: Layout) -> tuple[list[dict], str | None, str | None]:
    """The open adjustments of the published build, with its run id and fingerprint."""
    con = _published(layout)
    if con is None:
        return [], None, None
    try:
        made = read_build(con)
        rows = con.execute(f"""select {", ".join(OPEN_COLUMNS)} from finance.adjustments
                               where status = 'open' order by statement_seq, line_key,
                                   money_column""")
        found = [dict(zip(OPEN_COLUMNS, r, strict=True)) for r in rows.fetchall()]
    except duckdb.Error:  # a build from before D46: no adjustments
        return [], None, None
    finally:
        con.close()
    return found, made.run_id if made else None, made.content_fingerprint if made else None


def record_sightings(layout: Layout) -> list[dict]:
    """Record each open adjustment the published build shows for the first time; returns
    them (idempotent: a run killed after publishing is recorded by the next one)."""
    rows, run_id, fingerprint = open_in_published(layout)
    known = {_key(r) for r in ledger.seen(layout)}
    new = [r for r in rows if _key(r) not in known]
    at = dt.datetime.now(dt.UTC)
    ledger.ensure(layout)
    ledger.append_rows(
        layout.adjustments_seen,
        run_id or f"unknown-{at:%Y%m%dT%H%M%S%f}",
        [{**r, "first_seen_build": fingerprint, "recorded_at": at} for r in new],
        ledger.SEEN_COLUMNS,
    )
    return new


def alert(layout: Layout, dagster_run_id: str, night: dt.date, new: list[dict]) -> Alert:
    """One message for the adjustments a night showed first."""
    findings = [
        f"{r['statement']} line {r['line_key']}, {r['money_column']}: issued "
        f"{r['issued_value']:,.2f}, now {r['current_value']:,.2f} "
        f"(adjustment {r['delta']:+,.2f}): {r['reason']}"
        for r in new
    ]
    count = f"{len(new)} figure{'s' if len(new) != 1 else ''}"
    return Alert(
        key=f"adjustments/{dagster_run_id}",
        ingest_date=str(night),
        status="adjustments",
        stage="finance",
        summary=f"{count} of closed statements changed: adjustments are open",
        findings=findings,
        next_step="Issued statements never change: issue the differences as an adjustment "
        f"statement: fullsite report adjustments --data-root {shlex.quote(str(layout.root))}",
    )
