"""Contract step 2: the first failing check of a raw row is its quarantine reason, judged
against the product snapshot and the campaign change log of the row's own ingest."""

from __future__ import annotations

from functools import reduce

import pyarrow as pa
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from fullsite import rules
from fullsite.contract import ENUMS, MONEY, NULLABLE, SCHEMAS
from spark_jobs.io import spark_type


def _any(conditions: list[F.Column]) -> F.Column:
    return reduce(lambda a, b: a | b, conditions)


def validation_reason(table: str, D: F.Column) -> F.Column:
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
        checks.append(
            (
                "unknown_campaign",
                F.col("campaign_id").isNotNull() & F.col("_known_campaign").isNull(),
            )
        )
    late = int(rules.param("late_days"))
    checks.append(("future_event", F.col("business_date") > D))
    checks.append(("too_late", F.col("business_date") < F.date_sub(D, late)))
    expr = F.lit(None).cast("string")
    for reason, failed in reversed(checks):
        expr = F.when(failed, F.lit(reason)).otherwise(expr)
    return expr


def validated(
    df: DataFrame, table: str, known_products: DataFrame, known_campaigns: DataFrame
) -> DataFrame:
    """Step 2: ``_valid``, the first failing check of each copy against the products
    snapshot and the campaign change log of its own ingest (null when it passes)."""
    df = df.join(
        F.broadcast(
            known_products.select(
                F.col("product_id").alias("_known_product"),
                F.col("_ingest").alias("_product_ingest"),
            )
        ),
        (F.col("product_id") == F.col("_known_product"))
        & (F.col("_ingest") == F.col("_product_ingest")),
        "left",
    )
    if "campaign_id" in SCHEMAS[table].names:
        df = df.join(
            F.broadcast(
                known_campaigns.select(
                    F.col("campaign_id").alias("_known_campaign"), "_first_ingest"
                )
            ),
            (F.col("campaign_id") == F.col("_known_campaign"))
            & (F.col("_first_ingest") <= F.col("_ingest")),
            "left",
        )
    return df.withColumn("_valid", validation_reason(table, F.col("_ingest")))
