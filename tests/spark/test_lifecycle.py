"""cum_orders over a range longer than the lifecycle's two 7-day windows (a backfill's one
pass): orders older than the windows still count."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from fullsite.layout import Layout
from spark_jobs.lifecycle import FACT_SCHEMA, run_lifecycle
from tests.rawdata import dims

START = dt.date(2024, 7, 1)
DAYS = [START + dt.timedelta(days=k) for k in range(20)]
LAST = DAYS[-1]
MERCHANTS = [
    dict(
        merchant_id="M1",
        merchant_name="One",
        merchant_tier="sme",
        registered_date=dt.date(2024, 1, 1),
        plan_quota=200,
    )
]
PRODUCTS = [
    dict(
        product_id="P1",
        merchant_id="M1",
        category="toys",
        is_standard=True,
        listed_date=dt.date(2024, 6, 1),
        price="10.00",
    )
]
# 16 days apart: the first is outside day 17's 14-day look-back
ORDERS = {
    DAYS[0]: 25,
    DAYS[16]: 10,
}


def _facts(root, day, orders):
    folder = root / "curated" / "fct_product_daily" / f"business_date={day}"
    folder.mkdir(parents=True)
    cols = {f.name: [0] for f in FACT_SCHEMA if f.name != "business_date"}
    cols.update(product_id=["P1"], orders=[orders], gmv=[Decimal(orders) * 10])
    schema = pa.schema(
        [
            (
                f.name,
                pa.string()
                if f.name == "product_id"
                else pa.decimal128(18, 2)
                if f.name == "gmv"
                else pa.int64(),
            )
            for f in FACT_SCHEMA
            if f.name != "business_date"
        ]
    )
    pq.write_table(pa.table(cols, schema=schema), folder / "part-0.parquet")


def test_cumulative_orders_of_a_range_longer_than_the_windows(tmp_path, spark):
    dims(tmp_path, LAST, PRODUCTS, MERCHANTS, [])
    for day, n in ORDERS.items():
        _facts(tmp_path, day, n)

    run_lifecycle(spark, Layout(tmp_path), DAYS, LAST)

    con = duckdb.connect()
    rows = dict(
        con.execute(f"""select business_date::date, cum_orders from
        read_parquet('{tmp_path}/curated/product_lifecycle_daily/*/*.parquet', hive_partitioning =
            true)""").fetchall()
    )
    expected = {d: sum(n for o, n in ORDERS.items() if o <= d) for d in DAYS}
    # 35 orders on day 17: the stage (dbt) sees it past the standard class's 30
    assert rows == expected
    state = dict(
        con.execute(f"""select business_date::date, cum_orders from
        read_parquet('{tmp_path}/state/cum_orders/*/*.parquet', hive_partitioning =
            true)""").fetchall()
    )
    assert state == {d: n for d, n in expected.items() if n}
