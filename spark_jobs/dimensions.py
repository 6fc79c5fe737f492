"""The small authoritative tables: product and merchant snapshots, the campaign change log."""
from __future__ import annotations

import datetime as dt

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from fullsite.layout import Layout
from spark_jobs.io import contract_schema, has_parquet, read_parquet


def product_snapshot(spark: SparkSession, layout: Layout, day: dt.date) -> DataFrame:
    return read_parquet(spark, [layout.raw("products", day)], contract_schema("products"))


def products_as_of(spark: SparkSession, layout: Layout, days: list[dt.date], D: dt.date) -> DataFrame:
    """Product attributes for each business date in ``days``: the snapshot of that date,
    else (a product first seen in a later snapshot) the snapshot of ``D``."""
    frames = []
    latest = product_snapshot(spark, layout, D)
    for d in days:
        snap = product_snapshot(spark, layout, d) if has_parquet(layout.raw("products", d)) else latest
        fallback = latest.join(snap.select("product_id"), "product_id", "left_anti")
        frames.append(snap.unionByName(fallback).withColumn("business_date", F.lit(d)))
    out = frames[0]
    for f in frames[1:]:
        out = out.unionByName(f)
    return out


def campaign_changes_up_to(spark: SparkSession, layout: Layout, D: dt.date) -> DataFrame:
    """The whole change log up to ``D`` (a small table: one row per merchant action)."""
    base = layout.raw("campaign_changes")
    parts = sorted(p for p in base.glob("dt=*") if p.name <= f"dt={D.isoformat()}") if base.exists() else []
    return read_parquet(spark, parts, contract_schema("campaign_changes"))


def campaign_ids_up_to(spark: SparkSession, layout: Layout, D: dt.date) -> DataFrame:
    return campaign_changes_up_to(spark, layout, D).select("campaign_id").distinct()
