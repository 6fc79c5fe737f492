"""The yardstick of the Spark stage: plain DuckDB SQL that computes the same daily facts —
``fct_product_daily`` and ``fct_product_traffic_daily`` (issue #3, item 4) — from the same
raw Parquet.

    python -m benchmarks.duckdb_facts --data-root DIR --date D --out DIR

It reproduces the contract's cleaning (validation, in-partition duplicates and conflicts),
Asia/Shanghai business dates, 7-day last-click attribution and the daily sums: the cleaned
events and the attributed purchases once (temporary tables), then one query per fact
table, each written to ``<out>/<table>.parquet``. It covers the *first* night of a data
root, where no earlier ingest exists: then both results must equal Spark's for
``D - late_days … D`` row for row, which the benchmark checks (``compare``), so the two
engines are timed on the same work.
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
from fullsite.contract import (
    ID_COLUMN,
    MONEY_METRICS,
    NULLABLE,
    PRODUCT_METRICS,
    SCHEMAS,
    TRAFFIC_METRICS,
)
from fullsite.tablediff import differing_rows

FACTS = {
    "fct_product_daily": (["product_id", "business_date"], PRODUCT_METRICS),
    "fct_product_traffic_daily": (
        ["product_id", "business_date", "scene", "is_paid"],
        TRAFFIC_METRICS,
    ),
}


def _checks(table: str, D: dt.date, late: int) -> str:
    """True when the row passes validation (the contract's step 2)."""
    cols = SCHEMAS[table].names
    conds = [f"{c} IS NOT NULL" for c in cols if (table, c) not in NULLABLE]
    if table in ("impressions", "clicks"):
        conds += [
            "scene IN ('search', 'recommend', 'activity')",
            "is_paid = (campaign_id IS NOT NULL)",
            "(campaign_id IS NULL OR campaign_id IN (SELECT campaign_id FROM campaigns))",
        ]
    if table == "saves":
        conds.append("save_type IN ('favorite', 'cart')")
    if table == "clicks":
        conds += ["cost >= 0", "NOT (campaign_id IS NULL AND cost > 0)"]
    if table == "purchases":
        conds += ["amount > 0", "quantity >= 1"]
    conds += [
        "product_id IN (SELECT product_id FROM snapshot)",
        f"business_date BETWEEN DATE '{D - dt.timedelta(days=late)}' AND DATE '{D}'",
    ]
    return " AND ".join(f"({c})" for c in conds)


def _accepted(root: Path, table: str, D: dt.date, late: int) -> str:
    """Rows that pass, minus in-partition copies: one per id, none for conflicting ids."""
    cols = SCHEMAS[table].names
    idc = ID_COLUMN[table]
    return f"""
        SELECT * EXCLUDE (_variants, _copy_no) FROM (
            SELECT *, count(DISTINCT row({", ".join(cols)})) OVER (PARTITION BY {idc}) AS _variants,
                   row_number() OVER (PARTITION BY {idc}) AS _copy_no
            FROM (SELECT *, timezone('Asia/Shanghai', event_time)::DATE AS business_date
                  FROM read_parquet('{root}/raw/{table}/dt={D}/*.parquet'))
            WHERE {_checks(table, D, late)}
        ) WHERE _variants = 1 AND _copy_no = 1"""


def cleaned_sql(root: Path, D: dt.date) -> list[str]:
    """Temporary tables: the dimensions, the accepted rows of each event table and the
    attributed purchases."""
    late = int(rules.param("late_days"))
    hours = int(rules.param("attribution_window_hours"))
    statements = [
        f"CREATE TEMP TABLE snapshot AS SELECT * FROM "
        f"read_parquet('{root}/raw/products/dt={D}/*.parquet')",
        f"""CREATE TEMP TABLE campaigns AS SELECT DISTINCT campaign_id
            FROM read_parquet('{root}/raw/campaign_changes/*/*.parquet', hive_partitioning = true)
                WHERE dt <= '{D}'""",
    ]
    statements += [
        f"CREATE TEMP TABLE {t} AS {_accepted(root, t, D, late)}"
        for t in ("impressions", "clicks", "saves", "purchases")
    ]
    statements.append(f"""
    CREATE TEMP TABLE attributed AS
        SELECT p.*, c.campaign_id IS NOT NULL AS is_paid_attributed, coalesce(c.scene, 'direct')
            AS attributed_scene
        FROM purchases p
        LEFT JOIN (SELECT * FROM clicks WHERE NOT is_invalid) c
          ON c.user_id = p.user_id AND c.product_id = p.product_id
         AND c.event_time <= p.event_time AND c.event_time >= p.event_time - INTERVAL {hours} HOUR
        QUALIFY row_number() OVER (PARTITION BY p.order_id
                                   ORDER BY c.event_time DESC NULLS LAST, c.event_id DESC NULLS
                                       LAST) = 1""")
    return statements


def _sums(keys: list[str], metrics: list[str], parts: list[tuple[str, dict[str, str]]]) -> str:
    """Union of partial facts (absent metrics are zero), summed per key."""
    zero = {m: ("0::DECIMAL(18,2)" if m in MONEY_METRICS else "0") for m in metrics}
    selects = [
        f"SELECT {', '.join(given.get(k, k) + ' AS ' + k for k in keys)}, "
        + ", ".join(f"{given.get(m, zero[m])} AS {m}" for m in metrics)
        + f" FROM {source}"
        for source, given in parts
    ]
    sums = ", ".join(
        f"sum({m})::{'DECIMAL(18,2)' if m in MONEY_METRICS else 'BIGINT'} AS {m}" for m in metrics
    )
    return f"SELECT {', '.join(keys)}, {sums} FROM ({' UNION ALL '.join(selects)}) GROUP BY ALL"


def product_daily_sql() -> str:
    keys, metrics = FACTS["fct_product_daily"]
    facts = _sums(
        keys,
        metrics,
        [
            ("impressions", dict(impressions="1", paid_impressions="is_paid::INT")),
            (
                "clicks",
                dict(
                    clicks="(NOT is_invalid)::INT",
                    paid_clicks="(NOT is_invalid AND is_paid)::INT",
                    invalid_clicks="is_invalid::INT",
                    spend="CASE WHEN NOT is_invalid AND is_paid THEN cost ELSE 0::DECIMAL(18,2) "
                    "END",
                ),
            ),
            (
                "saves",
                dict(favorites="(save_type = 'favorite')::INT", carts="(save_type = 'cart')::INT"),
            ),
            (
                "attributed",
                dict(
                    orders="1",
                    units="quantity",
                    gmv="amount",
                    paid_attributed_orders="is_paid_attributed::INT",
                    paid_attributed_gmv="CASE WHEN is_paid_attributed THEN amount ELSE "
                    "0::DECIMAL(18,2) END",
                ),
            ),
        ],
    )
    return f"""
    SELECT f.product_id, f.business_date, s.merchant_id, s.category,
        {", ".join("f." + m for m in metrics)}
    FROM ({facts}) f LEFT JOIN snapshot s USING (product_id)"""


def traffic_daily_sql() -> str:
    keys, metrics = FACTS["fct_product_traffic_daily"]
    return _sums(
        keys,
        metrics,
        [
            ("impressions", dict(impressions="1")),
            (
                "clicks",
                dict(
                    clicks="(NOT is_invalid)::INT",
                    invalid_clicks="is_invalid::INT",
                    spend="CASE WHEN NOT is_invalid AND is_paid THEN cost ELSE 0::DECIMAL(18,2) "
                    "END",
                ),
            ),
            (
                "attributed",
                dict(
                    scene="attributed_scene",
                    is_paid="is_paid_attributed",
                    attributed_orders="1",
                    attributed_gmv="amount",
                ),
            ),
        ],
    )


def run(root: Path, D: dt.date, out: Path) -> dict:
    t0 = time.monotonic()
    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for statement in cleaned_sql(Path(root).resolve(), D):
        con.execute(statement)
    rows = 0
    for table, sql in (
        ("fct_product_daily", product_daily_sql()),
        ("fct_product_traffic_daily", traffic_daily_sql()),
    ):
        con.execute(f"COPY ({sql}) TO '{out / table}.parquet' (FORMAT parquet)")
        rows += con.execute(
            f"SELECT count(*) FROM read_parquet('{out / table}.parquet')"
        ).fetchone()[0]
    seconds = time.monotonic() - t0
    return {
        "seconds": seconds,
        "rows": rows,
        "peak_memory": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }


def compare(root: Path, D: dt.date, out: Path) -> int:
    """Rows that differ between the DuckDB results and Spark's curated facts (0 = same)."""
    late = int(rules.param("late_days"))
    days = [D - dt.timedelta(days=k) for k in range(late, -1, -1)]
    con = duckdb.connect()
    differing = 0
    for table, (keys, metrics) in FACTS.items():
        paths = [
            str(p)
            for d in days
            for p in sorted(
                (Path(root) / "curated" / table / f"business_date={d}").glob("*.parquet")
            )
        ]
        attrs = ["merchant_id", "category"] if table == "fct_product_daily" else []
        cols = ", ".join(
            "business_date::DATE AS business_date" if c == "business_date" else c
            for c in [*keys, *attrs, *metrics]
        )
        spark = f"SELECT {cols} FROM read_parquet({paths!r}, hive_partitioning = true)"
        mine = f"SELECT {cols} FROM read_parquet('{out / table}.parquet')"
        differing += differing_rows(con, spark, mine)
    return differing


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-root", required=True, type=Path)
    ap.add_argument("--date", required=True, type=dt.date.fromisoformat)
    ap.add_argument("--out", required=True, type=Path)
    args = ap.parse_args()
    print(json.dumps(run(args.data_root, args.date, args.out)))


if __name__ == "__main__":
    main()
