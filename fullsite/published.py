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

import duckdb

from fullsite.duck import row

# Schemas the analysts get; the staging and intermediate layers stay behind.
PUBLISHED_SCHEMAS = ("marts", "finance", "dq", "params")
BUILD_RECORD = "params.warehouse_build"
BUILD_FILES = "params.warehouse_build_files"  # the dbt files the build was made from


@dataclass(frozen=True)
class Build:
    project_fingerprint: str  # SHA-256 of the dbt project that built the file
    # SHA-256 over every published table's rows: this build's content
    content_fingerprint: str | None
    built_at: dt.datetime
    data_through: dt.date  # the last ingest date published
    run_id: str | None  # the run-log record of that night
    dagster_run_id: str | None

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
    ]
    found = con.execute(
        f"select {', '.join(c if c in columns else 'null' for c in wanted)} from {BUILD_RECORD}"
    ).fetchone()
    return Build(*found) if found and found[3] is not None else None


def content_fingerprint(con: duckdb.DuckDBPyConnection) -> str:
    """SHA-256 over the rows of every published table (not views, not the build record): per
    table its name, row count and the sum of its rows' hashes — the same content gives the
    same fingerprint, in any row order."""
    tables = con.execute(
        """select schema_name, table_name from duckdb_tables()
                            where database_name = current_database() and schema_name in ({})
                            order by 1, 2""".format(", ".join("?" * len(PUBLISHED_SCHEMAS))),
        list(PUBLISHED_SCHEMAS),
    ).fetchall()
    digest = hashlib.sha256()
    for schema, table in tables:
        if f"{schema}.{table}" in (BUILD_RECORD, BUILD_FILES):
            continue
        name = f'"{schema}"."{table}"'
        count, total = row(
            con, f"select count(*), coalesce(sum(hash(t)::hugeint), 0) from {name} t"
        )
        digest.update(f"{schema}.{table}\0{count}\0{total}\n".encode())
    return digest.hexdigest()


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
