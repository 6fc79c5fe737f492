"""The content fingerprint summed from parts (orchestration/fingerprint.py, D50): a night
rehashes only the dates it rebuilt, and the sums always equal hashing every row."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from fullsite.published import CONTENT_PARTS, content_fingerprint
from orchestration import fingerprint

BY_DATE = {"marts.facts": "business_date"}
DAY = dt.date(2024, 7, 1)


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute("create schema params")
    con.execute(
        "create table marts.facts as select (i % 5) as product_id, "
        "?::date + (i // 5)::integer as business_date, i * 1.5 as gmv from range(50) t(i)",
        [DAY],
    )
    con.execute("create table marts.merchants as select i as merchant_id from range(3) t(i)")
    yield con
    con.close()


def _night(con, since: dt.date, gmv: float) -> None:
    """dbt's part: the dates from ``since`` replaced, and a table rebuilt whole."""
    con.execute("delete from marts.facts where business_date >= ?", [since])
    con.execute(
        "insert into marts.facts select i, ?::date + j::integer, ? from range(5) a(i), "
        "range(3) b(j)",
        [since, gmv],
    )
    con.execute("create or replace table marts.merchants as select 7 as merchant_id")


def _parts(con, table: str) -> int:
    return con.execute(
        f"select count(*) from {CONTENT_PARTS} where table_name = ?", [table]
    ).fetchone()[0]


def test_the_parts_add_up_to_every_rows_hash_night_after_night(con):
    assert fingerprint.refresh(con, None, BY_DATE) == content_fingerprint(con)
    assert _parts(con, "marts.facts") == 10 and _parts(con, "marts.merchants") == 1
    since = DAY + dt.timedelta(days=8)
    _night(con, since, 2.5)
    assert fingerprint.refresh(con, since, BY_DATE) == content_fingerprint(con)
    assert _parts(con, "marts.facts") == 11  # two dates replaced, one more appended


def test_parts_that_do_not_add_up_are_hashed_again(con):
    fingerprint.refresh(con, None, BY_DATE)
    # an older date changed behind the night's back: the count gives it away
    con.execute("delete from marts.facts where business_date = ?", [DAY])
    since = DAY + dt.timedelta(days=8)
    assert fingerprint.refresh(con, since, BY_DATE) == content_fingerprint(con)


def test_a_table_kept_whole_before_is_hashed_whole_once(con):
    fingerprint.refresh(con, None, {})  # facts not yet kept by date
    since = DAY + dt.timedelta(days=8)
    _night(con, since, 2.5)
    assert fingerprint.refresh(con, since, BY_DATE) == content_fingerprint(con)
    assert _parts(con, "marts.facts") == 11


def test_a_table_gone_leaves_no_parts(con):
    fingerprint.refresh(con, None, BY_DATE)
    con.execute("drop table marts.merchants")
    assert fingerprint.refresh(con, None, BY_DATE) == content_fingerprint(con)
    assert _parts(con, "marts.merchants") == 0
