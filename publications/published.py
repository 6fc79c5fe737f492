"""How every publication opens the published warehouse: read-only, one connection to one
build, its build record and its rule parameters read from the file itself."""

from __future__ import annotations

from decimal import Decimal

import duckdb

from fullsite.duck import scalar
from fullsite.layout import Layout
from fullsite.published import Build, read_build


class NotPublished(Exception):
    """No published warehouse (or one without what a publication needs): one line for the reader."""


def connect(layout: Layout) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the published file: it keeps reading the build it opened
    while a publication replaces the file, and holds no lock a run would wait on."""
    if not layout.warehouse.exists():
        raise NotPublished(f"no published warehouse at {layout.warehouse}: run the pipeline first")
    return duckdb.connect(str(layout.warehouse), read_only=True)


def build(con: duckdb.DuckDBPyConnection) -> Build:
    found = read_build(con)
    if found is None:
        raise NotPublished(
            "the warehouse has no build record (built by an older version): run the pipeline once "
            "more"
        )
    return found


def has_table(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    schema, name = table.split(".")
    return bool(
        scalar(
            con,
            "select count(*) from duckdb_tables() where schema_name = ? and table_name = ?",
            [schema, name],
        )
    )


def param(con: duckdb.DuckDBPyConnection, name: str) -> Decimal:
    """A rule parameter as the warehouse holds it (params.rule_parameters), exact."""
    row = (
        con.execute(
            "select value from params.rule_parameters where parameter = ?", [name]
        ).fetchone()
        if has_table(con, "params.rule_parameters")
        else None
    )
    if row is None:
        raise NotPublished(f"the warehouse has no rule parameter {name}")
    return Decimal(row[0])
