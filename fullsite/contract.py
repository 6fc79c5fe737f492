"""The raw landing-zone contract (``shared/spec/data-contract.md``) as Arrow schemas.

Used by the generator (what it writes), the raw gate (what it checks) and the Spark
cleaning job (what it reads), so the contract is written down exactly once.
"""

from __future__ import annotations

import pyarrow as pa

TS = pa.timestamp("us", tz="UTC")  # Parquet: TIMESTAMP(isAdjustedToUTC=true, MICROS)
MONEY = pa.decimal128(18, 2)
MONEY_SQL = f"decimal({MONEY.precision},{MONEY.scale})"  # the same type in Spark SQL and DuckDB
ROI = pa.decimal128(10, 2)

SCENES = ("search", "recommend", "activity")
SAVE_TYPES = ("favorite", "cart")
TIERS = ("brand", "high_potential", "sme")
ACTIONS = ("create", "update", "pause", "resume", "end")
ROI_CHOICES = ("tier_1", "tier_2", "tier_3", "custom")
# The values an enumerated event column may take (the contract's bad_enum check).
ENUMS = {
    ("impressions", "scene"): SCENES,
    ("clicks", "scene"): SCENES,
    ("saves", "save_type"): SAVE_TYPES,
}
BUSINESS_TZ = "Asia/Shanghai"
BUSINESS_UTC_OFFSET_HOURS = 8  # Asia/Shanghai has no daylight saving

SCHEMAS: dict[str, pa.Schema] = {
    "impressions": pa.schema(
        [
            ("event_id", pa.string()),
            ("event_time", TS),
            ("user_id", pa.string()),
            ("product_id", pa.string()),
            ("campaign_id", pa.string()),
            ("scene", pa.string()),
            ("is_paid", pa.bool_()),
        ]
    ),
    "clicks": pa.schema(
        [
            ("event_id", pa.string()),
            ("event_time", TS),
            ("user_id", pa.string()),
            ("product_id", pa.string()),
            ("campaign_id", pa.string()),
            ("impression_id", pa.string()),
            ("scene", pa.string()),
            ("is_paid", pa.bool_()),
            ("cost", MONEY),
            ("is_invalid", pa.bool_()),
        ]
    ),
    "saves": pa.schema(
        [
            ("event_id", pa.string()),
            ("event_time", TS),
            ("user_id", pa.string()),
            ("product_id", pa.string()),
            ("save_type", pa.string()),
        ]
    ),
    "purchases": pa.schema(
        [
            ("order_id", pa.string()),
            ("event_time", TS),
            ("user_id", pa.string()),
            ("product_id", pa.string()),
            ("quantity", pa.int32()),
            ("amount", MONEY),
        ]
    ),
    "merchants": pa.schema(
        [
            ("merchant_id", pa.string()),
            ("merchant_name", pa.string()),
            ("merchant_tier", pa.string()),
            ("registered_date", pa.date32()),
            ("plan_quota", pa.int32()),
        ]
    ),
    "products": pa.schema(
        [
            ("product_id", pa.string()),
            ("merchant_id", pa.string()),
            ("category", pa.string()),
            ("is_standard", pa.bool_()),
            ("listed_date", pa.date32()),
            ("price", MONEY),
        ]
    ),
    "campaign_changes": pa.schema(
        [
            ("change_id", pa.string()),
            ("change_time", TS),
            ("campaign_id", pa.string()),
            ("merchant_id", pa.string()),
            ("product_id", pa.string()),
            ("action", pa.string()),
            ("daily_budget", MONEY),
            ("target_roi", ROI),
            ("roi_choice", pa.string()),
            ("is_tagged", pa.bool_()),
        ]
    ),
}

EVENT_TABLES = ("impressions", "clicks", "saves", "purchases")
DAILY_TABLES = ("merchants", "products", "campaign_changes")  # must land every day
ID_COLUMN = {
    "impressions": "event_id",
    "clicks": "event_id",
    "saves": "event_id",
    "purchases": "order_id",
}

# Columns that may be null; every other contract column is required. The contract marks
# campaign_id (natural traffic) and impression_id (unknown) nullable and nothing else.
NULLABLE = {("impressions", "campaign_id"), ("clicks", "campaign_id"), ("clicks", "impression_id")}

# In the contract's order (data-contract.md, decision D22 for the three reasons the generator
# never makes: bad_encoding, oversized_text, implausible_amount; the fuzz test does).
QUARANTINE_REASONS = (
    "conflicting_duplicate",
    "bad_encoding",
    "oversized_text",
    "missing_required",
    "bad_enum",
    "negative_amount",
    "implausible_amount",
    "bad_quantity",
    "paid_flag_mismatch",
    "natural_click_cost",
    "unknown_product",
    "unknown_campaign",
    "future_event",
    "too_late",
)

# Which validation reasons can apply to which table (for tests and the generator).
REASONS_BY_TABLE = {
    "impressions": (
        "missing_required",
        "bad_enum",
        "paid_flag_mismatch",
        "unknown_product",
        "unknown_campaign",
        "future_event",
        "too_late",
        "conflicting_duplicate",
    ),
    "clicks": (
        "missing_required",
        "bad_enum",
        "negative_amount",
        "paid_flag_mismatch",
        "natural_click_cost",
        "unknown_product",
        "unknown_campaign",
        "future_event",
        "too_late",
        "conflicting_duplicate",
    ),
    "saves": (
        "missing_required",
        "bad_enum",
        "unknown_product",
        "future_event",
        "too_late",
        "conflicting_duplicate",
    ),
    "purchases": (
        "missing_required",
        "negative_amount",
        "bad_quantity",
        "unknown_product",
        "future_event",
        "too_late",
        "conflicting_duplicate",
    ),
}


# The measures of the two daily fact tables (outputs.md), in their published order: named
# here once for the Spark job that builds them and the DuckDB yardstick that checks them.
PRODUCT_METRICS = [
    "impressions",
    "paid_impressions",
    "clicks",
    "paid_clicks",
    "invalid_clicks",
    "favorites",
    "carts",
    "orders",
    "units",
    "gmv",
    "spend",
    "paid_attributed_orders",
    "paid_attributed_gmv",
]
TRAFFIC_METRICS = [
    "impressions",
    "clicks",
    "invalid_clicks",
    "spend",
    "attributed_orders",
    "attributed_gmv",
]
MONEY_METRICS = {"gmv", "spend", "paid_attributed_gmv", "attributed_gmv"}
