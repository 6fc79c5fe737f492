"""Business dates: of an instant (a Spark column, Asia/Shanghai), and the dates a raw
partition's rows can fall on, read from its Parquet footers without touching a row."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow.parquet as pq
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from fullsite import rules
from fullsite.contract import BUSINESS_TZ
from fullsite.layout import Layout, data_files


def business_date(col: str = "event_time"):
    """Calendar date in Asia/Shanghai of a UTC instant (session time zone is UTC)."""
    return F.to_date(F.from_utc_timestamp(F.col(col), BUSINESS_TZ))


FOOTER_SPAN_DAYS = 14
"""Up to this many days between the earliest and latest event of a raw partition, its
business dates are taken from the Parquet footers; a wider span scans the rows instead."""


def footer_dates(folder: Path) -> set[dt.date] | None:
    """Every business date between the min and max ``event_time`` in the footers of the
    data files of ``folder`` (a superset of the rows' dates, read without touching a row),
    or None when a footer lacks the statistics, the span is wide, or an instant has no
    calendar date here (a "never" placeholder such as 9999-12-31T23:59Z is in year 10000
    in Shanghai: the rows are scanned instead, where Spark handles any instant)."""
    lo = hi = None
    for f in data_files(folder):
        meta = pq.ParquetFile(f).metadata
        if "event_time" not in meta.schema.names:
            return None
        col = meta.schema.names.index("event_time")
        for i in range(meta.num_row_groups):
            group = meta.row_group(i)
            stats = group.column(col).statistics
            if stats is not None and stats.null_count == group.num_rows:
                continue  # only nulls: no business date
            if stats is None or not stats.has_min_max:
                return None
            try:
                lo = stats.min if lo is None else min(lo, stats.min)
                hi = stats.max if hi is None else max(hi, stats.max)
            except (OverflowError, ValueError):  # an instant Python's datetime cannot hold
                return None
    if lo is None or hi is None:
        return set()
    tz = ZoneInfo(BUSINESS_TZ)
    try:
        first, last = (t.replace(tzinfo=t.tzinfo or dt.UTC).astimezone(tz).date() for t in (lo, hi))
    except (OverflowError, ValueError):
        return None
    if (last - first).days > FOOTER_SPAN_DAYS:
        return None
    return {first + dt.timedelta(days=k) for k in range((last - first).days + 1)}


def index_dates(layout: Layout, table: str, raw: DataFrame, D: dt.date) -> list[dt.date]:
    """Business dates whose accepted ids the rows of ingest D can collide with: their own
    dates (an identical redelivery keeps its time), plus a look-back for conflicting copies
    whose time moved. Never the whole history. ``raw`` holds the rows of D (``_ingest``)."""
    own = footer_dates(layout.raw(table, D)) if layout.raw(table, D).is_dir() else set()
    if own is None:  # only dates up to D can hold accepted rows (and Python's date can hold them)
        in_range = F.col("business_date").between(F.to_date(F.lit("0001-01-01")), F.lit(D))
        own = {
            r[0]
            for r in raw.where((F.col("_ingest") == F.lit(D)) & in_range)
            .select("business_date")
            .distinct()
            .collect()
        }
    lookback = int(rules.param("dedup_lookback_days"))
    recent = {D - dt.timedelta(days=k) for k in range(0, lookback + 1)}
    return sorted(d for d in own | recent if d <= D)
