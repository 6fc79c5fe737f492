"""The warehouse explains itself (issue 16): every published table and column carries a
description in the file, the analyst tables tie out, every query of docs/queries.md runs,
and the dbt docs site of a published warehouse opens from disk."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from fullsite.layout import Layout
from publications.docs_site import write_docs
from tests.published import query

QUERIES = Path(__file__).resolve().parents[2] / "docs" / "queries.md"
PUBLISHED_SCHEMAS = ("marts", "finance", "dq", "params")


def test_every_published_table_and_column_is_described_in_the_file(published_root):
    """Night: the shared published root, made in tests/conftest.py (published_root)."""
    wh = published_root / "warehouse.duckdb"
    schemas = ", ".join(f"'{s}'" for s in PUBLISHED_SCHEMAS)
    bare_tables = query(
        wh,
        f"""select schema_name || '.' || table_name from duckdb_tables()
                                where schema_name in ({schemas}) and coalesce(comment, '') = ''
                                union all
                                select schema_name || '.' || view_name from duckdb_views()
                                where schema_name in ({schemas}) and coalesce(comment, '') = ''""",
    )
    bare_columns = query(
        wh,
        f"""select schema_name || '.' || table_name || '.' || column_name from duckdb_columns()
                                 where schema_name in ({schemas}) and coalesce(comment, '') = ''""",
    )
    assert bare_tables == [] and bare_columns == []
    described = dict(
        query(
            wh,
            "select column_name, comment from duckdb_columns() where table_name = "
            "'campaign_roi_7d'",
        )
    )
    assert "protection_trigger" in described["achievement"] and "void" in described["status"]


def test_the_analyst_tables_tie_out(published_root):
    """Night: the shared published root, made in tests/conftest.py (published_root)."""
    wh = published_root / "warehouse.duckdb"
    assert query(
        wh,
        """select count(*) from (
                          select business_date, sum(gmv) g, sum(spend) s from marts.merchant_daily
                              group by 1
                          except all
                          select business_date, sum(gmv), sum(spend) from marts.fct_product_daily
                              group by 1)""",
    ) == [(0,)]
    assert query(
        wh,
        "select count(*) from marts.merchant_daily where natural_gmv + paid_attributed_gmv <> gmv",
    ) == [(0,)]
    assert query(
        wh,
        """select count(*) from marts.dim_product p left join marts.dim_merchant m using
            (merchant_id)
                        where m.merchant_id is null""",
    ) == [(0,)]
    types = dict(
        query(
            wh,
            """select column_name, data_type from information_schema.columns
                              where table_name = 'product_tags_daily' and column_name like
                                  '%\\_14d' escape '\\'
                                and column_name not like '%rate%' and column_name not like '%cvr%'
                                    and column_name not like 'ctr%'""",
        )
    )
    assert types and set(types.values()) == {"BIGINT"}


def _queries() -> list[str]:
    return re.findall(r"```sql\n(.*?)```", QUERIES.read_text(), re.S)


@pytest.mark.parametrize("sql", _queries(), ids=lambda sql: sql.split("\n")[0][:40])
def test_every_query_in_the_analysts_page_runs(published_root, sql):
    """Night: the shared published root, made in tests/conftest.py (published_root)."""
    query(published_root / "warehouse.duckdb", sql)


def test_the_sql_shell_of_the_environment_opens_the_warehouse(published_root):
    """Night: the shared published root, made in tests/conftest.py (published_root)."""
    shell = shutil.which("duckdb", path=str(Path(__import__("sys").executable).parent))
    assert shell, "duckdb-cli is not installed next to this Python (make setup)"
    out = subprocess.run(
        [
            shell,
            "-readonly",
            str(published_root / "warehouse.duckdb"),
            "-csv",
            "-noheader",
            "-c",
            "select count(*) > 0 from marts.fct_product_daily",
        ],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0 and out.stdout.strip() == "true", out.stderr


def test_the_docs_site_of_a_published_warehouse_opens_from_disk(published_root, tmp_path):
    """Night: the shared published root, made in tests/conftest.py (published_root)."""
    root = Path(shutil.copytree(published_root, tmp_path / "root"))
    page = write_docs(Layout(root))
    assert page == root / "docs" / "index.html"
    html = page.read_text()
    assert "merchant_daily" in html and "Full-site ROI" in html and "Where to start" in html
    assert not re.search(
        r"""<script[^>]+src=["']https?://""", html
    )  # nothing to fetch from a network
