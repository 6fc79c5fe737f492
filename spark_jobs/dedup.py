"""Contract steps 1 and 3 in one pass over one or many ingests: each raw row's outcome —
accepted, duplicate or quarantined with its reason — exactly as cleaning the ingests one
after the other gives (decision D31). Only ids with copies take the exact path."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from fullsite.contract import ID_COLUMN, SCHEMAS
from fullsite.layout import Layout
from fullsite.quoting import hadoop_path
from spark_jobs.content_hash import HASH, HASH_TYPE, content_hash
from spark_jobs.dates import business_date, index_dates
from spark_jobs.io import contract_schema, day_dirs, footer_rows, read_parquet, recover
from spark_jobs.validation import validated


def read_ingests(
    spark: SparkSession, layout: Layout, table: str, ingests: list[dt.date]
) -> DataFrame:
    """The raw rows of ``table`` of every ingest in ``ingests`` in one scan, each with its
    ingest date (``_ingest``, from the ``dt=`` folder)."""
    files = [f for D in ingests for f in layout.raw_files(table, D)]
    schema = contract_schema(table)
    if not files:
        return spark.createDataFrame([], schema.add("_ingest", T.DateType()))
    return (
        spark.read.schema(schema)
        .option("basePath", str(layout.raw(table)))
        .parquet(*map(hadoop_path, files))
        .withColumnRenamed("dt", "_ingest")
    )


# Accepted rows of earlier ingests of the same pass, as the ingest-by-ingest order would
# have written them: a fold over an id's ingests in order. An ingest's copies are judged
# against the earliest visible accepted copy (the index's, else one of an earlier ingest of
# the pass); when none is visible and its valid copies agree, it accepts one of them.
_HASH_STRUCT = "struct<h1: bigint, h2: bigint>"
_EARLIER = (
    "try_element_at(filter(acc.accepted, a -> array_contains(g.visible, a.business_date)), 1).hash"
)
_MATCH = f"coalesce(g.stored, {_EARLIER})"
_FOLD = f"""
aggregate(
  array_sort(_groups, (a, b) -> case when a._ingest < b._ingest then -1
                                     when a._ingest > b._ingest then 1 else 0 end),
  named_struct(
    'accepted', cast(array() as array<struct<business_date: date, hash: {_HASH_STRUCT}>>),
    'out', cast(array() as array<struct<_ingest: date, _match: {_HASH_STRUCT}>>)),
  (acc, g) -> named_struct(
    'accepted',
      case when {_MATCH} is null and g.agreed
           then concat(acc.accepted,
                       array(named_struct('business_date', g.business_date, 'hash', g.hash)))
           else acc.accepted end,
    'out', concat(acc.out, array(named_struct('_ingest', g._ingest, '_match', {_MATCH})))),
  acc -> acc.out)
"""


@dataclass(frozen=True)
class _Pass:
    """One pass over ``ingests`` of ``table``: what every step of it looks up. ``visible``:
    the business dates each ingest's step 1 sees; ``index_paths``: the index folders of
    what runs before the pass accepted; the known products and campaigns of step 2."""

    spark: SparkSession
    layout: Layout
    table: str
    ingests: list[dt.date]
    visible: dict[dt.date, list[dt.date]]
    index_paths: list[Path]
    known_products: DataFrame
    known_campaigns: DataFrame

    @property
    def idc(self) -> str:
        return ID_COLUMN[self.table]


def classify(
    spark: SparkSession,
    layout: Layout,
    table: str,
    ingests: list[dt.date],
    known_products: DataFrame,
    known_campaigns: DataFrame,
) -> DataFrame:
    """The raw partitions of ``ingests`` (in order; one or many) with ``_ingest``, ``_status``
    (accepted/duplicate/quarantined) and ``_reason``: exactly what cleaning them one after
    the other gives, in one pass.

    ``known_products`` holds ``product_id, _ingest`` (the snapshot of each ingest);
    ``known_campaigns`` holds ``campaign_id, _first_ingest`` (its first change's partition).

    Only an id with another copy — in the pass, or accepted before it — needs steps 1 and 3;
    every other row is accepted exactly when it is valid. Those ids are found first from the
    id column alone (a narrow scan, counted as 64-bit keys), so the wide rows are never
    shuffled: the others go straight from the scan to the write, and only the (few) rows of
    ids with copies take the look-ups, the fold and the window of ``_judge_copies``."""
    cols = SCHEMAS[table].names
    raw = read_ingests(spark, layout, table, ingests)
    raw = raw.withColumn("business_date", business_date()).withColumn(HASH, content_hash(cols))
    # Step 1 looks up what runs before this pass accepted (ingest_date < first) by business
    # date: the index holds each accepted row's id and content hash, one row per id.
    visible = {D: index_dates(layout, table, raw, D) for D in ingests}
    index_paths = _index_paths(layout, table, ingests[0], visible)
    p = _Pass(
        spark=spark,
        layout=layout,
        table=table,
        ingests=ingests,
        visible=visible,
        index_paths=index_paths,
        known_products=known_products,
        known_campaigns=known_campaigns,
    )
    if len(ingests) == 1 and footer_rows(layout.raw_files(table, ingests[0])) <= SPLIT_FROM_ROWS:
        # A small night: the exact path for all its rows is one job, cheaper than the three
        # the split needs (finding the ids with copies, reading their rows, writing).
        return _judge_copies(p, raw)
    return _split(p, raw)


def _index_paths(
    layout: Layout, table: str, first: dt.date, visible: dict[dt.date, list[dt.date]]
) -> list[Path]:
    index_base = layout.accepted(table)
    recover(index_base)
    return [
        leaf
        for day in day_dirs(index_base, "business_date", sorted(set().union(*visible.values())))
        for leaf in sorted(day.glob("ingest_date=*"))
        if leaf.name < f"ingest_date={first.isoformat()}"
    ]


def _split(p: _Pass, raw: DataFrame) -> DataFrame:
    """Rows of ids with no other copy are accepted exactly when valid; only the rows of ids
    with copies take the exact path."""
    cols = SCHEMAS[p.table].names
    copied = _keys_with_copies(p.spark, raw, p.idc, p.index_paths).withColumn(
        "_copied", F.lit(True)
    )
    # Broadcast when small (redeliveries and in-partition copies: the usual case), so the
    # wide rows stay where the scan put them; a redelivered history joins the plain way.
    if copied.count() <= BROADCAST_KEYS:
        copied = F.broadcast(copied)
    flagged = raw.withColumn("_key", id_key(p.idc)).join(copied, "_key", "left").drop("_key")
    single = validated(
        flagged.where(F.col("_copied").isNull()), p.table, p.known_products, p.known_campaigns
    )
    single = single.select(
        *cols,
        "business_date",
        HASH,
        "_ingest",
        F.when(F.col("_valid").isNull(), "accepted").otherwise("quarantined").alias("_status"),
        F.col("_valid").alias("_reason"),
    )
    # The rows with copies, read once (the look-ups and the fold use them several times).
    with_copies = flagged.where(F.col("_copied")).drop("_copied").localCheckpoint()
    return single.unionByName(_judge_copies(p, with_copies))


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


def _keys_with_copies(
    spark: SparkSession, raw: DataFrame, idc: str, index_paths: list[Path]
) -> DataFrame:
    """``_key`` of every id of ``raw`` with more than one copy in it or an accepted copy in
    the index folders (and of any id sharing its key): read from the id column alone, and
    materialised once, as both branches of the pass use it."""
    keys = raw.select(id_key(idc).alias("_key")).where(F.col("_key").isNotNull())
    # Shuffled before counting: almost every id is unique, so a count before the shuffle
    # (Spark's partial aggregate) only builds a hash map as large as the scan and shuffles
    # as much. A `large` night's count: 10.4 → 6.8 s in a fresh session (D51).
    counted = keys.repartition("_key").groupBy("_key").agg(F.count(F.lit(1)).alias("_n"))
    keep = F.col("_n") > 1
    if index_paths:  # a backfill from the first date has none
        stored = (
            read_parquet(spark, index_paths, T.StructType([T.StructField(idc, T.StringType())]))
            .select(id_key(idc).alias("_key"))
            .distinct()
            .withColumn("_stored", F.lit(True))
        )
        counted = counted.join(stored, "_key", "left")
        keep = keep | F.col("_stored").isNotNull()
    return counted.where(keep).select("_key").localCheckpoint()


def _judge_copies(p: _Pass, raw: DataFrame) -> DataFrame:
    """Steps 1–3 for the rows of ids with copies (``raw``): the contract's order in full."""
    if len(p.ingests) == 1:
        df = _index_match_one_ingest(p, raw)
    else:
        df = _index_match_per_ingest(p, raw)
    df = validated(df, p.table, p.known_products, p.known_campaigns)
    if len(p.ingests) > 1:
        visible = p.spark.createDataFrame(
            list(p.visible.items()), "_ingest date, visible array<date>"
        )
        df = _match_earlier_ingests(df, raw, p.idc, visible)
    return _decided(df, p.table)


def _index_schema(idc: str) -> T.StructType:
    return T.StructType([T.StructField(idc, T.StringType()), T.StructField(HASH, HASH_TYPE)])


def _index_match_one_ingest(p: _Pass, raw: DataFrame) -> DataFrame:
    """``_match``: the content hash of the id's accepted copy (the paths hold exactly the
    dates the one ingest sees)."""
    index = (
        read_parquet(p.spark, p.index_paths, _index_schema(p.idc))
        .select(F.col(p.idc).alias("_prev_id"), F.col(HASH).alias("_match"))
        .dropDuplicates(["_prev_id"])
    )
    return raw.join(index, raw[p.idc] == index["_prev_id"], "left").drop("_prev_id")


def _index_match_per_ingest(p: _Pass, raw: DataFrame) -> DataFrame:
    """``_match`` per ingest: each ingest sees the dates visible to it, one earliest index
    row per id and ingest."""
    idc = p.idc
    pairs = p.spark.createDataFrame(
        [(D, d) for D, days in p.visible.items() for d in days], "_prev_ingest date, _day date"
    )
    base = p.layout.accepted(p.table) if p.index_paths else None
    index = read_parquet(p.spark, p.index_paths, _index_schema(idc), base=base)
    if "business_date" not in index.columns:  # nothing accepted yet
        index = index.withColumn("business_date", F.lit(None).cast("date"))
    index = (
        index.join(F.broadcast(pairs), F.col("business_date") == F.col("_day"))
        .groupBy(F.col(idc).alias("_prev_id"), "_prev_ingest")
        .agg(F.min(F.struct("business_date", HASH)).alias("_prev"))
    )
    same = (raw[idc] == index["_prev_id"]) & (raw["_ingest"] == index["_prev_ingest"])
    return (
        raw.join(index, same, "left")
        .withColumn("_match", F.col(f"_prev.{HASH}"))
        .drop("_prev_id", "_prev_ingest", "_prev")
    )


def _decided(df: DataFrame, table: str) -> DataFrame:
    """Each row's status and reason from step 1 (``_match``), step 2 (``_valid``) and step 3
    (copies of one id in one ingest among the rows that passed)."""
    step1 = (
        F.when(F.col("_match").isNull(), F.lit(None))
        .when(F.col(HASH) == F.col("_match"), F.lit("duplicate"))
        .otherwise(F.lit("conflicting_duplicate"))
    )
    df = df.withColumn("_step1", step1)
    df = df.withColumn("_step2", F.when(F.col("_step1").isNull(), F.col("_valid")))
    passed = F.col("_step1").isNull() & F.col("_step2").isNull()
    by_id = Window.partitionBy(ID_COLUMN[table], "_ingest", "_passed")
    df = df.withColumn("_passed", passed)
    # One window frame (the whole group) for the three aggregates, no ordering inside a
    # group: the copy accepted is the one read first (a row number taken before the shuffle).
    df = df.withColumn("_row", F.monotonically_increasing_id())
    df = df.withColumn("_conflict", F.min(HASH).over(by_id) != F.max(HASH).over(by_id))
    df = df.withColumn("_first_copy", F.min("_row").over(by_id) == F.col("_row"))
    status = (
        F.when(F.col("_step1") == "duplicate", "duplicate")
        .when(F.col("_step1").isNotNull(), "quarantined")
        .when(F.col("_step2").isNotNull(), "quarantined")
        .when(F.col("_conflict"), "quarantined")
        .when(F.col("_first_copy"), "accepted")
        .otherwise("duplicate")
    )
    reason = (
        F.when(F.col("_step1") == "conflicting_duplicate", "conflicting_duplicate")
        .when(F.col("_step1").isNotNull(), F.lit(None))
        .when(F.col("_step2").isNotNull(), F.col("_step2"))
        .when(F.col("_conflict"), "conflicting_duplicate")
    )
    cols = SCHEMAS[table].names
    return df.select(
        *cols, "business_date", HASH, "_ingest", status.alias("_status"), reason.alias("_reason")
    )


def _match_earlier_ingests(
    df: DataFrame, raw: DataFrame, idc: str, visible: DataFrame
) -> DataFrame:
    """``_match`` of a pass over several ingests: the index's, else the accepted copy of an
    earlier ingest of the pass that the ingest-by-ingest order would have written. An
    ingest's valid copies of an id that all agree accept one of them unless it is matched.
    ``visible`` holds each ingest's visible business dates.

    Only ids with copies in more than one ingest can match within the pass (redeliveries:
    a fraction of a percent), so only their rows are folded; the result is small and joins
    back without moving the other rows (AQE broadcasts it)."""
    matches = (
        _ingest_groups(df, raw, idc, visible)
        .groupBy(idc)
        .agg(F.collect_list("g").alias("_groups"))
        .select(idc, F.explode(F.expr(_FOLD)).alias("m"))
        .select(
            F.col(idc).alias("_m_id"),
            F.col("m._ingest").alias("_m_ingest"),
            F.col("m._match").alias("_m_match"),
        )
    )
    same = (F.col(idc) == F.col("_m_id")) & (F.col("_ingest") == F.col("_m_ingest"))
    matched = F.when(F.col("_m_id").isNotNull(), F.col("_m_match")).otherwise(F.col("_match"))
    return (
        df.join(matches, same, "left")
        .withColumn("_match", matched)
        .drop("_m_id", "_m_ingest", "_m_match")
    )


def _ingest_groups(df: DataFrame, raw: DataFrame, idc: str, visible: DataFrame) -> DataFrame:
    """Per id with copies in several ingests and per ingest, what the fold needs (``g``): the
    index's match, whether its valid copies agree, and the one it would accept."""
    several = (
        raw.where(F.col(idc).isNotNull())
        .groupBy(idc)
        .agg(F.min("_ingest").alias("_a"), F.max("_ingest").alias("_b"))
        .where(F.col("_a") != F.col("_b"))
        .select(idc)
    )
    valid_copy = F.when(F.col("_valid").isNull(), F.struct(HASH, "business_date"))
    agreed = F.col("_lo").isNotNull() & (F.col(f"_lo.{HASH}") == F.col(f"_hi.{HASH}"))
    return (
        df.join(several, idc, "left_semi")
        .groupBy(idc, "_ingest")
        .agg(
            F.first("_match").alias("stored"),
            F.min(valid_copy).alias("_lo"),
            F.max(valid_copy).alias("_hi"),
        )
        .join(F.broadcast(visible), "_ingest")
        .select(
            idc,
            F.struct(
                "_ingest",
                "visible",
                "stored",
                agreed.alias("agreed"),
                F.col("_lo.business_date").alias("business_date"),
                F.col(f"_lo.{HASH}").alias("hash"),
            ).alias("g"),
        )
    )
