"""Product lifecycle *features* (rules.md §6) for the recomputed dates: the 7-day windows
and cumulative orders. The stage rule that turns them into a decision is dbt's
(models/intermediate/int_product_lifecycle_daily.sql): Spark measures, dbt decides.

One pass: the curated daily facts of the 2 × 7 days before each recomputed date are read
once (partition pruning by folder), and cumulative orders are carried as incremental state
(``state/cum_orders/business_date=d``): the state of the last date that can no longer
change plus the orders since then. A night never re-reads history from the beginning.
"""

from __future__ import annotations

import datetime as dt

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from fullsite import rules
from fullsite.contract import MONEY as CONTRACT_MONEY
from fullsite.layout import Layout
from spark_jobs.dimensions import products_as_of
from spark_jobs.io import day_dirs, read_parquet, recover, spark_type, write_partitions

MONEY = spark_type(CONTRACT_MONEY)
FACT_SCHEMA = T.StructType(
    [
        T.StructField("product_id", T.StringType()),
        T.StructField("impressions", T.LongType()),
        T.StructField("clicks", T.LongType()),
        T.StructField("favorites", T.LongType()),
        T.StructField("carts", T.LongType()),
        T.StructField("orders", T.LongType()),
        T.StructField("gmv", MONEY),
        T.StructField("business_date", T.DateType()),
    ]
)
CUM_SCHEMA = T.StructType(
    [T.StructField("product_id", T.StringType()), T.StructField("cum_orders", T.LongType())]
)


def lifecycle_rows(
    spark: SparkSession, layout: Layout, days: list[dt.date], D: dt.date, cum_before: DataFrame
) -> tuple[DataFrame, DataFrame]:
    """(lifecycle rows of ``days``, cum_orders state of ``days``); ``cum_before`` is the state
    of the day before ``days[0]``."""
    # the feature window (mechanics, like attribution's)
    window = int(rules.param("lifecycle_window_days"))
    first = days[0] - dt.timedelta(days=2 * window - 1)
    fact_days = [first + dt.timedelta(days=k) for k in range((days[-1] - first).days + 1)]
    base = layout.curated_table("fct_product_daily")
    facts = read_parquet(spark, day_dirs(base, "business_date", fact_days), FACT_SCHEMA, base=base)
    targets = F.broadcast(spark.createDataFrame([(d,) for d in days], "target_date date"))
    products = products_as_of(spark, layout, days, D, include_later=False).withColumnRenamed(
        "business_date", "target_date"
    )
    listed = products.where(F.col("listed_date") <= F.col("target_date")).select(
        "product_id", "target_date", "merchant_id", "category", "is_standard"
    )
    # Computed once, before either write: the state is written over the folders it was read
    # from, and the rows read it too (rather than computing it again from the facts).
    cum = _cumulative_orders(facts, targets, days[0], cum_before, listed).localCheckpoint()
    zero_money = F.lit(0).cast(MONEY)
    counts = ["impressions_7d", "clicks_7d", "saves_7d", "orders_7d", "orders_prev_7d"]
    rows = (
        listed.join(_windows(facts, targets, window), ["product_id", "target_date"], "left")
        .join(cum, ["product_id", "target_date"], "left")
        .fillna(0, subset=[*counts, "cum_orders"])
        .withColumn("gmv_7d", F.coalesce("gmv_7d", zero_money))
        .withColumn("gmv_prev_7d", F.coalesce("gmv_prev_7d", zero_money))
    )
    out = rows.select(
        "product_id",
        F.col("target_date").alias("business_date"),
        "merchant_id",
        "category",
        "is_standard",
        *counts[:4],
        "gmv_7d",
        "orders_prev_7d",
        "gmv_prev_7d",
        "cum_orders",
    )
    return out, cum.withColumnRenamed("target_date", "business_date")


def _windows(facts: DataFrame, targets: DataFrame, window: int) -> DataFrame:
    """Per product and target date: the sums over the window ending on it (``_7d``) and over
    the window before (``_prev_7d``)."""
    age = F.datediff(F.col("target_date"), F.col("business_date"))
    joined = targets.join(facts, (age >= 0) & (age < 2 * window))
    cur, prev = F.col("_age") < window, F.col("_age") >= window
    zero_money = F.lit(0).cast(MONEY)

    def total(col, when, money=False):
        return F.sum(F.when(when, F.col(col)).otherwise(zero_money if money else F.lit(0)))

    return (
        joined.withColumn("_age", age)
        .withColumn("saves", F.col("favorites") + F.col("carts"))
        .groupBy("product_id", "target_date")
        .agg(
            total("impressions", cur).cast("long").alias("impressions_7d"),
            total("clicks", cur).cast("long").alias("clicks_7d"),
            total("saves", cur).cast("long").alias("saves_7d"),
            total("orders", cur).cast("long").alias("orders_7d"),
            total("gmv", cur, True).cast(MONEY).alias("gmv_7d"),
            total("orders", prev).cast("long").alias("orders_prev_7d"),
            total("gmv", prev, True).cast(MONEY).alias("gmv_prev_7d"),
        )
    )


def _cumulative_orders(
    facts: DataFrame,
    targets: DataFrame,
    first: dt.date,
    cum_before: DataFrame,
    listed: DataFrame,
) -> DataFrame:
    """cum_orders per product and target date: the settled state before ``first`` plus the
    orders of ``first … target_date``. Every product with state or with orders gets one,
    listed or not."""
    # A join of their own, since a range of more than 2 × window days (a backfill) reaches
    # further back than the windows.
    new_orders = (
        targets.join(
            facts.where(F.col("business_date") >= F.lit(first)),
            F.col("business_date") <= F.col("target_date"),
        )
        .groupBy("product_id", "target_date")
        .agg(F.sum("orders").cast("long").alias("_new_orders"))
    )
    keys = (
        new_orders.select("product_id", "target_date")
        .unionByName(targets.crossJoin(cum_before.select("product_id")))
        .unionByName(listed.select("product_id", "target_date"))
        .distinct()
    )
    total = F.coalesce("cum_orders", F.lit(0)) + F.coalesce("_new_orders", F.lit(0))
    return (
        keys.join(new_orders, ["product_id", "target_date"], "left")
        .join(cum_before, "product_id", "left")
        .select("product_id", "target_date", total.cast("long").alias("cum_orders"))
    )


def run_lifecycle(spark: SparkSession, layout: Layout, days: list[dt.date], D: dt.date) -> None:
    state = layout.state / "cum_orders"
    recover(state)
    cum_before = read_parquet(
        spark, day_dirs(state, "business_date", [days[0] - dt.timedelta(days=1)]), CUM_SCHEMA
    )
    out, cum = lifecycle_rows(spark, layout, days, D, cum_before)
    write_partitions(cum, state, "business_date", days)
    write_partitions(out, layout.curated_table("product_lifecycle_daily"), "business_date", days)
