"""The registry of the curated layer: every table the Spark stage writes, its key and its
partition column. Spark's writers, the curated gate, the Dagster assets and the tests read
it; dbt's sources (models/staging/_sources.yml) are checked against it by the suite."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CuratedTable:
    name: str
    key: tuple[str, ...]
    # the folder partition: business_date=…, or ingest_date=… for dq
    partition: str = "business_date"
    read_by_dbt: bool = True  # a dbt source (attributed_purchases stays inside Spark)
    # built by the facts step (dq tables come from cleaning, lifecycle after facts)
    facts: bool = True


TABLES = (
    CuratedTable("attributed_purchases", ("order_id",), read_by_dbt=False),
    CuratedTable("fct_product_daily", ("product_id", "business_date")),
    CuratedTable("fct_product_traffic_daily", ("product_id", "business_date", "scene", "is_paid")),
    CuratedTable("fct_campaign_segment_daily", ("campaign_id", "business_date", "segment_start")),
    CuratedTable(
        "fct_product_segment_daily",
        ("product_id", "business_date", "segment_start", "paid_campaign_id"),
    ),
    CuratedTable("product_lifecycle_daily", ("product_id", "business_date"), facts=False),
    CuratedTable("dq_ingest_reconciliation", ("table_name",), partition="ingest_date", facts=False),
    CuratedTable(
        "dq_quarantine_summary", ("table_name", "reason"), partition="ingest_date", facts=False
    ),
)
BY_NAME = {t.name: t for t in TABLES}
FACT_TABLES = tuple(t.name for t in TABLES if t.facts)
DBT_SOURCES = tuple(t.name for t in TABLES if t.read_by_dbt)
BY_BUSINESS_DATE = tuple(t.name for t in TABLES if t.partition == "business_date")
