"""The published warehouse as its readers know it: the schemas analysts get, and the file's
own build record — what is published is read from the published file itself, never from a
side file that can lag behind it (issues 36 and 37).

The run writes the record into the staging file just before publication
(orchestration/warehouse.py); statements, the brief and ``fullsite status`` read it.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

from fullsite.duck import row

# Schemas the analysts get; the staging and intermediate layers stay behind.
PUBLISHED_SCHEMAS = ("marts", "finance", "dq", "params")
BUILD_RECORD = "params.warehouse_build"

# The register of issued statements (<data-root>/reports/register.parquet; publications/register.py
# appends to it): its columns and what they say, published as the view finance.statement_register.
REGISTER_COLUMNS = {
    "statement": ("string", "The statement: rebates or compensation."),
    "period": ("string", "The period it covers: a month (2024-07) or a range of close dates."),
    "stem": ("string", "The name its files share (rebates-2024-07 …)."),
    "provisional": ("bool", "True when issued with --provisional: it covers days whose figures are not all final."),
    "files": ("string", "Each file's name and SHA-256, as JSON: `fullsite report verify FILE` looks them up."),
    "warehouse_fingerprint": ("string", "The published build it was drawn from (SHA-256 of the build's content)."),
    "data_through": ("date32", "The last ingest date that build held."),
    "covered_from": ("date32", "The first date of the period the data covers."),
    "covered_to": ("date32", "The last date of the period the data covers."),
    "rows": ("int64", "Lines of the statement (the total line aside)."),
    "totals": ("string", "Its control totals per money column, as JSON."),
    "issued_at": ("timestamp", "When it was issued (UTC)."),
}


def register_schema():
    import pyarrow as pa

    types = {"string": pa.string(), "bool": pa.bool_(), "date32": pa.date32(), "int64": pa.int64(),
             "timestamp": pa.timestamp("us", tz="UTC")}
    return pa.schema([(name, types[kind]) for name, (kind, _) in REGISTER_COLUMNS.items()])


def ensure_register(path: Path) -> None:
    """The register exists (empty until a statement is issued), so its view always reads."""
    if not path.exists():
        import pyarrow.parquet as pq

        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        pq.write_table(register_schema().empty_table(), tmp)
        os.replace(tmp, path)


@dataclass(frozen=True)
class Build:
    project_fingerprint: str          # SHA-256 of the dbt project that built the file
    content_fingerprint: str | None   # SHA-256 over every published table's rows: this build's content
    built_at: dt.datetime
    data_through: dt.date             # the last ingest date published
    run_id: str | None                # the run-log record of that night
    dagster_run_id: str | None

    @property
    def build_id(self) -> str:
        """A short name of this build's content, for people (the first 12 hex digits)."""
        return (self.content_fingerprint or self.project_fingerprint)[:12]


def read_build(con: duckdb.DuckDBPyConnection) -> Build | None:
    """The build record of the warehouse ``con`` is open on (None for a file without one, or
    one an older version wrote, without the data-through date)."""
    schema, table = BUILD_RECORD.split(".")
    columns = {r[0] for r in con.execute("select column_name from duckdb_columns() where schema_name = ? and table_name = ?",
                                         [schema, table]).fetchall()}
    if "fingerprint" not in columns:
        return None
    wanted = ["fingerprint", "content_fingerprint", "built_at", "data_through", "run_id", "dagster_run_id"]
    found = con.execute(f"select {', '.join(c if c in columns else 'null' for c in wanted)} from {BUILD_RECORD}").fetchone()
    return Build(*found) if found and found[3] is not None else None


def content_fingerprint(con: duckdb.DuckDBPyConnection) -> str:
    """SHA-256 over the rows of every published table (not views, not the build record): per
    table its name, row count and the sum of its rows' hashes — the same content gives the
    same fingerprint, in any row order."""
    tables = con.execute("""select schema_name, table_name from duckdb_tables()
                            where database_name = current_database() and schema_name in ({})
                            order by 1, 2""".format(", ".join("?" * len(PUBLISHED_SCHEMAS))),
                         list(PUBLISHED_SCHEMAS)).fetchall()
    digest = hashlib.sha256()
    for schema, table in tables:
        if f"{schema}.{table}" == BUILD_RECORD:
            continue
        name = f'"{schema}"."{table}"'
        count, total = row(con, f"select count(*), coalesce(sum(hash(t)::hugeint), 0) from {name} t")
        digest.update(f"{schema}.{table}\0{count}\0{total}\n".encode())
    return digest.hexdigest()
