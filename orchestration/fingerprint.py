"""The content fingerprint of a build, kept by parts so a night hashes what it rebuilt (D50).

``params.warehouse_content`` holds, per published table, its row count and sum of row hashes
— per business date for a table dbt rebuilds by date (``rebuild_dates_config``), whole for
any other. A night's staging file starts from a build whose parts describe it; dbt replaces
only the dates from ``rebuilt_from`` on in the by-date tables, so only those parts are hashed
again, and everything else (small tables dbt rebuilds whole) is hashed in full. The sums add
up to exactly what ``content_fingerprint`` computes from every row: the same content, the
same fingerprint, whichever way it was built (a test compares the two).
"""

from __future__ import annotations

import datetime as dt
import json

import duckdb

from fullsite import dbt_artifacts
from fullsite.duck import row
from fullsite.published import CONTENT_PARTS, content_tables, digest, quoted


def rebuilt_by_date() -> dict[str, str]:
    """``schema.table`` → its date column, for each model dbt rebuilds by date (the models
    of ``rebuild_dates_config``, read from the project's parse)."""
    manifest = json.loads(dbt_artifacts.parsed().read_text())
    return {
        f"{node['schema']}.{node['alias']}": column
        for node in manifest["nodes"].values()
        if (column := (node.get("config", {}).get("meta") or {}).get("rebuilt_by_date"))
    }


def _ensure(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        f"""create table if not exists {CONTENT_PARTS} (
                table_name varchar, by_column varchar, part date, row_count bigint,
                hash_sum hugeint)"""
    )


def _hash(con, table: str, column: str | None, since: dt.date | None) -> None:
    """Insert the parts of ``table`` (per ``column`` value, from ``since`` on, or whole)."""
    part = f'"{column}"' if column else "null::date"
    where = f'where "{column}" >= ?' if column and since else ""
    con.execute(
        f"""insert into {CONTENT_PARTS}
            select ?, ?, {part}, count(*), coalesce(sum(hash(t)::hugeint), 0)
            from {quoted(table)} t {where} group by all""",
        [table, column] + ([since] if where else []),
    )


def _carried(con, table: str, column: str) -> bool:
    """Whether the stored parts of ``table`` were kept by ``column`` (and so can be carried)."""
    kept = row(
        con,
        f"select count(*), count(*) filter (where by_column is distinct from ?) "
        f"from {CONTENT_PARTS} where table_name = ?",
        [column, table],
    )
    return kept[0] > 0 and kept[1] == 0


def _refresh_table(con, table: str, column: str | None, since: dt.date | None) -> None:
    if column and since and _carried(con, table, column):
        con.execute(
            f"delete from {CONTENT_PARTS} where table_name = ? and part >= ?", [table, since]
        )
        _hash(con, table, column, since)
        counted = row(con, f"select count(*) from {quoted(table)}")[0]
        summed = row(
            con, f"select sum(row_count) from {CONTENT_PARTS} where table_name = ?", [table]
        )[0]
        if counted == summed:
            return
    # built whole, never kept by date, or the carried parts do not add up: hash it all
    con.execute(f"delete from {CONTENT_PARTS} where table_name = ?", [table])
    _hash(con, table, column, None)


def refresh(con: duckdb.DuckDBPyConnection, since: dt.date | None, by_date: dict[str, str]) -> str:
    """Bring the parts of the file ``con`` is open on up to date and return its content
    fingerprint. ``since``: the first date dbt may have replaced in the tables of ``by_date``
    (``rebuilt_by_date()``; None: the file was built whole, or its parts cannot be trusted)."""
    _ensure(con)
    tables = content_tables(con)
    con.execute(
        f"delete from {CONTENT_PARTS} where table_name not in (select unnest(?::varchar[]))",
        [tables],
    )
    for table in tables:
        _refresh_table(con, table, by_date.get(table), since)
    sums = dict(
        (name, (count, total))
        for name, count, total in con.execute(
            f"""select table_name, sum(row_count)::bigint, sum(hash_sum)
                from {CONTENT_PARTS} group by table_name"""
        ).fetchall()
    )
    return digest([(t, *sums.get(t, (0, 0))) for t in tables])
