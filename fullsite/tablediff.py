"""Row-for-row comparison of two query results in DuckDB, as multisets (a row that appears
twice on one side and once on the other is a difference). Shared by the benchmark's checks
and the tests that compare two engines' output."""

from __future__ import annotations

import duckdb

from fullsite.duck import scalar


def differing_rows(con: duckdb.DuckDBPyConnection, a: str, b: str) -> int:
    """Rows of query ``a`` not matched in ``b`` plus rows of ``b`` not matched in ``a``
    (EXCEPT ALL both ways): 0 when the two results are the same multiset of rows."""
    return sum(
        scalar(con, f"select count(*) from (({x}) except all ({y}))") for x, y in ((a, b), (b, a))
    )
