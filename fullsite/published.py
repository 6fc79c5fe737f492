"""The published warehouse as its readers know it: the schemas analysts get, and the file's
own build record — what is published is read from the published file itself, never from a
side file that can lag behind it (issues 36 and 37).

The run writes the record into the staging file just before publication
(orchestration/warehouse.py); statements, the brief and ``fullsite status`` read it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path

import duckdb

from fullsite.duck import row

# Schemas the analysts get; the staging and intermediate layers stay behind.
PUBLISHED_SCHEMAS = ("marts", "finance", "dq", "params")
BUILD_RECORD = "params.warehouse_build"
BUILD_FILES = "params.warehouse_build_files"  # the dbt files the build was made from
# The content fingerprint's parts: per table (and business date, for a table a night rebuilds
# by date) its row count and sum of row hashes, so a night hashes only what it rebuilt (D50).
CONTENT_PARTS = "params.warehouse_content"
NOT_CONTENT = (BUILD_RECORD, BUILD_FILES, CONTENT_PARTS)


@dataclass(frozen=True)
class Build:
    project_fingerprint: str  # SHA-256 of the dbt project that built the file
    # SHA-256 over every published table's rows: this build's content
    content_fingerprint: str | None
    built_at: dt.datetime
    data_through: dt.date  # the last ingest date published
    run_id: str | None  # the run-log record of that night
    dagster_run_id: str | None
    # The first business date the night could change (None: built whole); the build it replaced
    rebuilt_from: dt.date | None = None
    previous_built_at: dt.datetime | None = None
    built_on: str | None = None  # what the night started from: spare, copy or nothing

    @property
    def build_id(self) -> str:
        """A short name of this build's content, for people (the first 12 hex digits)."""
        return (self.content_fingerprint or self.project_fingerprint)[:12]


def read_build(con: duckdb.DuckDBPyConnection) -> Build | None:
    """The build record of the warehouse ``con`` is open on (None for a file without one, or
    one an older version wrote, without the data-through date)."""
    schema, table = BUILD_RECORD.split(".")
    columns = {
        r[0]
        for r in con.execute(
            "select column_name from duckdb_columns() where schema_name = ? and table_name = ?",
            [schema, table],
        ).fetchall()
    }
    if "fingerprint" not in columns:
        return None
    wanted = [
        "fingerprint",
        "content_fingerprint",
        "built_at",
        "data_through",
        "run_id",
        "dagster_run_id",
        "rebuilt_from",
        "previous_built_at",
        "built_on",
    ]
    found = con.execute(
        f"select {', '.join(c if c in columns else 'null' for c in wanted)} from {BUILD_RECORD}"
    ).fetchone()
    return Build(*found) if found and found[3] is not None else None


def build_of(path: Path) -> Build | None:
    """The build record of the DuckDB file at ``path`` (None: no file, one that cannot be
    opened, or one without a record)."""
    if not path.exists():
        return None
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error:
        return None
    try:
        return read_build(con)
    except duckdb.Error:
        return None
    finally:
        con.close()


def content_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The published tables a content fingerprint covers (not views, not the build's own
    records), as ``schema.table``, in the fingerprint's order."""
    tables = con.execute(
        """select schema_name, table_name from duckdb_tables()
                            where database_name = current_database() and schema_name in ({})
                            order by 1, 2""".format(", ".join("?" * len(PUBLISHED_SCHEMAS))),
        list(PUBLISHED_SCHEMAS),
    ).fetchall()
    return [f"{s}.{t}" for s, t in tables if f"{s}.{t}" not in NOT_CONTENT]


def quoted(table: str) -> str:
    """``schema.table`` as an identifier (the names come from DuckDB's own catalog)."""
    schema, name = table.split(".")
    return f'"{schema}"."{name}"'


def digest(sums: list[tuple[str, int, int]]) -> str:
    """SHA-256 of each table's name, row count and sum of row hashes, in ``sums``' order."""
    out = hashlib.sha256()
    for table, count, total in sums:
        out.update(f"{table}\0{count}\0{total}\n".encode())
    return out.hexdigest()


def content_fingerprint(con: duckdb.DuckDBPyConnection) -> str:
    """SHA-256 over the rows of every published table (not views, not the build record): per
    table its name, row count and the sum of its rows' hashes — the same content gives the
    same fingerprint, in any row order. This reads every row; a night keeps the sums by part
    instead and hashes only what it rebuilt (orchestration/fingerprint.py)."""
    sums = []
    for table in content_tables(con):
        count, total = row(
            con, f"select count(*), coalesce(sum(hash(t)::hugeint), 0) from {quoted(table)} t"
        )
        sums.append((table, count, total))
    return digest(sums)


def build_files(con: duckdb.DuckDBPyConnection) -> dict[str, str] | None:
    """The dbt files (path → SHA-256) the build of ``con`` was made from; None for a build
    that did not record them (made before D46)."""
    schema, table = BUILD_FILES.split(".")
    found = con.execute(
        "select count(*) from duckdb_tables() where schema_name = ? and table_name = ?",
        [schema, table],
    ).fetchone()
    if not found or not found[0]:
        return None
    return dict(con.execute(f"select path, sha256 from {BUILD_FILES}").fetchall())
