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
from spark_jobs.io import contract_schema, day_dirs, parquet_rows, read_parquet, recover, spark_type, swap_in, swap_partitions

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


def _validation_reason(table: str, D: dt.date) -> F.Column:
    """The first failing check of step 2, or null."""
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
    checks.append(("future_event", F.col("business_date") > F.lit(D)))
    checks.append(("too_late", F.col("business_date") < F.lit(D - dt.timedelta(days=late))))
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
    """Business dates whose accepted ids the new rows can collide with: their own dates
    (an identical redelivery keeps its time), plus a look-back for conflicting copies whose
    time moved. Never the whole history."""
    own = _footer_dates(layout.raw(table, D)) if layout.raw(table, D).is_dir() else set()
    if own is None:  # only dates up to D can hold accepted rows (and Python's date can hold them)
        in_range = F.col("business_date").between(F.to_date(F.lit("0001-01-01")), F.lit(D))
        own = {r[0] for r in raw.select("business_date").where(in_range).distinct().collect()}
    lookback = int(rules.param("dedup_lookback_days"))
    recent = {D - dt.timedelta(days=k) for k in range(0, lookback + 1)}
    return sorted(d for d in own | recent if d <= D)


def classify(spark: SparkSession, layout: Layout, table: str, D: dt.date,
             known_products: DataFrame, known_campaigns: DataFrame) -> DataFrame:
    """The raw partition with ``_status`` (accepted/duplicate/quarantined) and ``_reason``."""
    cols = SCHEMAS[table].names
    idc = ID_COLUMN[table]
    raw = read_parquet(spark, layout.raw_files(table, D), contract_schema(table))
    raw = raw.withColumn("business_date", business_date())

    raw = raw.withColumn(HASH, content_hash(cols))

    # Step 1: ids accepted by earlier runs (ingest_date < D), looked up by business date.
    # The index holds each accepted row's id and content hash: two columns to read and
    # shuffle instead of every contract column.
    index_base = layout.accepted(table)
    recover(index_base)
    dates = _index_dates(layout, table, raw, D)
    index_paths = [leaf for day in day_dirs(index_base, "business_date", dates)
                   for leaf in sorted(day.glob("ingest_date=*")) if leaf.name < f"ingest_date={D.isoformat()}"]
    index_schema = T.StructType([T.StructField(idc, T.StringType()), T.StructField(HASH, HASH_TYPE)])
    # An id is accepted once; dropDuplicates only guards the join against a corrupt index.
    index = (read_parquet(spark, index_paths, index_schema)
             .select(F.col(idc).alias("_prev_id"), F.col(HASH).alias("_prev_hash")).dropDuplicates(["_prev_id"]))
    df = raw.join(index, raw[idc] == index["_prev_id"], "left")
    step1 = (F.when(F.col("_prev_id").isNull(), F.lit(None))
             .when(F.col(HASH) == F.col("_prev_hash"), F.lit("duplicate"))
             .otherwise(F.lit("conflicting_duplicate")))
    df = df.withColumn("_step1", step1).drop("_prev_id", "_prev_hash")

    # Step 2: validation against the snapshot of D and the change log up to D.
    df = df.join(known_products.select(F.col("product_id").alias("_known_product")),
                 F.col("product_id") == F.col("_known_product"), "left")
    if "campaign_id" in cols:
        df = df.join(known_campaigns.select(F.col("campaign_id").alias("_known_campaign")),
                     F.col("campaign_id") == F.col("_known_campaign"), "left")
    df = df.withColumn("_step2", F.when(F.col("_step1").isNull(), _validation_reason(table, D)))

    # Step 3: copies of one id among the rows that passed.
    passed = F.col("_step1").isNull() & F.col("_step2").isNull()
    by_id = Window.partitionBy(idc, "_passed")
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
    return df.select(*cols, "business_date", HASH, status.alias("_status"), reason.alias("_reason"))


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


def clean_partition(spark: SparkSession, layout: Layout, table: str, D: dt.date,
                    known_products: DataFrame, known_campaigns: DataFrame) -> CleanResult:
    """Classify ingest D of ``table`` in one pass over the raw rows: a single write sorts
    every row into a folder per outcome (accepted, duplicate, or its quarantine reason) and
    business date; the counts come from the files' footers; the accepted folders are then
    swapped into the store and the (few) quarantined rows copied into the quarantine store."""
    cols = SCHEMAS[table].names
    outcome = F.when(F.col("_status") == "quarantined", F.col("_reason")).otherwise(F.col("_status"))
    classified = classify(spark, layout, table, D, known_products, known_campaigns)
    base = layout.accepted(table)
    base.mkdir(parents=True, exist_ok=True)
    recover(base)
    tmp = base / f".tmp-{uuid.uuid4().hex}"
    try:
        (classified.select(*cols, HASH, "business_date", outcome.alias("_outcome"))
         .write.partitionBy("_outcome", "business_date").parquet(str(tmp)))
        counts = {d.name.split("=", 1)[1]: parquet_rows(d) for d in tmp.glob("_outcome=*")}
        late = int(rules.param("late_days"))
        days = [D - dt.timedelta(days=k) for k in range(late, -1, -1)]
        written = {p.name for p in (tmp / "_outcome=accepted").glob("business_date=*")}
        if stray := written - {f"business_date={d.isoformat()}" for d in days}:
            # Validation keeps accepted rows inside the late window; never drop any silently.
            raise RuntimeError(f"{table} {D}: accepted rows outside {days[0]} … {D}: {sorted(stray)}")
        swap_partitions(tmp / "_outcome=accepted", base, "business_date", days, leaf=f"ingest_date={D.isoformat()}")
        reasons = sorted(set(counts) - {"accepted", "duplicate"})
        store_quarantine(layout, table, D, {r: tmp / f"_outcome={r}" for r in reasons})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return CleanResult(
        table=table, ingest_date=D,
        rows_in=sum(counts.values()),
        accepted=counts.get("accepted", 0),
        duplicates=counts.get("duplicate", 0),
        quarantined_by_reason={r: counts[r] for r in reasons},
    )


def clean_all(spark: SparkSession, layout: Layout, D: dt.date) -> list[CleanResult]:
    from spark_jobs.dimensions import campaign_ids_up_to, product_snapshot

    check_store_format(layout)
    known_products = F.broadcast(product_snapshot(spark, layout, D).select("product_id"))
    known_campaigns = F.broadcast(campaign_ids_up_to(spark, layout, D))
    # Smallest tables first: their jobs warm the JVM (code generation, JIT) for the largest.
    order = sorted(EVENT_TABLES, key=CLEAN_ORDER.index)
    results = {t: clean_partition(spark, layout, t, D, known_products, known_campaigns) for t in order}
    return [results[t] for t in EVENT_TABLES]


CLEAN_ORDER = ("purchases", "saves", "clicks", "impressions")
