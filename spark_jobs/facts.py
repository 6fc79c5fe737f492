"""Attribution, daily product facts, and the segment facts dbt splits into campaign versions.

All of it for the business dates a run recomputes (``D - late_days … D``), from the
accepted events of those dates (and, for attribution, the clicks of the 7 days before).
"""

from __future__ import annotations

import datetime as dt
import math

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from fullsite import curated, rules
from fullsite.contract import MONEY_METRICS, MONEY_SQL, PRODUCT_METRICS, TRAFFIC_METRICS
from fullsite.layout import Layout
from spark_jobs.dates import business_date
from spark_jobs.dimensions import campaign_changes_up_to, products_as_of
from spark_jobs.io import contract_schema, read_parquet, recover

MONEY = MONEY_SQL


def recomputed_dates(D: dt.date, first: dt.date | None = None) -> list[dt.date]:
    """The business dates a run for ``D`` rebuilds: ``D - late_days … D``. For a range of
    runs ``first … D`` in one pass: ``first - late_days … D`` (each date's last rebuild
    reads the same ingests it would have read in the nightly run that settled it)."""
    late = int(rules.param("late_days"))
    start = (first or D) - dt.timedelta(days=late)
    return [start + dt.timedelta(days=k) for k in range((D - start).days + 1)]


def accepted_events(
    spark: SparkSession, layout: Layout, table: str, days: list[dt.date], D: dt.date
) -> DataFrame:
    """Accepted rows of ``table`` with business dates in ``days``, from ingests up to ``D``."""
    recover(layout.accepted(table))
    df = read_parquet(spark, layout.accepted_leaves(table, days, D), contract_schema(table))
    return df.withColumn("business_date", business_date())


def attribute_purchases(
    spark: SparkSession, layout: Layout, days: list[dt.date], D: dt.date
) -> DataFrame:
    """Last valid click by the same user on the same product within the window before
    each purchase (ties: the larger event_id). One row per accepted purchase of ``days``."""
    hours = int(rules.param("attribution_window_hours"))
    look_back = math.ceil(hours / 24) + 1
    click_days = [days[0] - dt.timedelta(days=k) for k in range(look_back, 0, -1)] + days
    purchases = accepted_events(spark, layout, "purchases", days, D)
    clicks = (
        accepted_events(spark, layout, "clicks", click_days, D)
        .where(~F.col("is_invalid"))
        .select(
            F.col("event_id").alias("click_id"),
            F.col("event_time").alias("click_time"),
            F.col("user_id").alias("c_user"),
            F.col("product_id").alias("c_product"),
            F.col("campaign_id").alias("click_campaign_id"),
            F.col("scene").alias("click_scene"),
        )
    )
    cand = purchases.join(
        clicks,
        (purchases.user_id == clicks.c_user)
        & (purchases.product_id == clicks.c_product)
        & (clicks.click_time <= purchases.event_time)
        & (clicks.click_time >= purchases.event_time - F.expr(f"INTERVAL {hours} HOURS")),
        "left",
    )
    latest = Window.partitionBy("order_id").orderBy(
        F.col("click_time").desc_nulls_last(), F.col("click_id").desc_nulls_last()
    )
    cand = cand.withColumn("_rank", F.row_number().over(latest)).where(F.col("_rank") == 1)
    return cand.select(
        "order_id",
        "event_time",
        "product_id",
        "quantity",
        "amount",
        "business_date",
        F.col("click_id").alias("attributed_click_id"),
        F.col("click_campaign_id").alias("attributed_campaign_id"),
        F.coalesce(F.col("click_scene"), F.lit("direct")).alias("attributed_scene"),
        F.col("click_campaign_id").isNotNull().alias("is_paid_attributed"),
    )


def _zero(cols: list[str], present: dict[str, F.Column]) -> list[F.Column]:
    return [present.get(c, F.lit(0)).alias(c) for c in cols]


def _sum_metrics(parts: list[DataFrame], keys: list[str], metrics: list[str]) -> DataFrame:
    """Union the partial facts (cast to one schema) and sum them per key."""
    typed = [
        p.select(
            *keys,
            *[
                F.col(m).cast(MONEY) if m in MONEY_METRICS else F.col(m).cast("long")
                for m in metrics
            ],
        )
        for p in parts
    ]
    u = typed[0]
    for p in typed[1:]:
        u = u.unionByName(p)
    aggs = [
        (F.sum(m).cast(MONEY) if m in MONEY_METRICS else F.sum(m).cast("long")).alias(m)
        for m in metrics
    ]
    return u.groupBy(*keys).agg(*aggs)


def product_daily(
    impression_counts: DataFrame,
    clicks: DataFrame,
    saves: DataFrame,
    purchases: DataFrame,
    products: DataFrame,
) -> DataFrame:
    keys = ["product_id", "business_date"]
    sources = (
        (impression_counts, _impression_metrics()),
        (clicks, _click_metrics()),
        (saves, _save_metrics()),
        (purchases, _purchase_metrics()),
    )
    parts = [df.select(*keys, *_zero(PRODUCT_METRICS, made)) for df, made in sources]
    facts = _sum_metrics(parts, keys, PRODUCT_METRICS)
    attrs = products.select("product_id", "business_date", "merchant_id", "category")
    return facts.join(attrs, keys, "left").select(
        *keys, "merchant_id", "category", *PRODUCT_METRICS
    )


# What each source row adds to a product's day (every other metric is 0 for it).
def _impression_metrics() -> dict[str, F.Column]:
    n = F.col("impressions")  # the counts of one (product, day, paid) group
    return {"impressions": n, "paid_impressions": F.when(F.col("is_paid"), n).otherwise(0)}


def _click_metrics() -> dict[str, F.Column]:
    valid = ~F.col("is_invalid")
    return {
        "clicks": valid.cast("int"),
        "paid_clicks": (valid & F.col("is_paid")).cast("int"),
        "invalid_clicks": F.col("is_invalid").cast("int"),
        "spend": F.when(valid & F.col("is_paid"), F.col("cost")).otherwise(F.lit(0).cast(MONEY)),
    }


def _save_metrics() -> dict[str, F.Column]:
    return {
        "favorites": (F.col("save_type") == "favorite").cast("int"),
        "carts": (F.col("save_type") == "cart").cast("int"),
    }


def _purchase_metrics() -> dict[str, F.Column]:
    attributed = F.col("is_paid_attributed")
    return {
        "orders": F.lit(1),
        "units": F.col("quantity"),
        "gmv": F.col("amount"),
        "paid_attributed_orders": attributed.cast("int"),
        "paid_attributed_gmv": F.when(attributed, F.col("amount")).otherwise(F.lit(0).cast(MONEY)),
    }


def product_traffic_daily(
    impression_counts: DataFrame, clicks: DataFrame, purchases: DataFrame
) -> DataFrame:
    keys = ["product_id", "business_date", "scene", "is_paid"]
    valid = ~F.col("is_invalid")
    money0 = F.lit(0).cast(MONEY)
    parts = [
        impression_counts.select(
            "product_id",
            "business_date",
            "scene",
            "is_paid",
            *_zero(TRAFFIC_METRICS, {"impressions": F.col("impressions")}),
        ),
        clicks.select(
            "product_id",
            "business_date",
            "scene",
            "is_paid",
            *_zero(
                TRAFFIC_METRICS,
                {
                    "clicks": valid.cast("int"),
                    "invalid_clicks": F.col("is_invalid").cast("int"),
                    "spend": F.when(valid & F.col("is_paid"), F.col("cost")).otherwise(money0),
                },
            ),
        ),
        purchases.select(
            "product_id",
            "business_date",
            F.col("attributed_scene").alias("scene"),
            F.col("is_paid_attributed").alias("is_paid"),
            *_zero(
                TRAFFIC_METRICS, {"attributed_orders": F.lit(1), "attributed_gmv": F.col("amount")}
            ),
        ),
    ]
    return _sum_metrics(parts, keys, TRAFFIC_METRICS)


def segments(changes: DataFrame, key: str) -> DataFrame:
    """Half-open intervals ``[segment_start, segment_end)`` between consecutive change times
    of ``key`` (a campaign, or a product over all its campaigns); the last one is open.
    Version boundaries are change times, so every campaign version is a union of whole
    segments, to the microsecond. A small table: one row per change."""
    starts = changes.select(
        F.col(key).alias("_seg_key"), F.col("change_time").alias("segment_start")
    ).distinct()
    return starts.withColumn(
        "_seg_end",
        F.lead("segment_start").over(Window.partitionBy("_seg_key").orderBy("segment_start")),
    )


def _with_segment(events: DataFrame, segs: DataFrame, key: str) -> DataFrame:
    """Tag each event with ``segment_start``: the latest change time at or before it (null
    before the first change). A broadcast range join: no shuffle or sort of the events."""
    joined = events.join(
        F.broadcast(segs),
        (F.col(key) == F.col("_seg_key"))
        & (F.col("event_time") >= F.col("segment_start"))
        & (F.col("_seg_end").isNull() | (F.col("event_time") < F.col("_seg_end"))),
        "left",
    )
    return joined.drop("_seg_key", "_seg_end")


def impression_counts(impressions: DataFrame, campaign_segments: DataFrame) -> DataFrame:
    """Impressions counted per product, date, scene, paid flag, campaign and segment: the
    one pass over the (largest) event table that every impression fact is summed from."""
    return (
        _with_segment(impressions, campaign_segments, "campaign_id")
        .groupBy("product_id", "business_date", "scene", "is_paid", "campaign_id", "segment_start")
        .agg(F.count("*").cast("long").alias("impressions"))
    )


def campaign_segment_daily(
    impression_counts: DataFrame, clicks: DataFrame, campaign_segments: DataFrame
) -> DataFrame:
    metrics = ["paid_impressions", "paid_clicks", "invalid_clicks", "spend"]
    valid = ~F.col("is_invalid")
    money0 = F.lit(0).cast(MONEY)
    imps = impression_counts.where(F.col("campaign_id").isNotNull()).select(
        "campaign_id",
        "business_date",
        "segment_start",
        F.col("impressions").alias("paid_impressions"),
        F.lit(0).cast("long").alias("paid_clicks"),
        F.lit(0).cast("long").alias("invalid_clicks"),
        money0.alias("spend"),
    )
    # Kept even without a segment (events before the create): the campaign's spend of a day
    # counts every valid paid click, whatever version it falls in.
    clks = _with_segment(
        clicks.where(F.col("campaign_id").isNotNull()), campaign_segments, "campaign_id"
    ).select(
        "campaign_id",
        "business_date",
        "segment_start",
        F.lit(0).cast("long").alias("paid_impressions"),
        valid.cast("long").alias("paid_clicks"),
        F.col("is_invalid").cast("long").alias("invalid_clicks"),
        F.when(valid, F.col("cost")).otherwise(money0).cast(MONEY).alias("spend"),
    )
    return (
        imps.unionByName(clks)
        .groupBy("campaign_id", "business_date", "segment_start")
        .agg(
            *[
                (F.sum(m).cast(MONEY) if m == "spend" else F.sum(m).cast("long")).alias(m)
                for m in metrics
            ]
        )
    )


def product_segment_daily(purchases: DataFrame, product_segments: DataFrame) -> DataFrame:
    events = purchases.select(
        "product_id",
        "business_date",
        "event_time",
        "amount",
        F.when(F.col("is_paid_attributed"), F.col("attributed_campaign_id")).alias(
            "paid_campaign_id"
        ),
    )
    # Purchases before any change of the product's campaigns belong to no version.
    tagged = _with_segment(events, product_segments, "product_id").where(
        F.col("segment_start").isNotNull()
    )
    return tagged.groupBy("product_id", "business_date", "segment_start", "paid_campaign_id").agg(
        F.count("*").cast("long").alias("orders"), F.sum("amount").cast(MONEY).alias("gmv")
    )


def build_facts(
    spark: SparkSession,
    layout: Layout,
    days: list[dt.date],
    D: dt.date,
    first: dt.date | None = None,
) -> tuple[dict[str, DataFrame], list]:
    """Every curated fact of ``days`` as the run for ``D`` sees them (DataFrames by table
    name), and the cached inputs to release once they are written. ``first``: the run's
    first ingest."""
    # Each input feeds several facts: read it once per run (the caller unpersists them).
    # Impressions (most of the rows) are counted once into a small table first.
    changes = campaign_changes_up_to(spark, layout, D, first)
    campaign_segments = segments(changes, "campaign_id")
    impressions = accepted_events(spark, layout, "impressions", days, D)
    imp_counts = impression_counts(impressions, campaign_segments).persist()
    clicks = accepted_events(spark, layout, "clicks", days, D).drop("user_id").persist()
    saves = accepted_events(spark, layout, "saves", days, D)
    purchases = attribute_purchases(spark, layout, days, D).persist()
    products = products_as_of(spark, layout, days, D)
    facts = {
        "attributed_purchases": purchases,
        "fct_product_daily": product_daily(imp_counts, clicks, saves, purchases, products),
        "fct_product_traffic_daily": product_traffic_daily(imp_counts, clicks, purchases),
        "fct_campaign_segment_daily": campaign_segment_daily(imp_counts, clicks, campaign_segments),
        "fct_product_segment_daily": product_segment_daily(
            purchases, segments(changes, "product_id")
        ),
    }
    assert tuple(facts) == curated.FACT_TABLES, (
        "fullsite/curated.py registers what the facts step writes"
    )
    return facts, [imp_counts, clicks, purchases]
