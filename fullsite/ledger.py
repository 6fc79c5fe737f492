"""The finance ledger: what finance was issued, kept as a record that holds (issue 43, D46).

Under ``<data-root>/reports`` (paths from Layout):

    register/NNNNNN.parquet         one row per issue (a statement, an adjustment statement),
                                    chained: each row holds the SHA-256 of the row before it
    issued_lines/NNNNNN.parquet     the lines of that issue, one money column a row
    issued/NNNNNN-<stem>/           its files as issued (CSV, XLSX, manifest), read-only
    adjustments_seen/<run>.parquet  each difference with a closed line, as first published
    changes/<run>.parquet           what changed under the warehouse: rules, restated raw

Nothing is ever rewritten. An issue adds files in one order — its files, its lines, then
its register row, which is the commit — under one lock, so concurrent issues queue and
none is lost. Every store holds ``empty.parquet`` (its schema alone) so that a reader's
glob always matches, in DuckDB and in Spark.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from fullsite.files import create_once, write_atomic
from fullsite.layout import Layout

EMPTY = "empty.parquet"
GENESIS = "0" * 64  # the "row before" the first row of a chain
MONEY = pa.decimal128(18, 2)
UTC_TIME = pa.timestamp("us", tz="UTC")

# name → (type, what it says): the published views' columns and their descriptions.
REGISTER_COLUMNS: dict[str, tuple[pa.DataType, str]] = {
    "statement": (pa.string(), "The statement: rebates, compensation or adjustments."),
    "period": (
        pa.string(),
        "The period it covers: a month (2024-07), a range of close dates, "
        "or the nights whose adjustments it issues.",
    ),
    "stem": (pa.string(), "The name its files share (rebates-2024-07 …)."),
    "provisional": (
        pa.bool_(),
        "True when issued with --provisional: its figures are not all "
        "final, and it closes nothing.",
    ),
    "files": (
        pa.string(),
        "Each file's name and SHA-256, as JSON: `fullsite report verify FILE` looks them up.",
    ),
    "warehouse_fingerprint": (
        pa.string(),
        "The published build it was drawn from (SHA-256 of the build's content).",
    ),
    "data_through": (pa.date32(), "The last ingest date that build held."),
    "covered_from": (pa.date32(), "The first date of the period the data covers."),
    "covered_to": (pa.date32(), "The last date of the period the data covers."),
    "rows": (pa.int64(), "Lines of the statement (the total line aside)."),
    "totals": (pa.string(), "Its control totals per money column, as JSON."),
    "issued_at": (UTC_TIME, "When it was issued (UTC)."),
    "seq": (pa.int64(), "Its row number in the register: 1, 2, … with no gap."),
    "period_from": (
        pa.date32(),
        "First date of the period it closes (rebates: the month's "
        "first day; compensation: the first close date).",
    ),
    "period_to": (pa.date32(), "Last date of the period it closes."),
    "warehouse_built_at": (
        UTC_TIME,
        "When the build it was drawn from was built: later changes "
        "(finance.adjustments) are measured from here.",
    ),
    "manifest_sha256": (pa.string(), "SHA-256 of its manifest, as issued."),
    "lines_sha256": (pa.string(), "SHA-256 of the file of its lines (finance.issued_lines)."),
    "prev_sha256": (
        pa.string(),
        "row_sha256 of the row before (the first row: 64 zeros): the "
        "chain that `fullsite report verify` checks.",
    ),
    "row_sha256": (
        pa.string(),
        "SHA-256 of this row's other columns: a row changed after the "
        "fact no longer matches it, nor the next row's prev_sha256.",
    ),
}

ISSUED_LINE_COLUMNS: dict[str, tuple[pa.DataType, str]] = {
    "register_seq": (
        pa.int64(),
        "The issue this line belongs to (finance.statement_register.seq).",
    ),
    "statement": (
        pa.string(),
        "The stem of that issue (rebates-2024-07, adjustments-2024-08-05 …).",
    ),
    "statement_kind": (pa.string(), "rebates, compensation or adjustments."),
    "period": (pa.string(), "The period of that issue."),
    "line_key": (
        pa.string(),
        "The line: merchant_id (rebates) or campaign_version_id (compensation).",
    ),
    "merchant_id": (pa.string(), "The merchant the line is paid to."),
    "money_column": (
        pa.string(),
        "Which figure of the line: spend, compensation, rebate_base, "
        "rebate_amount (rebates); spend, gmv, compensation_amount.",
    ),
    "value": (MONEY, "The figure as issued, CNY (an adjustment line: the adjustment, signed)."),
    "corrects_seq": (pa.int64(), "Adjustment lines: the register row of the statement corrected."),
    "corrects_statement": (pa.string(), "Adjustment lines: the stem of the statement corrected."),
    "was_value": (
        MONEY,
        "Adjustment lines: the figure finance held before (issued plus earlier adjustments).",
    ),
    "now_value": (MONEY, "Adjustment lines: the figure as now known (was_value + value)."),
    "reason": (pa.string(), "Adjustment lines: why the figure changed, in words."),
    "first_seen_night": (pa.date32(), "Adjustment lines: the night whose build first showed it."),
    "first_seen_run_id": (pa.string(), "Adjustment lines: the run that published that build."),
    "issued_at": (UTC_TIME, "When the line was issued (UTC)."),
}

SEEN_COLUMNS: dict[str, tuple[pa.DataType, str]] = {
    "statement_seq": (pa.int64(), "The closed statement (register row)."),
    "line_key": (pa.string(), "Its line."),
    "money_column": (pa.string(), "The figure."),
    "issued_value": (MONEY, "As issued (plus adjustments issued) when first seen."),
    "current_value": (MONEY, "As known when first seen."),
    "first_seen_night": (pa.date32(), "The night whose build first published the difference."),
    "first_seen_run_id": (pa.string(), "The run that published that build."),
    "first_seen_build": (pa.string(), "That build's content fingerprint."),
    "reason": (pa.string(), "Why, in words, as that night knew it."),
    "recorded_at": (UTC_TIME, "When this record was written (UTC)."),
}

CHANGE_COLUMNS: dict[str, tuple[pa.DataType, str]] = {
    "run_id": (pa.string(), "The run that met the change."),
    "night": (pa.date32(), "That run's (last) ingest date."),
    "recorded_at": (UTC_TIME, "When the run met it (UTC): builds after this include it."),
    "kind": (
        pa.string(),
        "rules (a dbt model, macro or seed file changed) or raw (a partition "
        "ingested before was re-processed with files added, rewritten or "
        "removed).",
    ),
    "item": (pa.string(), "What changed, in words: a file of the dbt project, or a raw file."),
}


def schema(columns: dict[str, tuple[pa.DataType, str]]) -> pa.Schema:
    return pa.schema([(name, kind) for name, (kind, _) in columns.items()])


def parquet_bytes(rows: list[dict], columns: dict[str, tuple[pa.DataType, str]]) -> bytes:
    sink = pa.BufferOutputStream()
    table = pa.Table.from_pylist([{c: r.get(c) for c in columns} for r in rows], schema(columns))
    pq.write_table(table, sink)
    return sink.getvalue().to_pybytes()


def _stores(layout: Layout) -> dict[Path, dict]:
    return {
        layout.statement_register: REGISTER_COLUMNS,
        layout.issued_lines: ISSUED_LINE_COLUMNS,
        layout.adjustments_seen: SEEN_COLUMNS,
        layout.changes: CHANGE_COLUMNS,
    }


def ensure(layout: Layout) -> None:
    """Every store exists with its schema file, so each view and dbt source reads from day
    one; a register kept as one file before D46 opens the chain (once)."""
    for folder, columns in _stores(layout).items():
        folder.mkdir(parents=True, exist_ok=True)
        if not (folder / EMPTY).exists():
            write_atomic(folder / EMPTY, parquet_bytes([], columns))
    if layout.legacy_register.exists():
        with locked(layout):
            _migrate_legacy(layout)


@contextmanager
def locked(layout: Layout) -> Iterator[None]:
    """The ledger's one writer at a time (every issue, every append); waits for the other."""
    layout.reports.mkdir(parents=True, exist_ok=True)
    with open(layout.ledger_lock, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _read(folder: Path, columns: dict) -> list[dict]:
    files = (
        sorted(p for p in folder.glob("*.parquet") if p.name != EMPTY) if folder.is_dir() else []
    )
    cols = list(columns)
    return [{c: r.get(c) for c in cols} for f in files for r in pq.read_table(f).to_pylist()]


def entries(layout: Layout) -> list[dict]:
    """The register, in order of its rows."""
    return sorted(_read(layout.statement_register, REGISTER_COLUMNS), key=lambda r: r["seq"] or 0)


def lines(layout: Layout, seq: int | None = None) -> list[dict]:
    """Every issued line (or those of one issue)."""
    if seq is not None:
        path = layout.issued_lines / f"{seq:06d}.parquet"
        return _read_file(path, ISSUED_LINE_COLUMNS) if path.exists() else []
    return _read(layout.issued_lines, ISSUED_LINE_COLUMNS)


def _read_file(path: Path, columns: dict) -> list[dict]:
    return [{c: r.get(c) for c in columns} for r in pq.read_table(path).to_pylist()]


def seen(layout: Layout) -> list[dict]:
    return _read(layout.adjustments_seen, SEEN_COLUMNS)


def recorded_changes(layout: Layout) -> list[dict]:
    return _read(layout.changes, CHANGE_COLUMNS)


def archive(layout: Layout, seq: int, stem: str) -> Path:
    """The folder of one issue's files, as issued."""
    return layout.issued_files / f"{seq:06d}-{stem}"


# ------------------------------------------------------------------------ the chain


def _canonical(value) -> object:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def row_hash(row: dict) -> str:
    """SHA-256 of a register row's columns (row_sha256 aside), in a canonical JSON form."""
    body = {k: _canonical(row.get(k)) for k in REGISTER_COLUMNS if k != "row_sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Issue:
    """What one issue adds: its register row (without the chain's columns), its lines and
    its files (name → bytes); the manifest is made once the row's place is known."""

    row: dict
    lines: list[dict]
    files: dict[str, bytes]
    manifest: dict


def next_place(layout: Layout) -> tuple[int, str]:
    """The next row number and the hash it chains to (call with the lock held)."""
    rows = entries(layout)
    return (rows[-1]["seq"] + 1, rows[-1]["row_sha256"]) if rows else (1, GENESIS)


def append(layout: Layout, issue: Issue) -> dict:
    """Add one issue to the ledger (call with the lock held); returns its register row and
    the manifest as written. The manifest names its place in the chain, and the register
    row holds the manifest's hash: each vouches for the other."""
    seq, prev = next_place(layout)
    stem = issue.row["stem"]
    folder = archive(layout, seq, stem)
    _clear_orphans(layout, seq)
    manifest = {**issue.manifest, "register": {"seq": seq, "prev_sha256": prev}}
    manifest_bytes = (json.dumps(manifest, indent=2, default=str) + "\n").encode()
    folder.mkdir(parents=True)
    for name, data in {**issue.files, f"{stem}.manifest.json": manifest_bytes}.items():
        create_once(folder / name, data)
    lines_bytes = parquet_bytes(
        [{**line, "register_seq": seq} for line in issue.lines], ISSUED_LINE_COLUMNS
    )
    create_once(layout.issued_lines / f"{seq:06d}.parquet", lines_bytes)
    row = {
        **issue.row,
        "seq": seq,
        "manifest_sha256": sha256(manifest_bytes),
        "lines_sha256": sha256(lines_bytes),
        "prev_sha256": prev,
    }
    row["row_sha256"] = row_hash(row)
    create_once(
        layout.statement_register / f"{seq:06d}.parquet", parquet_bytes([row], REGISTER_COLUMNS)
    )
    return {"row": row, "manifest": manifest, "manifest_bytes": manifest_bytes}


def _clear_orphans(layout: Layout, seq: int) -> None:
    """An issue killed before its register row left files under its number: they were never
    issued (the row is the commit), so the next issue takes the number."""
    for folder in layout.issued_files.glob(f"{seq:06d}-*"):
        shutil.rmtree(folder)
    (layout.issued_lines / f"{seq:06d}.parquet").unlink(missing_ok=True)


def _migrate_legacy(layout: Layout) -> None:
    """Rows of a register kept as one file open the chain, in their order (they have no
    lines: they close nothing); the old file is kept, renamed, for the record."""
    old = layout.legacy_register
    if not old.exists():
        return
    if entries(layout):
        raise RuntimeError(f"{old} and {layout.statement_register} both hold rows")
    for row in pq.read_table(old).to_pylist():
        seq, prev = next_place(layout)
        full = {**{k: row.get(k) for k in REGISTER_COLUMNS}, "seq": seq, "prev_sha256": prev}
        full["row_sha256"] = row_hash(full)
        create_once(
            layout.statement_register / f"{seq:06d}.parquet",
            parquet_bytes([full], REGISTER_COLUMNS),
        )
    old.rename(old.with_name("register.before-chain.parquet"))


def append_rows(folder: Path, name: str, rows: list[dict], columns: dict) -> None:
    """A record file of a store (adjustments seen, changes): written once, never again."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.parquet"
    if rows and not path.exists():
        create_once(path, parquet_bytes(rows, columns))


# ------------------------------------------------------------------------ checking it


@dataclass(frozen=True)
class Altered:
    row: int
    what: str

    def said(self) -> str:
        return f"register altered at row {self.row}: {self.what}"


def check_chain(layout: Layout) -> Altered | None:
    """The register and what each row vouches for, row by row: the first row that does not
    hold (None: every row does)."""
    prev = GENESIS
    for n, row in enumerate(entries(layout), start=1):
        found = _row_problem(layout, row, n, prev)
        if found:
            return Altered(n, found)
        prev = row["row_sha256"]
    return None


def _row_problem(layout: Layout, row: dict, n: int, prev: str) -> str | None:
    if row["seq"] != n:
        return f"row {n} is missing (the next row found is number {row['seq']})"
    if row["prev_sha256"] != prev:
        return "it does not chain to the row before (prev_sha256 differs)"
    if row_hash(row) != row["row_sha256"]:
        return "its content does not match its row_sha256"
    return _vouched_problem(layout, row)


def _vouched_problem(layout: Layout, row: dict) -> str | None:
    """The files a row vouches for: its lines, its manifest and each file as issued."""
    seq, stem = row["seq"], row["stem"]
    if row["lines_sha256"] is not None:
        path = layout.issued_lines / f"{seq:06d}.parquet"
        if not path.exists() or sha256(path.read_bytes()) != row["lines_sha256"]:
            return f"its lines ({path.name}) are missing or changed"
    if row["manifest_sha256"] is None:
        return None  # a row from before D46: no archived files
    folder = archive(layout, seq, stem)
    manifest = folder / f"{stem}.manifest.json"
    if not manifest.exists() or sha256(manifest.read_bytes()) != row["manifest_sha256"]:
        return f"its manifest ({manifest.name}) is missing or changed"
    for name, digest in json.loads(row["files"]).items():
        path = folder / name
        if not path.exists() or sha256(path.read_bytes()) != digest:
            return f"its file {name} as issued is missing or changed"
    return None
