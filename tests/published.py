"""Helpers to read a published warehouse the way an analyst would (read-only)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb

TABLES = [
    "marts.fct_product_daily",
    "marts.fct_product_traffic_daily",
    "marts.product_lifecycle_daily",
    "marts.product_tags_daily",
    "marts.dim_campaign_versions",
    "marts.fct_campaign_daily",
    "marts.campaign_roi_7d",
    "finance.compensation_claims",
    "finance.merchant_rebates_monthly",
    "marts.campaign_uplift",
    "marts.merchant_plan_usage",
    "dq.ingest_reconciliation",
    "dq.quarantine_summary",
]  # the tables of outputs.md: the reference recomputes each of them (tests/reference)
# Tables for analysts built from those (issues 16 and 23): in every digest of a warehouse.
ANALYST_TABLES = [
    "marts.dim_merchant",
    "marts.dim_product",
    "marts.merchant_daily",
    "marts.product_tag_diagnostics",
    "marts.roi_choice_effect",
    "marts.category_roi_benchmark",
    "marts.campaign_roi_vs_category",
]


def figures(warehouse: Path) -> dict[str, str]:
    """A digest of every published table's full content (run_log aside)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        out = {}
        for t in TABLES + ANALYST_TABLES:
            rows = con.execute(f"select * from {t} order by all").fetchall()
            out[t] = hashlib.sha256(repr(rows).encode()).hexdigest() + f":{len(rows)}"
        return out
    finally:
        con.close()


def query(warehouse: Path, sql: str):
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def table_digest(warehouse: Path, table: str) -> str:
    """One table's full content as a digest (its rows in order, and their count)."""
    rows = query(warehouse, f"select * from {table} order by all")
    return hashlib.sha256(repr(rows).encode()).hexdigest() + f":{len(rows)}"
