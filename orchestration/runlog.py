"""dq.run_log: one Parquet file per run under ``<data-root>/dq/run_log``.

The published warehouse shows them through a view, so recording a run (even a failed
one) never rewrites the published file: a failed night leaves it byte-identical. A marker
in ``run_log/.open`` (its process id) stands for each run between its start and the moment
its outcome, Dagster's, is written (orchestration/outcome.py).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import psutil
import pyarrow as pa
import pyarrow.parquet as pq

from fullsite.files import write_atomic
from fullsite.layout import Layout

SCHEMA = pa.schema(
    [
        ("run_id", pa.string()),
        ("ingest_date", pa.date32()),
        ("started_at", pa.timestamp("us", tz="UTC")),
        ("finished_at", pa.timestamp("us", tz="UTC")),
        ("status", pa.string()),
        ("failed_gate", pa.string()),
        ("message", pa.string()),
        ("timings", pa.string()),
        ("data_docs", pa.string()),
        ("gates", pa.string()),
        ("dagster_run_id", pa.string()),  # added later: older records lack them
        # a backfill's earlier nights: the record holding the stages they shared
        ("shared_with", pa.string()),
        ("command_started_at", pa.timestamp("us", tz="UTC")),  # when its process started
    ]
)


def folder(root: Path) -> Path:
    return Layout(root).run_log


def _open_runs(root: Path) -> Path:
    """One empty marker file per run that has started and not yet written its outcome: a
    new run checks these instead of reading every record of the history."""
    return folder(root) / ".open"


@dataclass
class RunRecord:
    run_id: str
    ingest_date: dt.date
    started_at: dt.datetime
    status: str = "running"
    finished_at: dt.datetime | None = None
    failed_gate: str | None = None
    message: str | None = None
    timings: dict = field(default_factory=dict)
    data_docs: str | None = None
    gates: dict = field(default_factory=dict)  # gate → {passed, evaluated, errors, warnings}
    dagster_run_id: str | None = None
    # a backfill's night: the run id whose record has the one-pass stages
    shared_with: str | None = None
    # the process's start: the command's wall time (issue 47)
    command_started_at: dt.datetime | None = None
    # in memory: when a night's own stages ended
    own_end: dt.datetime | None = field(default=None, repr=False)

    def write(self, root: Path) -> None:
        """The record, swapped in whole; its open-run marker goes once the run's outcome is
        written (orchestration/outcome.py: Dagster's, once its run is over)."""
        out = folder(root)
        out.mkdir(parents=True, exist_ok=True)
        marker = _open_runs(root) / self.run_id
        if self.status == "running":  # marked before the record, so a kill leaves the marker
            marker.parent.mkdir(exist_ok=True)
            marker.write_text(f"{os.getpid()}\n")
        table = pa.table(
            {
                "run_id": [self.run_id],
                "ingest_date": [self.ingest_date],
                "started_at": [self.started_at],
                "finished_at": [self.finished_at],
                "status": [self.status],
                "failed_gate": [self.failed_gate],
                "message": [self.message],
                "timings": [json.dumps({k: round(v, 3) for k, v in self.timings.items()})],
                "data_docs": [self.data_docs],
                "gates": [json.dumps(self.gates) if self.gates else None],
                "dagster_run_id": [self.dagster_run_id],
                "shared_with": [self.shared_with],
                "command_started_at": [self.command_started_at],
            },
            schema=SCHEMA,
        )
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink)
        write_atomic(out / f"{self.run_id}.parquet", sink.getvalue().to_pybytes())
        if self.status != "running":
            marker.unlink(missing_ok=True)


def open_rows(root: Path) -> list[dict]:
    """The records of the runs whose outcome is not written yet (their markers'), in order."""
    markers = _open_runs(root)
    names = sorted(m.name for m in markers.iterdir()) if markers.is_dir() else []
    rows = [row for row in (read_one(root, name) for name in names) if row is not None]
    return sorted(rows, key=_order)


def read_all(root: Path) -> list[dict]:
    files = sorted(folder(root).glob("*.parquet"))
    if not files:
        return []
    rows = [_complete(r) for f in files for r in pq.read_table(f).to_pylist()]
    return sorted(rows, key=lambda r: (r["started_at"], r["run_id"]))


def read_range(root: Path, first: dt.date, last: dt.date) -> list[dict]:
    """The records of ingests ``first … last``, in order: only the files of those dates and
    of their months (a run id begins with its ingest date), not a year of history."""
    lo, hi = first.isoformat(), last.isoformat()
    files = [f for f in _singles(root) if lo <= f.stem[:10] <= hi]
    files += [m for m in map(partial(_month_file, root), _months(first, last)) if m.exists()]
    rows = [_complete(r) for f in files for r in pq.read_table(f).to_pylist()]
    return sorted((r for r in rows if first <= r["ingest_date"] <= last), key=_order)


def _months(first: dt.date, last: dt.date) -> list[str]:
    """``YYYY-MM`` of every month from ``first``'s to ``last``'s."""
    months, day = [], first.replace(day=1)
    while day <= last:
        months.append(f"{day:%Y-%m}")
        day = (day + dt.timedelta(days=32)).replace(day=1)
    return months


def _complete(row: dict) -> dict:
    """A record with every column of today's schema (None where an older one had none)."""
    return {name: row.get(name) for name in SCHEMA.names}


def _singles(root: Path) -> list[Path]:
    """The records still in a file of their own (a month's are merged once it is old)."""
    return [f for f in folder(root).glob("*.parquet") if not f.name.startswith(MONTH)]


def _month_file(root: Path, month: str) -> Path:
    return folder(root) / f"{MONTH}{month}.parquet"


def read_recent(root: Path, n: int) -> list[dict]:
    """The n records written last (a record is rewritten when its run ends), oldest first:
    what ``fullsite status`` shows, without reading a year of history."""
    files = sorted(_singles(root), key=lambda f: (f.stat().st_mtime_ns, f.name))[-n:]
    rows = [_complete(pq.read_table(f).to_pylist()[0]) for f in files]
    for month in sorted(folder(root).glob(f"{MONTH}*.parquet"), reverse=True):
        if len(rows) >= n:
            break
        older = sorted((_complete(r) for r in pq.read_table(month).to_pylist()), key=_order)
        rows = older[-(n - len(rows)) :] + rows
    return sorted(rows, key=_order)


def _order(row: dict) -> tuple:
    return (row["started_at"], row["run_id"])


def read_one(root: Path, run_id: str) -> dict | None:
    """The record of one run (None before it has one): its own file, else its month's."""
    path = folder(root) / f"{run_id}.parquet"
    if path.exists():
        return _complete(pq.read_table(path).to_pylist()[0])
    month = _month_file(root, run_id[:7])  # a run id begins with its ingest date
    if not month.exists():
        return None
    return next(
        (_complete(r) for r in pq.read_table(month).to_pylist() if r["run_id"] == run_id), None
    )


MONTH = "month-"  # month-2024-07.parquet: the records of a month, merged


def compact(root: Path, before: dt.date) -> list[str]:
    """Merge the records of every month that ended before ``before`` into one file per month
    (issue 46: a year of runs is twelve files to list and read, not hundreds). Open runs are
    left alone; a record of a month merged before (a re-run) joins its month's file. Call
    with the run lock held. Returns the months merged."""
    open_ids = {m.name for m in _open_runs(root).iterdir()} if _open_runs(root).is_dir() else set()
    by_month: dict[str, list[Path]] = {}
    for f in _singles(root):
        month = f.stem[:7]
        try:
            next_month = (dt.date.fromisoformat(f"{month}-01") + dt.timedelta(days=32)).replace(
                day=1
            )
        except ValueError:
            continue  # not a record of ours
        if f.stem not in open_ids and next_month - dt.timedelta(days=1) < before:
            by_month.setdefault(month, []).append(f)
    for month, files in sorted(by_month.items()):
        _merge(root, month, files)
    return sorted(by_month)


def _merge(root: Path, month: str, files: list[Path]) -> None:
    target = _month_file(root, month)
    kept = (
        {r["run_id"]: _complete(r) for r in pq.read_table(target).to_pylist()}
        if target.exists()
        else {}
    )
    for f in files:
        row = _complete(pq.read_table(f).to_pylist()[0])
        kept[row["run_id"]] = row
    table = pa.Table.from_pylist(sorted(kept.values(), key=_order), schema=SCHEMA)
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    # the merged file first: no record is ever missing
    write_atomic(target, sink.getvalue().to_pybytes())
    for f in files:
        f.unlink()


def process_gone(root: Path, run_id: str) -> bool:
    """Whether a run recorded as running has no live process any more (killed, crashed,
    machine restarted): its open-run marker is missing or names a process that is gone."""
    marker = _open_runs(root) / run_id
    try:
        pid = int(marker.read_text().strip() or 0)
    except (OSError, ValueError):
        return True
    if pid <= 0:
        return True  # a marker from before process ids were recorded: only the lock can tell
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def shown_status(root: Path, row: dict, published_run_id: str | None = None) -> str:
    """The status to show: 'running' only while the run's process lives; then 'interrupted',
    as Dagster records a run whose process ended (FAILURE) — whether or not it had published
    its night, which the published file says (issue 44)."""
    if row["status"] == "running" and process_gone(root, row["run_id"]):
        return "interrupted"
    return row["status"]


PUBLISHED_THEN_ENDED = (
    "the process ended right after publishing its night (killed or crashed): the night is "
    "published; what follows publication (the brief, alerts) was left undone"
)
ENDED = (
    "the process ended before the run finished (killed, crashed or restarted): nothing was "
    "published"
)


def same_run(row: dict, published_run_id: str) -> bool:
    """Whether the record belongs to the run that published: the published night's own
    record, or a night of the same backfill (which shares the published record's stages)."""
    return published_run_id in (row["run_id"], row.get("shared_with"))


def mark_interrupted(root: Path, published_run_id: str | None = None) -> list[RunRecord]:
    """Open records no Dagster run settled (orchestration/outcome.py settles the others
    first: a run outside Dagster, or an older record), when no run is alive: they were
    killed, so 'interrupted', saying whether they had published their night (the published
    file names the run). Only the records of open runs are read (every record once, for a
    run log kept before markers). Returns the records marked."""
    markers = _open_runs(root)
    if markers.is_dir():
        run_ids = [m.name for m in sorted(markers.iterdir())]
    else:
        run_ids = [f.stem for f in sorted(_singles(root))]
        markers.mkdir(parents=True)
    marked = []
    for run_id in run_ids:
        row = read_one(root, run_id)  # none: killed before its record
        if row is not None and row["status"] == "running":
            published = bool(published_run_id) and same_run(row, published_run_id or "")
            rec = record_of(
                {
                    **row,
                    "status": "interrupted",
                    "message": PUBLISHED_THEN_ENDED if published else ENDED,
                }
            )
            rec.write(root)
            marked.append(rec)
        (markers / run_id).unlink(missing_ok=True)
    return marked


def record_of(row: dict) -> RunRecord:
    """A run-log row as the record it was written from."""
    return RunRecord(
        row["run_id"],
        row["ingest_date"],
        row["started_at"],
        status=row["status"],
        finished_at=row.get("finished_at"),
        failed_gate=row.get("failed_gate"),
        message=row.get("message"),
        timings=json.loads(row.get("timings") or "{}"),
        data_docs=row.get("data_docs"),
        gates=json.loads(row.get("gates") or "{}"),
        dagster_run_id=row.get("dagster_run_id"),
        shared_with=row.get("shared_with"),
        command_started_at=row.get("command_started_at"),
    )


def ended_unrecorded(root: Path) -> bool:
    """Whether a run's process ended while its record is open (its outcome is due)."""
    markers = _open_runs(root)
    return markers.is_dir() and any(process_gone(root, m.name) for m in markers.iterdir())


def fail_open(root: Path, message: str) -> None:
    """The runs this process left open end failed, saying why (Dagster's own storage failed
    under them, say): never 'interrupted', which means killed. Best effort."""
    markers = _open_runs(root)
    for marker in sorted(markers.iterdir()) if markers.is_dir() else []:
        try:
            pid = int(marker.read_text().strip() or 0)
            row = read_one(root, marker.name) if pid == os.getpid() else None
            if row is None or row["status"] != "running":
                continue
            rec = RunRecord(
                row["run_id"],
                row["ingest_date"],
                row["started_at"],
                status="failed",
                finished_at=dt.datetime.now(dt.UTC),
                message=message,
                timings=json.loads(row["timings"] or "{}"),
                dagster_run_id=row["dagster_run_id"],
                shared_with=row.get("shared_with"),
                command_started_at=row.get("command_started_at"),
            )
            rec.write(root)
        except (OSError, ValueError):
            continue
    try:
        write_atomic(
            Layout(root).last_error, f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M:%S} UTC  {message}\n"
        )
    except OSError:
        pass


def process_started() -> dt.datetime:
    """When this process started: a run's record measures the command's wall time from here
    (imports, Dagster and the JVM included), not only its stages."""
    return dt.datetime.fromtimestamp(psutil.Process(os.getpid()).create_time(), dt.UTC)
