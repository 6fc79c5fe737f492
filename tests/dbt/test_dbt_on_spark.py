"""The dbt project is portable: built with dbt-spark (session method) from the same curated
layer and run date, every published table equals the dbt-duckdb build row for row."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from fullsite.tablediff import differing_rows
from tests.conftest import PUBLISHED

SCRIPT = Path(__file__).with_name("spark_build.py")


def _published_tables(con) -> list[tuple[str, str]]:
    return con.execute("""select table_schema, table_name from information_schema.tables
                          where table_schema in ('marts', 'finance', 'dq') and table_type =
                              'BASE TABLE'
                          order by all""").fetchall()


@pytest.mark.slow
def test_marts_built_on_spark_equal_the_duckdb_build(published_root, tmp_path):
    """Night: the shared published root, made in tests/conftest.py (published_root)."""
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(published_root), str(PUBLISHED), str(out)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]

    con = duckdb.connect(str(Path(published_root) / "warehouse.duckdb"), read_only=True)
    con.execute("set TimeZone = 'UTC'")
    tables = _published_tables(con)
    exported = sorted(tuple(p.name.split(".", 1)) for p in (out / "tables").iterdir())
    assert exported == tables

    compared = 0
    for schema, name in tables:
        cols = [
            c
            for (c,) in con.execute(
                "select column_name from information_schema.columns where table_schema = ? and "
                "table_name = ? order by ordinal_position",
                [schema, name],
            ).fetchall()
        ]
        duck = f"select {', '.join(cols)} from {schema}.{name}"
        spark = (
            f"select {', '.join(cols)} from read_parquet('{out}/tables/{schema}.{name}/*.parquet')"
        )
        differing = differing_rows(con, duck, spark)
        assert differing == 0, f"{schema}.{name}: {differing} rows differ between DuckDB and Spark"
        compared += con.execute(f"select count(*) from {schema}.{name}").fetchone()[0]
    assert compared > 0
    # The money tables are not vacuous on this data: the comparison covers real settlements.
    assert con.execute("select count(*) from finance.merchant_rebates_monthly").fetchone()[0] > 0
    assert con.execute("select count(*) from finance.compensation_claims").fetchone()[0] > 0
