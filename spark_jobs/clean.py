"""Cleaning of one ingest partition: every raw row ends accepted, duplicate or quarantined.

The contract's order (data-contract.md, "Bad rows, late rows, duplicates"):
1. an id accepted in an earlier partition: identical → duplicate, else conflicting_duplicate;
2. validation, the first failing check is the quarantine reason;
3. among rows that pass, copies of one id: identical → one accepted, the rest duplicates;
   different → all quarantined as conflicting_duplicate.
"""
from __future__ import annotations

import datetime as dt
import shutil
import uuid
from dataclasses import dataclass
from functools import reduce
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.parquet as pq
from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from fullsite import rules
from fullsite.contract import BUSINESS_TZ, ENUMS, EVENT_TABLES, ID_COLUMN, MONEY, NULLABLE, SCHEMAS
from fullsite.layout import Layout, data_files
from spark_jobs.io import (
    concurrently,
    contract_schema,
    day_dirs,
    footer_rows,
    parquet_rows,
    read_parquet,
    recover,
    spark_type,
    swap_in,
    swap_partitions,
)

HASH = "_content_hash"
HASH_TYPE = T.StructType([T.StructField("h1", T.LongType(), False), T.StructField("h2", T.LongType(), False)])
STORE_FORMAT = "fullsite accepted store 2: _content_hash = struct<h1, h2> of xxhash64"
"""Written next to the accepted stores: hashes of one format can only be compared with
hashes of the same format (the first format, an unmarked store, held SHA-256 bytes)."""


def content_hash(cols: list[str]) -> F.Column:
    """128 bits that stand for a row's contract columns: "identical content" (every column
    equal, nulls included) is equal hashes. Two 64-bit xxHash64 values with different seeds
    (a leading constant changes the seed) over the typed values, each followed by its null
    flag — Spark's hash skips nulls, so without the flags ``(null, 'x')`` and ``('x', null)``
    would hash alike. Hashes are only ever compared between copies of one id, so a false
    "identical" needs a 128-bit collision between two versions of one event."""
    parts = [x for c in cols for x in (F.col(c), F.col(c).isNull())]
    return F.struct(F.xxhash64(F.lit(1), *parts).alias("h1"), F.xxhash64(F.lit(2), *parts).alias("h2"))


def check_store_format(layout: Layout) -> None:
    """Refuse to judge redeliveries against accepted rows hashed another way (every one of
    them would look conflicting); mark a new store with the current format."""
    marker = layout.curated / "accepted" / "FORMAT"
    if marker.exists():
        found = marker.read_text().strip()
    elif any(True for t in EVENT_TABLES for _ in layout.accepted(t).glob("business_date=*/ingest_date=*/*.parquet")):
        found = "fullsite accepted store 1 (SHA-256 content hash)"
    else:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(STORE_FORMAT + "\n")
        return
    if found != STORE_FORMAT:
        raise RuntimeError(f"{layout.curated / 'accepted'} holds '{found}', this version reads '{STORE_FORMAT}': "
                           "move the curated zone aside and backfill from the first date")


def business_date(col: str = "event_time"):
    """Calendar date in Asia/Shanghai of a UTC instant (session time zone is UTC)."""
    return F.to_date(F.from_utc_timestamp(F.col(col), BUSINESS_TZ))


@dataclass
class CleanResult:
    table: str
    ingest_date: dt.date
    rows_in: int
    accepted: int
    duplicates: int
    quarantined_by_reason: dict

    @property
    def quarantined(self) -> int:
        return sum(self.quarantined_by_reason.values())


def _any(conditions: list[F.Column]) -> F.Column:
    return reduce(lambda a, b: a | b, conditions)


def _validation_reason(table: str, D: F.Column) -> F.Column:
    """The first failing check of step 2, or null; ``D`` is the copy's ingest date."""
    cols = SCHEMAS[table].names
    required = [c for c in cols if (table, c) not in NULLABLE]
    texts = [f.name for f in SCHEMAS[table] if pa.types.is_string(f.type)]
    max_chars = int(rules.param("max_text_chars"))
    # Text that is not UTF-8, or absurdly long, is judged before its meaning: nothing
    # downstream (DuckDB, a statement, a page) can read or show it safely (decision D22).
    checks = [
        ("bad_encoding", _any([F.col(c).isNotNull() & ~F.is_valid_utf8(F.col(c)) for c in texts])),
        ("oversized_text", _any([F.length(F.col(c)) > max_chars for c in texts])),
        ("missing_required", _any([F.col(c).isNull() for c in required])),
    ]
    enums = [F.col(c).isin(*vals) for (t, c), vals in ENUMS.items() if t == table]
    if enums:
        checks.append(("bad_enum", ~reduce(lambda a, b: a & b, enums)))
    # An amount no order or click can have would overflow the money sums downstream.
    max_amount = F.lit(rules.param("max_event_amount")).cast(spark_type(MONEY))
    if table == "clicks":
        checks.append(("negative_amount", F.col("cost") < 0))
        checks.append(("implausible_amount", F.col("cost") > max_amount))
    if table == "purchases":
        checks.append(("negative_amount", F.col("amount") <= 0))
        checks.append(("implausible_amount", F.col("amount") > max_amount))
        checks.append(("bad_quantity", F.col("quantity") < 1))
    if table in ("impressions", "clicks"):
        checks.append(("paid_flag_mismatch", F.col("is_paid") != F.col("campaign_id").isNotNull()))
    if table == "clicks":
        checks.append(("natural_click_cost", F.col("campaign_id").isNull() & (F.col("cost") > 0)))
    checks.append(("unknown_product", F.col("_known_product").isNull()))
    if table in ("impressions", "clicks"):
        checks.append(("unknown_campaign", F.col("campaign_id").isNotNull() & F.col("_known_campaign").isNull()))
    late = int(rules.param("late_days"))
    checks.append(("future_event", F.col("business_date") > D))
    checks.append(("too_late", F.col("business_date") < F.date_sub(D, late)))
    expr = F.lit(None).cast("string")
    for reason, failed in reversed(checks):
        expr = F.when(failed, F.lit(reason)).otherwise(expr)
    return expr


FOOTER_SPAN_DAYS = 14
"""Up to this many days between the earliest and latest event of a raw partition, its
business dates are taken from the Parquet footers; a wider span scans the rows instead."""


def _footer_dates(folder: Path) -> set[dt.date] | None:
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
    if lo is None:
        return set()
    tz = ZoneInfo(BUSINESS_TZ)
    try:
        first, last = (t.replace(tzinfo=t.tzinfo or dt.UTC).astimezone(tz).date() for t in (lo, hi))
    except (OverflowError, ValueError):
        return None
    if (last - first).days > FOOTER_SPAN_DAYS:
        return None
    return {first + dt.timedelta(days=k) for k in range((last - first).days + 1)}


def _index_dates(layout: Layout, table: str, raw: DataFrame, D: dt.date) -> list[dt.date]:
    """Business dates whose accepted ids the rows of ingest D can collide with: their own
    dates (an identical redelivery keeps its time), plus a look-back for conflicting copies
    whose time moved. Never the whole history. ``raw`` holds the rows of D (``_ingest``)."""
    own = _footer_dates(layout.raw(table, D)) if layout.raw(table, D).is_dir() else set()
    if own is None:  # only dates up to D can hold accepted rows (and Python's date can hold them)
        in_range = F.col("business_date").between(F.to_date(F.lit("0001-01-01")), F.lit(D))
        own = {r[0] for r in raw.where((F.col("_ingest") == F.lit(D)) & in_range)
               .select("business_date").distinct().collect()}
    lookback = int(rules.param("dedup_lookback_days"))
    recent = {D - dt.timedelta(days=k) for k in range(0, lookback + 1)}
    return sorted(d for d in own | recent if d <= D)


def _read_ingests(spark: SparkSession, layout: Layout, table: str, ingests: list[dt.date]) -> DataFrame:
    """The raw rows of ``table`` of every ingest in ``ingests`` in one scan, each with its
    ingest date (``_ingest``, from the ``dt=`` folder)."""
    files = [f for D in ingests for f in layout.raw_files(table, D)]
    schema = contract_schema(table)
    if not files:
        return spark.createDataFrame([], schema.add("_ingest", T.DateType()))
    return (spark.read.schema(schema).option("basePath", str(layout.raw(table))).parquet(*map(str, files))
            .withColumnRenamed("dt", "_ingest"))


# Accepted rows of earlier ingests of the same pass, as the ingest-by-ingest order would
# have written them: a fold over an id's ingests in order. An ingest's copies are judged
# against the earliest visible accepted copy (the index's, else one of an earlier ingest of
# the pass); when none is visible and its valid copies agree, it accepts one of them.
_FOLD = """
aggregate(
  array_sort(_groups, (a, b) -> case when a._ingest < b._ingest then -1 when a._ingest > b._ingest then 1 else 0 end),
  named_struct('accepted', cast(array() as array<struct<business_date: date, hash: struct<h1: bigint, h2: bigint>>>),
               'out', cast(array() as array<struct<_ingest: date, _match: struct<h1: bigint, h2: bigint>>>)),
  (acc, g) -> named_struct(
    'accepted',
      case when coalesce(g.stored, try_element_at(filter(acc.accepted, a -> array_contains(g.visible, a.business_date)), 1).hash) is null
                and g.agreed
           then concat(acc.accepted, array(named_struct('business_date', g.business_date, 'hash', g.hash)))
           else acc.accepted end,
    'out', concat(acc.out, array(named_struct(
      '_ingest', g._ingest,
      '_match', coalesce(g.stored, try_element_at(filter(acc.accepted, a -> array_contains(g.visible, a.business_date)), 1).hash))))),
  acc -> acc.out)
"""


def classify(spark: SparkSession, layout: Layout, table: str, ingests: list[dt.date],
             known_products: DataFrame, known_campaigns: DataFrame) -> DataFrame:
    """The raw partitions of ``ingests`` (in order; one or many) with ``_ingest``, ``_status``
    (accepted/duplicate/quarantined) and ``_reason``: exactly what cleaning them one after
    the other gives, in one pass.

    ``known_products`` holds ``product_id, _ingest`` (the snapshot of each ingest);
    ``known_campaigns`` holds ``campaign_id, _first_ingest`` (its first change's partition).

    Only an id with another copy — in the pass, or accepted before it — needs steps 1 and 3;
    every other row is accepted exactly when it is valid. Those ids are found first from the
    id column alone (a narrow scan, counted as 64-bit keys), so the wide rows are never shuffled: the
    others go straight from the scan to the write, and only the (few) rows of ids with
    copies take the look-ups, the fold and the window of ``_judge_copies``."""
    cols = SCHEMAS[table].names
    idc = ID_COLUMN[table]
    first = ingests[0]
    raw = _read_ingests(spark, layout, table, ingests)
    raw = raw.withColumn("business_date", business_date()).withColumn(HASH, content_hash(cols))

    # Step 1 looks up what runs before this pass accepted (ingest_date < first) by business
    # date: the index holds each accepted row's id and content hash, one row per id.
    visible = {D: _index_dates(layout, table, raw, D) for D in ingests}
    index_base = layout.accepted(table)
    recover(index_base)
    index_paths = [leaf for day in day_dirs(index_base, "business_date", sorted(set().union(*visible.values())))
                   for leaf in sorted(day.glob("ingest_date=*")) if leaf.name < f"ingest_date={first.isoformat()}"]

    if len(ingests) == 1 and footer_rows(layout.raw_files(table, first)) <= SPLIT_FROM_ROWS:
        # A small night: the exact path for all its rows is one job, cheaper than the three
        # the split needs (finding the ids with copies, reading their rows, writing).
        return _judge_copies(spark, layout, table, raw, ingests, visible, index_paths, known_products, known_campaigns)
    copied = _keys_with_copies(spark, raw, idc, index_paths).withColumn("_copied", F.lit(True))
    # Broadcast when small (redeliveries and in-partition copies: the usual case), so the
    # wide rows stay where the scan put them; a redelivered history joins the plain way.
    if copied.count() <= BROADCAST_KEYS:
        copied = F.broadcast(copied)
    flagged = raw.withColumn("_key", id_key(idc)).join(copied, "_key", "left").drop("_key")
    single = _validated(flagged.where(F.col("_copied").isNull()), table, known_products, known_campaigns)
    single = single.select(*cols, "business_date", HASH, "_ingest",
                           F.when(F.col("_valid").isNull(), "accepted").otherwise("quarantined").alias("_status"),
                           F.col("_valid").alias("_reason"))
    # The rows with copies, read once (the look-ups and the fold use them several times).
    with_copies = flagged.where(F.col("_copied")).drop("_copied").localCheckpoint()
    copies = _judge_copies(spark, layout, table, with_copies, ingests, visible, index_paths,
                           known_products, known_campaigns)
    return single.unionByName(copies)


SPLIT_FROM_ROWS = 1_000_000
"""A night with more raw rows than this, and every pass over several ingests (whose exact
path also folds), finds the ids with copies first (see ``classify``); a smaller night takes
the exact path for every row (one job instead of three, fixed costs being most of its
time). Both give the same outcome (tested)."""

BROADCAST_KEYS = 4_000_000
"""Up to this many keys of ids with copies are sent to every task (about 100 MB at most)."""


def id_key(idc: str) -> F.Column:
    """A 64-bit key of an id (null for a null id): counting and joining longs costs a
    fraction of strings. Two ids sharing a key only send both to the exact path."""
    return F.when(F.col(idc).isNotNull(), F.xxhash64(F.col(idc)))


def _keys_with_copies(spark: SparkSession, raw: DataFrame, idc: str, index_paths: list[Path]) -> DataFrame:
    """``_key`` of every id of ``raw`` with more than one copy in it or an accepted copy in
    the index folders (and of any id sharing its key): read from the id column alone, and
    materialised once, as both branches of the pass use it."""
    keys = raw.select(id_key(idc).alias("_key")).where(F.col("_key").isNotNull())
    counted = keys.groupBy("_key").agg(F.count(F.lit(1)).alias("_n"))
    keep = F.col("_n") > 1
    if index_paths:  # a backfill from the first date has none
        stored = (read_parquet(spark, index_paths, T.StructType([T.StructField(idc, T.StringType())]))
                  .select(id_key(idc).alias("_key")).distinct().withColumn("_stored", F.lit(True)))
        counted = counted.join(stored, "_key", "left")
        keep = keep | F.col("_stored").isNotNull()
    return counted.where(keep).select("_key").localCheckpoint()


def _validated(df: DataFrame, table: str, known_products: DataFrame, known_campaigns: DataFrame) -> DataFrame:
    """Step 2: ``_valid``, the first failing check of each copy against the products
    snapshot and the campaign change log of its own ingest (null when it passes)."""
    df = df.join(F.broadcast(known_products.select(F.col("product_id").alias("_known_product"),
                                                   F.col("_ingest").alias("_product_ingest"))),
                 (F.col("product_id") == F.col("_known_product")) & (F.col("_ingest") == F.col("_product_ingest")), "left")
    if "campaign_id" in SCHEMAS[table].names:
        df = df.join(F.broadcast(known_campaigns.select(F.col("campaign_id").alias("_known_campaign"), "_first_ingest")),
                     (F.col("campaign_id") == F.col("_known_campaign")) & (F.col("_first_ingest") <= F.col("_ingest")),
                     "left")
    return df.withColumn("_valid", _validation_reason(table, F.col("_ingest")))


def _judge_copies(spark: SparkSession, layout: Layout, table: str, raw: DataFrame, ingests: list[dt.date],
                  visible: dict[dt.date, list[dt.date]], index_paths: list[Path],
                  known_products: DataFrame, known_campaigns: DataFrame) -> DataFrame:
    """Steps 1–3 for the rows of ids with copies (``raw``): the contract's order in full."""
    cols = SCHEMAS[table].names
    idc = ID_COLUMN[table]
    index_base = layout.accepted(table)
    index_schema = T.StructType([T.StructField(idc, T.StringType()), T.StructField(HASH, HASH_TYPE)])
    if len(ingests) == 1:  # the paths hold exactly the visible dates
        index = (read_parquet(spark, index_paths, index_schema)
                 .select(F.col(idc).alias("_prev_id"), F.col(HASH).alias("_match")).dropDuplicates(["_prev_id"]))
        df = raw.join(index, raw[idc] == index["_prev_id"], "left").drop("_prev_id")
    else:  # each ingest sees the dates visible to it: one earliest index row per id and ingest
        pairs = spark.createDataFrame([(D, d) for D, days in visible.items() for d in days], "_prev_ingest date, _day date")
        index = read_parquet(spark, index_paths, index_schema, base=index_base if index_paths else None)
        if "business_date" not in index.columns:  # nothing accepted yet
            index = index.withColumn("business_date", F.lit(None).cast("date"))
        index = (index.join(F.broadcast(pairs), F.col("business_date") == F.col("_day"))
                 .groupBy(F.col(idc).alias("_prev_id"), "_prev_ingest")
                 .agg(F.min(F.struct("business_date", HASH)).alias("_prev")))
        df = (raw.join(index, (raw[idc] == index["_prev_id"]) & (raw["_ingest"] == index["_prev_ingest"]), "left")
              .withColumn("_match", F.col(f"_prev.{HASH}")).drop("_prev_id", "_prev_ingest", "_prev"))

    df = _validated(df, table, known_products, known_campaigns)

    if len(ingests) > 1:
        df = _match_earlier_ingests(df, raw, idc, spark.createDataFrame(list(visible.items()),
                                                                        "_ingest date, visible array<date>"))

    # Step 1 decided: judged against an earlier accepted copy.
    step1 = (F.when(F.col("_match").isNull(), F.lit(None))
             .when(F.col(HASH) == F.col("_match"), F.lit("duplicate"))
             .otherwise(F.lit("conflicting_duplicate")))
    df = df.withColumn("_step1", step1)
    df = df.withColumn("_step2", F.when(F.col("_step1").isNull(), F.col("_valid")))

    # Step 3: copies of one id in one ingest among the rows that passed.
    passed = F.col("_step1").isNull() & F.col("_step2").isNull()
    by_id = Window.partitionBy(idc, "_ingest", "_passed")
    df = df.withColumn("_passed", passed)
    # One window frame (the whole group) for the three aggregates, no ordering inside a
    # group: the copy accepted is the one read first (a row number taken before the shuffle).
    df = df.withColumn("_row", F.monotonically_increasing_id())
    df = df.withColumn("_conflict", F.min(HASH).over(by_id) != F.max(HASH).over(by_id))
    df = df.withColumn("_first_copy", F.min("_row").over(by_id) == F.col("_row"))

    status = (F.when(F.col("_step1") == "duplicate", "duplicate")
              .when(F.col("_step1").isNotNull(), "quarantined")
              .when(F.col("_step2").isNotNull(), "quarantined")
              .when(F.col("_conflict"), "quarantined")
              .when(F.col("_first_copy"), "accepted")
              .otherwise("duplicate"))
    reason = (F.when(F.col("_step1") == "conflicting_duplicate", "conflicting_duplicate")
              .when(F.col("_step1").isNotNull(), F.lit(None))
              .when(F.col("_step2").isNotNull(), F.col("_step2"))
              .when(F.col("_conflict"), "conflicting_duplicate"))
    return df.select(*cols, "business_date", HASH, "_ingest", status.alias("_status"), reason.alias("_reason"))


def _match_earlier_ingests(df: DataFrame, raw: DataFrame, idc: str, visible: DataFrame) -> DataFrame:
    """``_match`` of a pass over several ingests: the index's, else the accepted copy of an
    earlier ingest of the pass that the ingest-by-ingest order would have written. An
    ingest's valid copies of an id that all agree accept one of them unless it is matched.
    ``visible`` holds each ingest's visible business dates.

    Only ids with copies in more than one ingest can match within the pass (redeliveries:
    a fraction of a percent), so only their rows are folded; the result is small and joins
    back without moving the other rows (AQE broadcasts it)."""
    several = (raw.where(F.col(idc).isNotNull()).groupBy(idc)
               .agg(F.min("_ingest").alias("_a"), F.max("_ingest").alias("_b"))
               .where(F.col("_a") != F.col("_b")).select(idc))
    groups = (df.join(several, idc, "left_semi")
              .groupBy(idc, "_ingest")
              .agg(F.first("_match").alias("stored"),
                   F.min(F.when(F.col("_valid").isNull(), F.struct(HASH, "business_date"))).alias("_lo"),
                   F.max(F.when(F.col("_valid").isNull(), F.struct(HASH, "business_date"))).alias("_hi"))
              .join(F.broadcast(visible), "_ingest")
              .select(idc, F.struct(
                  "_ingest", "visible", "stored",
                  (F.col("_lo").isNotNull() & (F.col(f"_lo.{HASH}") == F.col(f"_hi.{HASH}"))).alias("agreed"),
                  F.col("_lo.business_date").alias("business_date"), F.col(f"_lo.{HASH}").alias("hash")).alias("g")))
    matches = (groups.groupBy(idc).agg(F.collect_list("g").alias("_groups"))
               .select(idc, F.explode(F.expr(_FOLD)).alias("m"))
               .select(F.col(idc).alias("_m_id"), F.col("m._ingest").alias("_m_ingest"), F.col("m._match").alias("_m_match")))
    return (df.join(matches, (F.col(idc) == F.col("_m_id")) & (F.col("_ingest") == F.col("_m_ingest")), "left")
            .withColumn("_match", F.when(F.col("_m_id").isNotNull(), F.col("_m_match")).otherwise(F.col("_match")))
            .drop("_m_id", "_m_ingest", "_m_match"))


def _readable_text(rows: pa.Table) -> pa.Table:
    """The quarantine store stays readable by every tool (DuckDB refuses a file with one
    invalid UTF-8 string): bytes that are not UTF-8 are kept as ``\\xNN`` escapes, every
    other value unchanged (decision D22)."""
    for i, field in enumerate(rows.schema):
        if field.type != pa.string():
            continue
        column = rows.column(i)
        try:
            column.validate(full=True)
            continue
        except pa.ArrowInvalid:
            pass
        raw = column.combine_chunks().view(pa.binary())
        fixed = pa.array([None if v is None else v.decode("utf-8", "backslashreplace") for v in raw.to_pylist()], pa.string())
        rows = rows.set_column(i, field, fixed)
    return rows


def store_quarantine(layout: Layout, table: str, D: dt.date, folders: dict[str, Path]) -> None:
    """The quarantined rows of ``table`` exactly as they arrived (its contract columns) with
    their reason, into ``quarantine/<table>/ingest_date=D`` (empty when there are none),
    swapped in whole. A file-by-file copy of rows Spark has already classified and written:
    no Spark job (and no plan to compile) per table, and memory holds one file at a time."""
    cols = SCHEMAS[table].names
    live = layout.quarantine(table) / f"ingest_date={D.isoformat()}"
    live.parent.mkdir(parents=True, exist_ok=True)
    recover(live.parent)
    new = live.parent / f".tmp-{uuid.uuid4().hex}"
    new.mkdir()
    writer = None
    try:
        for reason, folder in sorted(folders.items()):
            for f in sorted(folder.rglob("*.parquet")):
                rows = _readable_text(pq.ParquetFile(f).read(columns=cols))
                rows = rows.append_column("reason", pa.array([reason] * rows.num_rows, pa.string()))
                writer = writer or pq.ParquetWriter(new / "part-00000.parquet", rows.schema)
                writer.write_table(rows)
    finally:
        if writer is not None:
            writer.close()
    swap_in(new, live)


def clean_partition(spark: SparkSession, layout: Layout, table: str, ingests: list[dt.date],
                    known_products: DataFrame, known_campaigns: DataFrame) -> list[CleanResult]:
    """Classify ingests ``ingests`` of ``table`` in one pass over their raw rows: a single
    write sorts every row into a folder per ingest, outcome (accepted, duplicate, or its
    quarantine reason) and business date; the counts come from the files' footers; each
    ingest's accepted folders are then swapped into the store and its (few) quarantined rows
    copied into the quarantine store."""
    cols = SCHEMAS[table].names
    outcome = F.when(F.col("_status") == "quarantined", F.col("_reason")).otherwise(F.col("_status"))
    classified = classify(spark, layout, table, ingests, known_products, known_campaigns)
    base = layout.accepted(table)
    base.mkdir(parents=True, exist_ok=True)
    recover(base)
    tmp = base / f".tmp-{uuid.uuid4().hex}"
    late = int(rules.param("late_days"))
    results = []
    try:
        (classified.select(*cols, HASH, "_ingest", "business_date", outcome.alias("_outcome"))
         .write.partitionBy("_ingest", "_outcome", "business_date").parquet(str(tmp)))
        for D in ingests:
            written = tmp / f"_ingest={D.isoformat()}"
            counts = {d.name.split("=", 1)[1]: parquet_rows(d) for d in written.glob("_outcome=*")}
            days = [D - dt.timedelta(days=k) for k in range(late, -1, -1)]
            accepted = {p.name for p in (written / "_outcome=accepted").glob("business_date=*")}
            if stray := accepted - {f"business_date={d.isoformat()}" for d in days}:
                # Validation keeps accepted rows inside the late window; never drop any silently.
                raise RuntimeError(f"{table} {D}: accepted rows outside {days[0]} … {D}: {sorted(stray)}")
            swap_partitions(written / "_outcome=accepted", base, "business_date", days,
                            leaf=f"ingest_date={D.isoformat()}")
            reasons = sorted(set(counts) - {"accepted", "duplicate"})
            store_quarantine(layout, table, D, {r: written / f"_outcome={r}" for r in reasons})
            results.append(CleanResult(
                table=table, ingest_date=D,
                rows_in=sum(counts.values()),
                accepted=counts.get("accepted", 0),
                duplicates=counts.get("duplicate", 0),
                quarantined_by_reason={r: counts[r] for r in reasons},
            ))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return results


def clean_all(spark: SparkSession, layout: Layout, ingests: list[dt.date]) -> dict[dt.date, list[CleanResult]]:
    """Clean ingests ``ingests`` (consecutive dates, in order) in one pass per table: the
    same outcome as cleaning them one after the other (decision D31)."""
    from spark_jobs.dimensions import campaign_first_ingest

    check_store_format(layout)
    products = _read_ingests(spark, layout, "products", ingests).select("product_id", "_ingest")  # each ingest's snapshot
    known_campaigns = campaign_first_ingest(spark, layout, ingests[-1])
    # The tables are cleaned side by side: a small table's pass is mostly fixed cost (planning,
    # footers, small stages) that fills the cores the largest one leaves idle.
    results = dict(zip(CLEAN_ORDER, concurrently(
        [lambda t=t: clean_partition(spark, layout, t, ingests, products, known_campaigns) for t in CLEAN_ORDER]), strict=True))
    return {D: [results[t][k] for t in EVENT_TABLES] for k, D in enumerate(ingests)}


CLEAN_ORDER = ("purchases", "saves", "clicks", "impressions")
