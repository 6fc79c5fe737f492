"""The business dates a raw partition can hold, read from its Parquet footers (spark_jobs/dates.py):
always a superset of the rows' dates, or None (then cleaning scans the rows)."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.parquet as pq

from spark_jobs.dates import FOOTER_SPAN_DAYS, footer_dates

UTC = dt.UTC


def _write(folder, times, **options):
    folder.mkdir(parents=True, exist_ok=True)
    table = pa.table(
        {
            "event_id": [str(k) for k in range(len(times))],
            "event_time": pa.array(times, pa.timestamp("us", tz="UTC")),
        }
    )
    pq.write_table(table, folder / f"part-{len(list(folder.iterdir()))}.parquet", **options)


def test_dates_are_local_and_cover_every_row(tmp_path):
    # 15:59:59.999999 UTC is 23:59:59.999999 in Shanghai; 16:00 UTC is the next local day.
    _write(tmp_path, [dt.datetime(2024, 7, 4, 15, 59, 59, 999999, tzinfo=UTC), None])
    _write(tmp_path, [dt.datetime(2024, 7, 6, 16, 0, tzinfo=UTC)])
    assert footer_dates(tmp_path) == {
        dt.date(2024, 7, 4),
        dt.date(2024, 7, 5),
        dt.date(2024, 7, 6),
        dt.date(2024, 7, 7),
    }


def test_only_nulls_have_no_date(tmp_path):
    _write(tmp_path, [None, None])
    assert footer_dates(tmp_path) == set()


def test_without_statistics_or_over_a_wide_span_the_rows_are_scanned(tmp_path):
    _write(tmp_path / "bare", [dt.datetime(2024, 7, 4, tzinfo=UTC)], write_statistics=False)
    assert footer_dates(tmp_path / "bare") is None
    first = dt.datetime(2024, 7, 4, 4, tzinfo=UTC)
    _write(tmp_path / "wide", [first, first + dt.timedelta(days=FOOTER_SPAN_DAYS + 1)])
    assert footer_dates(tmp_path / "wide") is None


def test_only_data_files_count_and_instants_without_a_local_date_fall_back_to_the_rows(tmp_path):
    (tmp_path / "odd").mkdir()
    (tmp_path / "odd" / "events.csv").write_text("not parquet")  # not a data file: nobody reads it
    assert footer_dates(tmp_path / "odd") == set()
    # 9999-12-31T23:59Z is in year 10000 in Shanghai: no Python date (it raised OverflowError)
    _write(
        tmp_path / "never",
        [dt.datetime(2024, 7, 4, tzinfo=UTC), dt.datetime(9999, 12, 31, 23, 59, tzinfo=UTC)],
    )
    assert footer_dates(tmp_path / "never") is None
