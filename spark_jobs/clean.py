"""Cleaning of raw event partitions: every raw row ends accepted, duplicate or quarantined.

The contract's order (data-contract.md, "Bad rows, late rows, duplicates"):
1. an id accepted in an earlier partition: identical → duplicate, else conflicting_duplicate;
2. validation, the first failing check is the quarantine reason (``validation.py``);
3. among rows that pass, copies of one id: identical → one accepted, the rest duplicates;
   different → all quarantined as conflicting_duplicate (``dedup.py``, with step 1).

This module writes the outcome: one pass sorts every row into a folder per ingest and
outcome, the accepted folders are swapped into the store, the quarantined rows copied into
the quarantine store (``quarantine.py``), and the tables are cleaned side by side.
"""

from __future__ import annotations

import datetime as dt
import shutil
import uuid
from dataclasses import dataclass
from functools import partial

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from fullsite import rules
from fullsite.contract import EVENT_TABLES, SCHEMAS
from fullsite.layout import Layout
from spark_jobs.content_hash import HASH, check_store_format
from spark_jobs.dedup import classify, read_ingests
from spark_jobs.dimensions import campaign_first_ingest
from spark_jobs.io import concurrently, parquet_rows, recover, swap_partitions
from spark_jobs.quarantine import store_quarantine


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


def clean_partition(
    spark: SparkSession,
    layout: Layout,
    table: str,
    ingests: list[dt.date],
    known_products: DataFrame,
    known_campaigns: DataFrame,
) -> list[CleanResult]:
    """Classify ingests ``ingests`` of ``table`` in one pass over their raw rows: a single
    write sorts every row into a folder per ingest, outcome (accepted, duplicate, or its
    quarantine reason) and business date; the counts come from the files' footers; each
    ingest's accepted folders are then swapped into the store and its (few) quarantined rows
    copied into the quarantine store."""
    cols = SCHEMAS[table].names
    outcome = F.when(F.col("_status") == "quarantined", F.col("_reason")).otherwise(
        F.col("_status")
    )
    classified = classify(spark, layout, table, ingests, known_products, known_campaigns)
    base = layout.accepted(table)
    base.mkdir(parents=True, exist_ok=True)
    recover(base)
    tmp = base / f".tmp-{uuid.uuid4().hex}"
    late = int(rules.param("late_days"))
    results = []
    try:
        (
            classified.select(*cols, HASH, "_ingest", "business_date", outcome.alias("_outcome"))
            .write.partitionBy("_ingest", "_outcome", "business_date")
            .parquet(str(tmp))
        )
        for D in ingests:
            written = tmp / f"_ingest={D.isoformat()}"
            counts = {d.name.split("=", 1)[1]: parquet_rows(d) for d in written.glob("_outcome=*")}
            days = [D - dt.timedelta(days=k) for k in range(late, -1, -1)]
            accepted = {p.name for p in (written / "_outcome=accepted").glob("business_date=*")}
            if stray := accepted - {f"business_date={d.isoformat()}" for d in days}:
                # Validation keeps accepted rows inside the late window; never drop any silently.
                raise RuntimeError(
                    f"{table} {D}: accepted rows outside {days[0]} … {D}: {sorted(stray)}"
                )
            swap_partitions(
                written / "_outcome=accepted",
                base,
                "business_date",
                days,
                leaf=f"ingest_date={D.isoformat()}",
            )
            reasons = sorted(set(counts) - {"accepted", "duplicate"})
            store_quarantine(layout, table, D, {r: written / f"_outcome={r}" for r in reasons})
            results.append(
                CleanResult(
                    table=table,
                    ingest_date=D,
                    rows_in=sum(counts.values()),
                    accepted=counts.get("accepted", 0),
                    duplicates=counts.get("duplicate", 0),
                    quarantined_by_reason={r: counts[r] for r in reasons},
                )
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return results


def clean_all(
    spark: SparkSession, layout: Layout, ingests: list[dt.date]
) -> dict[dt.date, list[CleanResult]]:
    """Clean ingests ``ingests`` (consecutive dates, in order) in one pass per table: the
    same outcome as cleaning them one after the other (decision D31)."""
    check_store_format(layout)
    # each ingest's snapshot
    products = read_ingests(spark, layout, "products", ingests).select("product_id", "_ingest")
    known_campaigns = campaign_first_ingest(spark, layout, ingests[-1], ingests[0])
    # The tables are cleaned side by side: a small table's pass is mostly fixed cost (planning,
    # footers, small stages) that fills the cores the largest one leaves idle.
    results = dict(
        zip(
            CLEAN_ORDER,
            concurrently(
                [
                    partial(clean_partition, spark, layout, t, ingests, products, known_campaigns)
                    for t in CLEAN_ORDER
                ]
            ),
            strict=True,
        )
    )
    return {D: [results[t][k] for t in EVENT_TABLES] for k, D in enumerate(ingests)}


CLEAN_ORDER = ("purchases", "saves", "clicks", "impressions")
