"""What has landed in the raw zone, and what an ingested partition held (issue 36).

* **When a night is complete** (D43): the three snapshot/log tables have landed in
  ``dt=D``, and every event table has landed or its landing deadline has passed. A table
  has landed when its partition holds a data file, or an upstream ``_SUCCESS`` marker.
* **Raw is append-only, and checked.** Every ingest records what its partitions held —
  per data file its name, size, modification time, row count and SHA-256 — in
  ``state/ingested/dt=D.json``. Every run compares the partitions ingested before it with
  those records: a file that appeared, changed or disappeared in an already-ingested
  partition is a named finding with the rows it means. A file whose size and time are
  unchanged is taken as unchanged (read again only when they differ), so the check costs a
  directory listing and a stat per file, not a read of the history.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow.parquet as pq

from fullsite.contract import BUSINESS_TZ, DAILY_TABLES, EVENT_TABLES, SCHEMAS
from fullsite.files import write_text_atomic
from fullsite.layout import Layout, data_files

SUCCESS_MARKER = "_SUCCESS"


# ------------------------------------------------------------------ completeness


def readable_parquet(path: Path) -> bool:
    """A whole Parquet file: its footer is there and parses (an upload still running, or cut
    short, has none yet)."""
    try:
        with open(path, "rb") as fh:
            fh.seek(-4, 2)
            if fh.read(4) != b"PAR1":
                return False
        pq.read_metadata(path)
    except Exception:  # noqa: BLE001 - too short, unreadable, not Parquet: not landed
        return False
    return True


def landed(layout: Layout, table: str, day: dt.date) -> bool:
    """Upstream's ``_SUCCESS`` marker, or data files that are each a whole Parquet file: a
    half-written file means the table is still landing (issue 44)."""
    folder = layout.raw(table, day)
    if (folder / SUCCESS_MARKER).is_file():
        return True
    files = data_files(folder)
    return bool(files) and all(readable_parquet(f) for f in files)


def event_deadline(day: dt.date, hours_after_midnight: int) -> dt.datetime:
    """When an event table of ingest ``day`` may be taken as a day without events: this many
    hours after the end of ``day`` in Asia/Shanghai (the parameter event_landing_deadline_hours)."""
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), ZoneInfo(BUSINESS_TZ))
    return end + dt.timedelta(hours=hours_after_midnight)


@dataclass(frozen=True)
class Night:
    day: dt.date
    complete: bool
    waiting_for: tuple[str, ...]  # tables not landed that the night still waits for
    given_up: tuple[str, ...]  # event tables past their deadline: the night runs without them

    def why(self) -> str:
        if self.complete:
            gone = (
                f" ({', '.join(self.given_up)} never landed: past the landing deadline)"
                if self.given_up
                else ""
            )
            return f"dt={self.day} is complete{gone}"
        return f"dt={self.day} is waiting for {', '.join(self.waiting_for)}"


def night(layout: Layout, day: dt.date, now: dt.datetime, deadline_hours: int) -> Night:
    """Whether ingest ``day`` is complete at ``now``, and what it waits for."""
    missing_daily = [t for t in DAILY_TABLES if not landed(layout, t, day)]
    missing_events = [t for t in EVENT_TABLES if not landed(layout, t, day)]
    past = now >= event_deadline(day, deadline_hours)
    waiting = missing_daily + ([] if past else missing_events)
    return Night(day, not waiting, tuple(waiting), tuple(missing_events if past else ()))


def landed_days(layout: Layout) -> list[dt.date]:
    """Every ingest date with anything landed, in order."""
    days = set()
    for table in SCHEMAS:
        base = layout.raw(table)
        if base.is_dir():
            for p in base.glob("dt=*"):
                try:
                    day = dt.date.fromisoformat(p.name[3:])
                except ValueError:
                    continue
                if landed(layout, table, day):
                    days.add(day)
    return sorted(days)


# ------------------------------------------------------------------ the ledger


@dataclass(frozen=True)
class FileRecord:
    name: str
    size: int
    mtime_ns: int
    rows: int | None
    sha256: str


def _rows(path: Path) -> int | None:
    try:
        return pq.ParquetFile(path).metadata.num_rows
    except Exception:  # noqa: BLE001 - a file that is not Parquet: the raw gate says so; no row count
        return None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _describe(path: Path) -> FileRecord:
    st = path.stat()
    return FileRecord(path.name, st.st_size, st.st_mtime_ns, _rows(path), _sha256(path))


def _ledger(layout: Layout, day: dt.date) -> Path:
    return layout.state / "ingested" / f"dt={day.isoformat()}.json"


def describe_ingest(layout: Layout, day: dt.date) -> dict:
    """What ingest ``day`` reads: every data file of its partitions (name, size, time, rows,
    SHA-256), as its raw gate saw them."""
    held = {t: [asdict(_describe(f)) for f in data_files(layout.raw(t, day))] for t in SCHEMAS}
    return {"ingest_date": day.isoformat(), "tables": held}


def write_ingest(layout: Layout, described: dict) -> None:
    """Record what a night processed, once it is published: from then on its partitions are
    checked against it (a run that fails records nothing)."""
    path = _ledger(layout, dt.date.fromisoformat(described["ingest_date"]))
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, json.dumps(described, indent=1))


def processed_days(layout: Layout) -> list[dt.date]:
    """The ingests whose processing is recorded, in order."""
    return sorted(_recorded(layout))


def _recorded(layout: Layout) -> dict[dt.date, dict[str, list[FileRecord]]]:
    out = {}
    for path in sorted((layout.state / "ingested").glob("dt=*.json")):
        data = json.loads(path.read_text())
        out[dt.date.fromisoformat(data["ingest_date"])] = {
            t: [FileRecord(**f) for f in files] for t, files in data["tables"].items()
        }
    return out


@dataclass(frozen=True)
class Change:
    table: str
    day: dt.date
    file: str
    kind: str  # appeared | changed | disappeared
    rows: int | None  # the rows not counted (appeared, changed: now; disappeared: then)

    @property
    def key(self) -> str:
        return f"{self.table}/dt={self.day}/{self.file}/{self.kind}"

    def sentence(self) -> str:
        rows = (
            ""
            if self.rows is None
            else f" ({self.rows:,} rows "
            f"{'counted but gone' if self.kind == 'disappeared' else 'not counted'})"
        )
        what = {
            "appeared": "appeared after the night was ingested",
            "changed": "was rewritten after the night was ingested",
            "disappeared": "was removed after the night was ingested",
        }[self.kind]
        return f"{self.table} dt={self.day}: {self.file} {what}{rows}"

    def restated(self) -> str:
        """The change as a restatement re-processes it: its rows are counted now."""
        what = {"appeared": "added", "changed": "rewritten", "disappeared": "removed"}[self.kind]
        rows = "" if self.rows is None else f", {self.rows:,} rows"
        return f"{self.table} dt={self.day}: {self.file} {what}{rows}"


def _partition_changes(
    layout: Layout, table: str, day: dt.date, files: list[FileRecord]
) -> list[Change]:
    """What a partition holds now against what its night read."""
    found = []
    was = {f.name: f for f in files}
    now = {p.name: p for p in data_files(layout.raw(table, day))}
    for name in sorted(now.keys() - was.keys()):
        found.append(Change(table, day, name, "appeared", _rows(now[name])))
    for name in sorted(was.keys() - now.keys()):
        found.append(Change(table, day, name, "disappeared", was[name].rows))
    for name in sorted(now.keys() & was.keys()):
        st = now[name].stat()
        if (st.st_size, st.st_mtime_ns) != (was[name].size, was[name].mtime_ns) and _sha256(
            now[name]
        ) != was[name].sha256:
            found.append(Change(table, day, name, "changed", _rows(now[name])))
    return found


def processed_changes(layout: Layout, first: dt.date, last: dt.date) -> list[Change]:
    """Every difference between the partitions of ingests ``first … last`` and what their
    nights processed, acknowledged or not: what re-processing them restates."""
    return [
        c
        for day, tables in _recorded(layout).items()
        if first <= day <= last
        for table, files in tables.items()
        for c in _partition_changes(layout, table, day, files)
    ]


def changes(layout: Layout, before: dt.date) -> list[Change]:
    """Files added to, changed in or removed from the partitions of ingests before ``before``
    and not acknowledged as they are now."""
    acknowledged = _acknowledged(layout)
    return [
        c
        for day, tables in _recorded(layout).items()
        if day < before
        for table, files in tables.items()
        for c in _partition_changes(layout, table, day, files)
        if not _still_acknowledged(layout, c, acknowledged)
    ]


# ------------------------------------------------------------------ open findings


def _findings_file(layout: Layout) -> Path:
    return layout.state / "raw_findings.json"


def open_findings(layout: Layout) -> list[dict]:
    """Findings about ingested partitions that no operator has acknowledged yet."""
    try:
        return json.loads(_findings_file(layout).read_text())
    except (OSError, ValueError):
        return []


def remember(layout: Layout, found: list[Change], seen: dt.datetime) -> list[dict]:
    """Keep every finding open until acknowledged (the first time it was seen is kept)."""
    known = {f["key"]: f for f in open_findings(layout)}
    for c in found:
        known.setdefault(
            c.key,
            {
                "key": c.key,
                "table": c.table,
                "ingest_date": c.day.isoformat(),
                "file": c.file,
                "kind": c.kind,
                "rows": c.rows,
                "finding": c.sentence(),
                "first_seen": seen.isoformat(timespec="seconds"),
            },
        )
    findings = sorted(known.values(), key=lambda f: f["key"])
    write_text_atomic(_findings_file(layout), json.dumps(findings, indent=1))
    return findings


def _acknowledged_file(layout: Layout) -> Path:
    return layout.state / "raw_acknowledged.json"


def _acknowledged(layout: Layout) -> dict[str, str | None]:
    """Acknowledged changes: key → the SHA-256 of the file as acknowledged (None: gone)."""
    try:
        return json.loads(_acknowledged_file(layout).read_text())
    except (OSError, ValueError):
        return {}


def _current_sha(layout: Layout, table: str, day: dt.date, name: str) -> str | None:
    path = layout.raw(table, day) / name
    return _sha256(path) if path.is_file() else None


def _still_acknowledged(layout: Layout, c: Change, acknowledged: dict[str, str | None]) -> bool:
    return c.key in acknowledged and acknowledged[c.key] == _current_sha(
        layout, c.table, c.day, c.file
    )


def acknowledge(layout: Layout, keys: list[str] | None = None) -> list[dict]:
    """Close findings (all, or those of ``keys``): the change is known, as the file is now,
    and is not reported again unless the file changes again. What each night processed is
    kept as it was: the rows stay uncounted until ``fullsite restate`` re-processes the
    partition (D46). Returns the findings closed."""
    findings = open_findings(layout)
    closing = [f for f in findings if keys is None or f["key"] in keys]
    acknowledged = _acknowledged(layout)
    for f in closing:
        acknowledged[f["key"]] = _current_sha(
            layout, f["table"], dt.date.fromisoformat(f["ingest_date"]), f["file"]
        )
    write_text_atomic(
        _acknowledged_file(layout), json.dumps(acknowledged, indent=1, sort_keys=True)
    )
    write_text_atomic(
        _findings_file(layout), json.dumps([f for f in findings if f not in closing], indent=1)
    )
    return closing


def settle(layout: Layout, first: dt.date, last: dt.date) -> None:
    """Ingests ``first … last`` were re-processed (their ledgers re-recorded): their findings
    and acknowledgements are settled, their rows counted."""
    inside = lambda f: first <= dt.date.fromisoformat(f["ingest_date"]) <= last  # noqa: E731
    write_text_atomic(
        _findings_file(layout),
        json.dumps([f for f in open_findings(layout) if not inside(f)], indent=1),
    )
    kept = {
        k: v
        for k, v in _acknowledged(layout).items()
        if not first <= dt.date.fromisoformat(k.split("/dt=")[1][:10]) <= last
    }
    write_text_atomic(_acknowledged_file(layout), json.dumps(kept, indent=1, sort_keys=True))
