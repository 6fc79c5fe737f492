"""A backfill cleans all its ingests in one Spark pass (decision D31): the outcome must be
exactly that of cleaning them one after the other, as nightly runs do — every accepted,
duplicate and quarantined row, in the same ingest, with the same reason. The pass side
also takes the path of large inputs (ids with copies found first, the other rows judged
by validation alone), the night-by-night side the exact path for every row.

The data are the tiny days made harder (tests/reference/harder.py: redeliveries identical
and conflicting, in-partition copies, a row quarantined and delivered corrected later, a
missing partition, changing snapshots) plus copies of one id across the ingests of the
pass, where a later ingest's outcome depends on what an earlier one accepted."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fullsite import rules
from fullsite.contract import EVENT_TABLES
from fullsite.layout import Layout
from fullsite.tablediff import differing_rows
from spark_jobs import dedup
from spark_jobs.nightly import clean_date, clean_dates
from tests.conftest import FIRST, TINY_DAYS, copy_root
from tests.rawdata import SHANGHAI
from tests.reference.harder import make_harder

DAYS = [FIRST + dt.timedelta(days=k) for k in range(TINY_DAYS)]


def _add(root: Path, table: str, day: dt.date, rows: list[dict], name: str) -> None:
    folder = root / "raw" / table / f"dt={day}"
    schema = pq.read_schema(next(folder.glob("*.parquet")))
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), folder / f"zz-{name}.parquet")


def _plant_copies_across_ingests(root: Path) -> None:
    """Cases whose outcome depends on an earlier ingest of the same pass."""
    clicks = [
        r
        for f in sorted((root / "raw" / "clicks" / f"dt={DAYS[0]}").glob("part*.parquet"))
        for r in pq.read_table(f).to_pylist()
    ]
    on_time = next(
        r
        for r in clicks
        if r["event_time"].astimezone(SHANGHAI).date() == DAYS[0] and r["campaign_id"] is None
    )
    noon = lambda day: dt.datetime.combine(day, dt.time(12), SHANGHAI).astimezone(dt.UTC)  # noqa: E731
    # Two different copies in one ingest (all quarantined), then one copy the day after:
    # nothing was accepted before, so it is.
    a = {**on_time, "event_id": "T-conflict", "event_time": noon(DAYS[2])}
    b = {**a, "scene": "recommend" if a["scene"] == "search" else "search"}  # both valid, different
    _add(root, "clicks", DAYS[2], [a, b], "t1")
    _add(root, "clicks", DAYS[3], [a], "t1")
    # Accepted, then again identical (a duplicate), then again changed (a conflict).
    c = {**on_time, "event_id": "T-chain", "event_time": noon(DAYS[3])}
    _add(root, "clicks", DAYS[3], [c], "t2")
    _add(root, "clicks", DAYS[4], [c], "t2")
    _add(root, "clicks", DAYS[5], [{**c, "user_id": c["user_id"] + "-x"}], "t2")
    # A row of the first ingest sent again on the last with its time moved there: its date
    # is beyond the last ingest's look-back (LOOKBACK), which cannot see it: accepted again.
    _add(root, "clicks", DAYS[-1], [{**on_time, "event_time": noon(DAYS[-1])}], "t3")


def _outcome(root: Path) -> dict[str, str]:
    """Every stored row of the cleaning, as queries (compared in DuckDB, not row by row in
    Python)."""
    out = {}
    for t in EVENT_TABLES:
        out[f"accepted {t}"] = (
            f"select * from read_parquet('{root}/curated/accepted/{t}/*/*/*.parquet', "
            "hive_partitioning = true)"
        )
        out[f"quarantine {t}"] = (
            f"select * from read_parquet('{root}/quarantine/{t}/*/*.parquet', hive_partitioning = "
            f"true)"
        )
    for name in ("dq_ingest_reconciliation", "dq_quarantine_summary"):
        out[name] = (
            f"select * from read_parquet('{root}/curated/{name}/*/*.parquet', hive_partitioning = "
            f"true)"
        )
    return out


LOOKBACK = 3  # dedup_lookback_days, shorter than the pass, so that visibility matters


# Eleven Spark cleans of the harder days: in `make test-slow`, which CI runs on every
# stop (decision D38).
@pytest.mark.slow
def test_one_pass_cleaning_equals_ingest_by_ingest(tiny_raw, spark, tmp_path, monkeypatch):
    param = rules.param
    monkeypatch.setattr(
        rules, "param", lambda name: LOOKBACK if name == "dedup_lookback_days" else param(name)
    )
    base = copy_root(tiny_raw, tmp_path / "base")
    make_harder(base)
    _plant_copies_across_ingests(base)
    one_by_one, one_pass = (
        copy_root(base, tmp_path / "one_by_one"),
        copy_root(base, tmp_path / "one_pass"),
    )

    for day in DAYS:  # tiny nights: every row takes the exact path
        clean_date(spark, Layout(one_by_one), day)
    # The other side finds the ids with copies first, as a large pass does (dedup.classify):
    # two nights (the second judged against the store), then the rest in one pass.
    monkeypatch.setattr(dedup, "SPLIT_FROM_ROWS", 0)
    clean_dates(spark, Layout(one_pass), DAYS[:1])
    clean_dates(spark, Layout(one_pass), DAYS[1:2])
    clean_dates(spark, Layout(one_pass), DAYS[2:])

    expected, found, con = _outcome(one_by_one), _outcome(one_pass), duckdb.connect()
    for key, sql in expected.items():
        assert con.execute(f"select count(*) from ({sql})").fetchone()[0] > 0 or key.startswith(
            "quarantine"
        ), key
        assert differing_rows(con, sql, found[key]) == 0, key
    # The planted cases came out as the contract's order says (so the test tests them).
    status = sorted(
        duckdb.sql(
            f"select event_id || ' ' || ingest_date, 'accepted' from "
            f"read_parquet('{one_pass}/curated/accepted/clicks/*/*/*.parquet', "
            "hive_partitioning = true) where event_id like 'T-%' union all "
            f"select event_id || ' ' || ingest_date, reason from "
            f"read_parquet('{one_pass}/quarantine/clicks/*/*.parquet', "
            "hive_partitioning = true) where event_id like 'T-%'"
        ).fetchall()
    )
    assert status == sorted(
        [(f"T-conflict {DAYS[2]}", "conflicting_duplicate")] * 2  # both copies
        + [
            (f"T-conflict {DAYS[3]}", "accepted"),
            (f"T-chain {DAYS[3]}", "accepted"),
            (f"T-chain {DAYS[5]}", "conflicting_duplicate"),
        ]
    )
    recon = dict(
        duckdb.sql(
            f"select ingest_date, duplicates from read_parquet('{one_pass}/curated/"
            "dq_ingest_reconciliation/*/*.parquet', hive_partitioning = true) "
            "where table_name = 'clicks'"
        ).fetchall()
    )
    assert recon[DAYS[4]] >= 1  # T-chain's identical copy
    moved = duckdb.sql(
        f"select count(*) from read_parquet('{one_pass}/curated/accepted/clicks/*/*/*.parquet', "
        f"hive_partitioning = true) where ingest_date = '{DAYS[-1]}' and business_date = "
        f"'{DAYS[-1]}' and event_id in (select event_id from "
        f"read_parquet('{one_pass}/curated/accepted/clicks/*/*/*.parquet', hive_partitioning = "
        f"true) where ingest_date = '{DAYS[0]}')"
    ).fetchone()[0]
    assert moved == 1
