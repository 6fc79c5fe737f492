"""The yardstick of the Spark stage: one plain DuckDB query that computes the same daily
product facts (``fct_product_daily``) from the same raw Parquet.

    python -m benchmarks.duckdb_facts --data-root DIR --date D --out FILE.parquet

It reproduces the contract's cleaning (validation, in-partition duplicates and conflicts),
Asia/Shanghai business dates, 7-day last-click attribution and the daily sums. It covers
the *first* night of a data root, where no earlier ingest exists: then the result must equal
Spark's ``fct_product_daily`` for ``D - late_days … D`` row for row, which the benchmark
checks (``compare``), so the two engines are timed on the same work.
Prints one JSON line: seconds, peak RSS of the process, rows written.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import time
from pathlib import Path

import duckdb

from fullsite import rules
from fullsite.contract import ID_COLUMN, NULLABLE, SCHEMAS

PRODUCT_METRICS = ["impressions", "paid_impressions", "clicks", "paid_clicks", "invalid_clicks", "favorites",
                   "carts", "orders", "units", "gmv", "spend", "paid_attributed_orders", "paid_attributed_gmv"]
MONEY_METRICS = {"gmv", "spend", "paid_attributed_gmv"}


def _checks(table: str, D: dt.date, late: int) -> str:
    """True when the row passes validation (the contract's step 2)."""
    cols = SCHEMAS[table].names
    conds = [f"{c} IS NOT NULL" for c in cols if (table, c) not in NULLABLE]
    if table in ("impressions", "clicks"):
        conds += ["scene IN ('search', 'recommend', 'activity')",
                  "is_paid = (campaign_id IS NOT NULL)",
                  "(campaign_id IS NULL OR campaign_id IN (SELECT campaign_id FROM campaigns))"]
    if table == "saves":
        conds.append("save_type IN ('favorite', 'cart')")
    if table == "clicks":
        conds += ["cost >= 0", "NOT (campaign_id IS NULL AND cost > 0)"]
    if table == "purchases":
        conds += ["amount > 0", "quantity >= 1"]
    conds += ["product_id IN (SELECT product_id FROM snapshot)",
              f"business_date BETWEEN DATE '{D - dt.timedelta(days=late)}' AND DATE '{D}'"]
    return " AND ".join(f"({c})" for c in conds)


def _accepted(root: Path, table: str, D: dt.date, late: int) -> str:
    """Rows that pass, minus in-partition copies: one per id, none for conflicting ids."""
    cols = SCHEMAS[table].names
    idc = ID_COLUMN[table]
    return f"""
    {table} AS (
        SELECT * FROM (
            SELECT *, count(DISTINCT row({', '.join(cols)})) OVER (PARTITION BY {idc}) AS _variants,
                   row_number() OVER (PARTITION BY {idc}) AS _copy_no
            FROM (SELECT *, timezone('Asia/Shanghai', event_time)::DATE AS business_date
                  FROM read_parquet('{root}/raw/{table}/dt={D}/*.parquet'))
            WHERE {_checks(table, D, late)}
        ) WHERE _variants = 1 AND _copy_no = 1
    )"""


def product_daily_sql(root: Path, D: dt.date) -> str:
    late = int(rules.param("late_days"))
    hours = int(rules.param("attribution_window_hours"))
    zero = {m: ("0::DECIMAL(18,2)" if m in MONEY_METRICS else "0") for m in PRODUCT_METRICS}

    def part(source: str, **given: str) -> str:
        cols = ", ".join(f"{given.get(m, zero[m])} AS {m}" for m in PRODUCT_METRICS)
        return f"SELECT product_id, business_date, {cols} FROM {source}"

    parts = [
        part("impressions", impressions="1", paid_impressions="is_paid::INT"),
        part("clicks", clicks="(NOT is_invalid)::INT", paid_clicks="(NOT is_invalid AND is_paid)::INT",
             invalid_clicks="is_invalid::INT",
             spend="CASE WHEN NOT is_invalid AND is_paid THEN cost ELSE 0::DECIMAL(18,2) END"),
        part("saves", favorites="(save_type = 'favorite')::INT", carts="(save_type = 'cart')::INT"),
        part("attributed", orders="1", units="quantity", gmv="amount",
             paid_attributed_orders="is_paid_attributed::INT",
             paid_attributed_gmv="CASE WHEN is_paid_attributed THEN amount ELSE 0::DECIMAL(18,2) END"),
    ]
    sums = ", ".join(f"sum({m})::{'DECIMAL(18,2)' if m in MONEY_METRICS else 'BIGINT'} AS {m}" for m in PRODUCT_METRICS)
    tables = ",".join(_accepted(root, t, D, late) for t in ("impressions", "clicks", "saves", "purchases"))
    return f"""
    WITH snapshot AS (SELECT * FROM read_parquet('{root}/raw/products/dt={D}/*.parquet')),
    campaigns AS (SELECT DISTINCT campaign_id
                  FROM read_parquet('{root}/raw/campaign_changes/*/*.parquet', hive_partitioning = true)
                  WHERE dt <= '{D}'),
    {tables},
    attributed AS (
        SELECT p.*, c.campaign_id IS NOT NULL AS is_paid_attributed
        FROM purchases p
        LEFT JOIN (SELECT * FROM clicks WHERE NOT is_invalid) c
          ON c.user_id = p.user_id AND c.product_id = p.product_id
         AND c.event_time <= p.event_time AND c.event_time >= p.event_time - INTERVAL {hours} HOUR
        QUALIFY row_number() OVER (PARTITION BY p.order_id
                                   ORDER BY c.event_time DESC NULLS LAST, c.event_id DESC NULLS LAST) = 1
    ),
    facts AS (
        SELECT product_id, business_date, {sums}
        FROM ({' UNION ALL '.join(parts)})
        GROUP BY ALL
    )
    SELECT f.product_id, f.business_date, s.merchant_id, s.category, {', '.join('f.' + m for m in PRODUCT_METRICS)}
    FROM facts f LEFT JOIN snapshot s USING (product_id)
    """


def run(root: Path, D: dt.date, out: Path) -> dict:
    t0 = time.monotonic()
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"COPY ({product_daily_sql(Path(root).resolve(), D)}) TO '{out}' (FORMAT parquet)")
    rows = con.execute(f"SELECT count(*) FROM read_parquet('{out}')").fetchone()[0]
    seconds = time.monotonic() - t0
    return {"seconds": seconds, "rows": rows,
            "peak_memory": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}


def compare(root: Path, D: dt.date, out: Path) -> int:
    """Rows that differ between the DuckDB result and Spark's curated facts (0 = same)."""
    late = int(rules.param("late_days"))
    days = [D - dt.timedelta(days=k) for k in range(late, -1, -1)]
    paths = [str(p) for d in days for p in sorted((Path(root) / "curated" / "fct_product_daily"
                                                   / f"business_date={d}").glob("*.parquet"))]
    cols = "product_id, business_date::DATE, merchant_id, category, " + ", ".join(PRODUCT_METRICS)
    spark = f"SELECT {cols} FROM read_parquet({paths!r}, hive_partitioning = true)"
    mine = f"SELECT {cols} FROM read_parquet('{out}')"
    con = duckdb.connect()
    return sum(con.execute(f"SELECT count(*) FROM (({a}) EXCEPT ALL ({b}))").fetchone()[0]
               for a, b in ((spark, mine), (mine, spark)))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-root", required=True, type=Path)
    ap.add_argument("--date", required=True, type=dt.date.fromisoformat)
    ap.add_argument("--out", required=True, type=Path)
    args = ap.parse_args()
    print(json.dumps(run(args.data_root, args.date, args.out)))


if __name__ == "__main__":
    main()
