"""One row or one value of a DuckDB query that always returns one (an aggregate, a lookup
that must exist): a missing row is an error that says which query, not a None further on."""

from __future__ import annotations

from typing import Any

import duckdb


def row(
    con: duckdb.DuckDBPyConnection, sql: str, params: list | dict | None = None
) -> tuple[Any, ...]:
    found = con.execute(sql, params or []).fetchone()
    if found is None:
        raise LookupError(f"no row from: {' '.join(sql.split())[:200]}")
    return found


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list | dict | None = None) -> Any:
    return row(con, sql, params)[0]
