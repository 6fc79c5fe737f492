"""The small authoritative tables: product and merchant snapshots, the campaign change log."""

from __future__ import annotations

import datetime as dt
from functools import reduce
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from fullsite.contract import SCHEMAS
from fullsite.files import write_atomic
from fullsite.layout import Layout, data_files
from spark_jobs.io import contract_schema, read_parquet


def product_snapshot(spark: SparkSession, layout: Layout, day: dt.date) -> DataFrame:
    return read_parquet(spark, layout.raw_files("products", day), contract_schema("products"))


def snapshot_dates(layout: Layout, D: dt.date) -> list[dt.date]:
    """The dates of the product snapshots that have landed up to ``D`` (a folder listing)."""
    base = layout.raw("products")
    found = (
        (dt.date.fromisoformat(p.name[3:]) for p in base.glob("dt=*") if data_files(p))
        if base.exists()
        else ()
    )
    return sorted(d for d in found if d <= D)


def as_of_date(snapshots: list[dt.date], d: dt.date) -> dt.date:
    """The snapshot a date's attributes come from: that of ``d``, or the latest before it, or
    (a date before the first ingest) the first one (decision D14)."""
    earlier = [s for s in snapshots if s <= d]
    return earlier[-1] if earlier else snapshots[0]


def products_as_of(
    spark: SparkSession, layout: Layout, days: list[dt.date], D: dt.date, include_later: bool = True
) -> DataFrame:
    """Product attributes for each business date in ``days`` from its snapshot (``as_of_date``).
    With ``include_later`` a product missing from that snapshot takes the attributes of the
    earliest later snapshot up to ``D`` that has it: its events of ``d`` were accepted
    against that snapshot (D14). Both choices are the same whichever run computes ``d``, so a
    backfill in one pass equals nightly runs. The lifecycle lists only the products of the
    snapshot itself (``include_later=False``)."""
    snapshots = snapshot_dates(layout, D)
    if not snapshots:  # no products landed (the raw gate stops a run before this)
        return product_snapshot(spark, layout, D).withColumn(
            "business_date", F.lit(None).cast("date")
        )
    chosen = {d: as_of_date(snapshots, d) for d in days}
    needed = [
        s for s in snapshots if s in chosen.values() or (include_later and s > min(chosen.values()))
    ]
    parts = [
        product_snapshot(spark, layout, s).withColumn("snapshot_date", F.lit(s)) for s in needed
    ]
    # needed holds at least the snapshot of the first date
    snaps = reduce(DataFrame.unionByName, parts)
    dates = spark.createDataFrame(
        [(d, s) for d, s in chosen.items()], "business_date date, as_of date"
    )
    attrs = [c for c in snaps.columns if c not in ("product_id", "snapshot_date")]
    if not include_later:  # one snapshot per date: no choice to make
        return snaps.join(F.broadcast(dates), F.col("snapshot_date") == F.col("as_of")).select(
            "product_id", *attrs, "business_date"
        )
    # The earliest snapshot at or after the date's own that has the product is the one of its
    # appearances whose previous appearance is before the date's snapshot: one row per
    # product and date from a broadcast range join, rather than every later snapshot per
    # date and an aggregate (a backfill of n dates would shuffle about n/2 times the rows).
    previous = F.lag("snapshot_date").over(
        Window.partitionBy("product_id").orderBy("snapshot_date")
    )
    return (
        snaps.withColumn("_previous", previous)
        .join(
            F.broadcast(dates),
            (F.col("as_of") <= F.col("snapshot_date"))
            & (F.col("_previous").isNull() | (F.col("as_of") > F.col("_previous"))),
        )
        .select("product_id", *attrs, "business_date")
    )


def _partition_days(layout: Layout, after: dt.date | None, D: dt.date) -> list[dt.date]:
    base = layout.raw("campaign_changes")
    days = []
    for p in base.glob("dt=*") if base.exists() else []:
        try:
            day = dt.date.fromisoformat(p.name[3:])
        except ValueError:
            continue
        if (after is None or day > after) and day <= D:
            days.append(day)
    return sorted(days)


def _state_folder(layout: Layout) -> Path:
    return layout.state / "campaign_changes"


def _states(layout: Layout) -> dict[dt.date, Path]:
    folder = _state_folder(layout)
    found = {}
    for p in folder.glob("through=*.parquet") if folder.exists() else []:
        try:
            found[dt.date.fromisoformat(p.stem.split("=", 1)[1])] = p
        except ValueError:
            continue
    return found


def change_log(layout: Layout, D: dt.date, first: dt.date | None = None) -> Path:
    """The campaign change log up to ``D`` as one file (issue 46): the state kept through the
    night before the run's ``first`` ingest, plus the change-log partitions since — a night
    reads its own partition, not every partition of history. A run's partitions are always
    read as they are now (a re-run, a restatement), and the states it supersedes are
    dropped; the last few are kept."""
    first = first or D
    for day, path in _states(layout).items():
        if first <= day < D:  # made before this run re-read their partitions
            path.unlink(missing_ok=True)
    earlier = [d for d in _states(layout) if d < first]
    base = max(earlier) if earlier else None
    parts = [pq.read_table(_states(layout)[base])] if base else []
    schema = SCHEMAS["campaign_changes"].append(pa.field("dt", pa.date32()))
    for day in _partition_days(layout, base, D):
        for f in data_files(layout.raw("campaign_changes", day)):
            table = pq.read_table(f, schema=SCHEMAS["campaign_changes"])
            parts.append(table.append_column("dt", pa.array([day] * table.num_rows, pa.date32())))
    table = pa.concat_tables([t.cast(schema) for t in parts]) if parts else schema.empty_table()
    target = _state_folder(layout) / f"through={D.isoformat()}.parquet"
    target.parent.mkdir(parents=True, exist_ok=True)
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    write_atomic(target, sink.getvalue().to_pybytes())
    for old in sorted(_states(layout))[:-KEPT_STATES]:
        _states(layout)[old].unlink(missing_ok=True)
    return target


KEPT_STATES = 14  # a re-run or a restatement of the last two weeks starts from a kept state


def campaign_changes_up_to(
    spark: SparkSession, layout: Layout, D: dt.date, first: dt.date | None = None
) -> DataFrame:
    """The whole change log up to ``D`` (a small table: one row per merchant action), with the
    ingest date of each change (``dt``); ``first``: the run's first ingest."""
    schema = contract_schema("campaign_changes").add("dt", "date")
    return read_parquet(spark, [change_log(layout, D, first)], schema)


def campaign_first_ingest(
    spark: SparkSession, layout: Layout, D: dt.date, first: dt.date | None = None
) -> DataFrame:
    """``campaign_id, _first_ingest``: the partition of each campaign's first change, up to
    ``D``. A campaign is known to the cleaning of ingest ``d`` when ``_first_ingest <= d``."""
    changes = campaign_changes_up_to(spark, layout, D, first)
    return changes.groupBy("campaign_id").agg(F.min("dt").alias("_first_ingest"))
