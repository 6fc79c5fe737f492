"""The Spark stage on hand-made partitions: every rule of cleaning, attribution and the
daily facts, with figures computed by hand.

The days are processed as a backfill processes them (each run of consecutive ingests
cleaned in one pass, the facts of the whole range built once): three Spark steps instead
of ten. That a backfill and nightly runs give the same outcome is tested on its own, for
cleaning ingest by ingest (tests/spark/test_one_pass_clean.py) and for every published
table (tests/integration/test_pipeline.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
import pyarrow.parquet as pq
import pytest

from fullsite.contract import SCHEMAS
from fullsite.layout import Layout
from spark_jobs.nightly import build_date, clean_dates
from tests.rawdata import dims, local, write

D0, D1, D2 = dt.date(2024, 7, 9), dt.date(2024, 7, 10), dt.date(2024, 7, 11)
CLICK_8D, CLICK_7D = dt.date(2024, 7, 2), dt.date(2024, 7, 3)
RUN_DATES = [CLICK_8D, CLICK_7D, D0, D1, D2]

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
        product_id=p,
        merchant_id="M1",
        category="toys",
        is_standard=True,
        listed_date=dt.date(2024, 6, 1),
        price=price,
    )
    for p, price in (("P1", "50.00"), ("P2", "20.00"))
]
CREATE = dict(
    change_id="CH1",
    change_time=local(D0, 10),
    campaign_id="C1",
    merchant_id="M1",
    product_id="P1",
    action="create",
    daily_budget="100.00",
    target_roi="3.00",
    roi_choice="tier_2",
    is_tagged=True,
)


def imp(eid, t, user="u1", product="P1", campaign=None, scene="search", is_paid=None):
    return dict(
        event_id=eid,
        event_time=t,
        user_id=user,
        product_id=product,
        campaign_id=campaign,
        scene=scene,
        is_paid=(campaign is not None) if is_paid is None else is_paid,
    )


def clk(
    eid,
    t,
    user="u1",
    product="P1",
    campaign=None,
    scene="search",
    cost="0.00",
    invalid=False,
    is_paid=None,
):
    return dict(
        event_id=eid,
        event_time=t,
        user_id=user,
        product_id=product,
        campaign_id=campaign,
        impression_id=None,
        scene=scene,
        is_paid=(campaign is not None) if is_paid is None else is_paid,
        cost=cost,
        is_invalid=invalid,
    )


def buy(oid, t, user, product, qty, amount):
    return dict(
        order_id=oid, event_time=t, user_id=user, product_id=product, quantity=qty, amount=amount
    )


@pytest.fixture(scope="module")
def processed(tmp_path_factory, spark):
    root = tmp_path_factory.mktemp("handmade")
    for d in RUN_DATES:
        dims(root, d, PRODUCTS, MERCHANTS, [CREATE] if d == D0 else [])
    write(root, "clicks", CLICK_8D, [clk("K-OLD", local(CLICK_8D, 12), user="u9", product="P2")])
    write(
        root,
        "clicks",
        CLICK_7D,
        [clk("K-7D", local(CLICK_7D, 9), user="u8", product="P2", scene="activity")],
    )
    write(
        root,
        "impressions",
        D1,
        [
            imp("I1", local(D1, 10)),
            imp("I2", local(D1, 10, 5), campaign="C1", scene="recommend"),
            imp("I3", local(D1, 11), scene="activity"),
            imp("I3", local(D1, 11), scene="activity"),
            imp("I4", local(D1, 12), scene="search"),
            imp("I4", local(D1, 12), scene="recommend"),
            imp("I5", local(D1, 12), user=None),
            imp("I6", local(D1, 12), scene="home"),
            imp("I7", local(D1, 12), is_paid=True),
            imp("I8", local(D1, 12), product="P-X"),
            imp("I9", local(D1, 12), campaign="C-X"),
            imp("I10", local(D1 + dt.timedelta(days=1), 1)),
            imp("I11", local(D1 - dt.timedelta(days=3), 12)),
            imp("I12", local(D1 - dt.timedelta(days=1), 23, 59, 59, 999999)),
            imp("I13", local(D1 - dt.timedelta(days=2), 0, 0, 0)),
            imp("I14", local(D1, 12), user=None, scene="home"),
        ],
    )
    write(
        root,
        "clicks",
        D1,
        [
            clk(
                "K1",
                local(D1 - dt.timedelta(days=1), 23, 59, 59, 999999),
                campaign="C1",
                cost="1.50",
            ),
            clk("K2", local(D1, 0, 0, 0), campaign="C1", cost="2.25"),
            clk("K3", local(D1, 8), campaign="C1", scene="recommend", cost="3.00", invalid=True),
            clk("K4", local(D1, 8), user="u2", cost="0.50"),
            clk("K5", local(D1, 8), campaign="C1", cost="-1.00"),
            clk("K-A", local(D1, 9), user="u3", campaign="C1", cost="1.00"),
            clk("K-B", local(D1, 9), user="u3", scene="recommend"),
        ],
    )
    write(
        root,
        "purchases",
        D1,
        [
            buy("O1", local(D1, 11), "u3", "P1", 2, "100.00"),
            buy("O2", local(D1, 12, 0, 0, 1), "u9", "P2", 1, "20.00"),
            buy("O3", local(D1, 9), "u8", "P2", 1, "20.00"),
            buy("O4", local(D1, 1), "u1", "P1", 1, "50.00"),
            buy("O5", local(D1, 2), "u1", "P1", 0, "50.00"),
            buy("O6", local(D1, 2), "u1", "P1", 1, "0.00"),
        ],
    )
    write(
        root,
        "saves",
        D1,
        [
            dict(
                event_id="S1",
                event_time=local(D1, 10),
                user_id="u1",
                product_id="P1",
                save_type="favorite",
            ),
            dict(
                event_id="S2",
                event_time=local(D1, 10),
                user_id="u1",
                product_id="P1",
                save_type="cart",
            ),
            dict(
                event_id="S3",
                event_time=local(D1, 10),
                user_id="u1",
                product_id="P1",
                save_type="wishlist",
            ),
        ],
    )
    write(
        root,
        "impressions",
        D2,
        [
            imp("I1", local(D1, 10)),  # identical redelivery
            imp("I2", local(D1, 10, 5), campaign="C1", scene="search"),  # conflicting redelivery
            imp("I15", local(D2 - dt.timedelta(days=3), 12)),  # 3 days late
            imp("I16", local(D2 - dt.timedelta(days=2), 12)),  # 2 days late
        ],
    )
    write(root, "purchases", D2, [buy("O4", local(D1, 1), "u1", "P1", 1, "50.00")])
    layout = Layout(root)
    clean_dates(spark, layout, [CLICK_8D, CLICK_7D])
    clean_dates(spark, layout, [D0, D1, D2])
    build_date(spark, layout, D2, first=CLICK_8D)
    return root


def q(root, sql):
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    return con.sql(
        sql.replace("$C", f"{root}/curated").replace("$Q", f"{root}/quarantine")
    ).fetchall()


def test_reconciliation_holds_per_table_and_date(processed):
    rows = {
        (t, str(d)): (i, a, du, qu)
        for t, d, i, a, du, qu in q(
            processed,
            """
        select table_name, ingest_date, rows_in, accepted, duplicates, quarantined
        from read_parquet('$C/dq_ingest_reconciliation/*/*.parquet', hive_partitioning = true)""",
        )
    }
    assert rows[("impressions", "2024-07-10")] == (16, 5, 1, 10)
    assert rows[("clicks", "2024-07-10")] == (7, 5, 0, 2)
    assert rows[("purchases", "2024-07-10")] == (6, 4, 0, 2)
    assert rows[("saves", "2024-07-10")] == (3, 2, 0, 1)
    assert rows[("impressions", "2024-07-11")] == (4, 1, 1, 2)
    assert rows[("purchases", "2024-07-11")] == (1, 0, 1, 0)
    assert rows[("clicks", "2024-07-11")] == (0, 0, 0, 0)  # no partition: a day without events
    for i, a, du, qu in rows.values():
        assert i == a + du + qu


def test_every_reason_in_the_contract_order(processed):
    reasons = dict(
        q(
            processed,
            """select event_id, reason from read_parquet('$Q/impressions/*/*.parquet',
                hive_partitioning = true)
                                   where ingest_date = '2024-07-10'""",
        )
    )
    assert reasons == {
        "I4": "conflicting_duplicate",
        "I5": "missing_required",
        "I6": "bad_enum",
        "I7": "paid_flag_mismatch",
        "I8": "unknown_product",
        "I9": "unknown_campaign",
        "I10": "future_event",
        "I11": "too_late",
        "I14": "missing_required",
    }
    assert (
        q(
            processed,
            "select count(*) from read_parquet('$Q/impressions/ingest_date=2024-07-10/*.parquet') "
            "where event_id = 'I4'",
        )[0][0]
        == 2
    )
    clicks = dict(
        q(processed, "select event_id, reason from read_parquet('$Q/clicks/*/*.parquet')")
    )
    assert clicks == {"K4": "natural_click_cost", "K5": "negative_amount"}
    orders = dict(
        q(processed, "select order_id, reason from read_parquet('$Q/purchases/*/*.parquet')")
    )
    assert orders == {"O5": "bad_quantity", "O6": "negative_amount"}
    later = dict(
        q(
            processed,
            "select event_id, reason from "
            "read_parquet('$Q/impressions/ingest_date=2024-07-11/*.parquet')",
        )
    )
    assert later == {"I2": "conflicting_duplicate", "I15": "too_late"}


def test_quarantined_rows_are_kept_unchanged(processed):
    ((user, scene, paid),) = q(
        processed,
        "select user_id, scene, is_paid from read_parquet('$Q/impressions/*/*.parquet', "
        "hive_partitioning = true) where event_id = 'I6'",
    )
    assert (user, scene, paid) == ("u1", "home", False)
    # the contract's columns and the reason, nothing else
    for table in (
        "impressions",
        "clicks",
        "purchases",
        "saves",
    ):
        files = sorted(
            (processed / "quarantine" / table / "ingest_date=2024-07-10").glob("*.parquet")
        )
        assert pq.read_schema(files[0]).names == [*SCHEMAS[table].names, "reason"], table


def test_business_dates_are_local_and_late_rows_land_on_them(processed):
    dates = dict(
        q(
            processed,
            """select event_id, business_date from
                read_parquet('$C/accepted/impressions/*/*/*.parquet', hive_partitioning = true)""",
        )
    )
    assert (
        str(dates["I12"]) == "2024-07-09"
        and str(dates["I13"]) == "2024-07-08"
        and str(dates["I16"]) == "2024-07-09"
    )
    clicks = dict(
        q(
            processed,
            "select event_id, business_date from read_parquet('$C/accepted/clicks/*/*/*.parquet', "
            "hive_partitioning = true)",
        )
    )
    assert str(clicks["K1"]) == "2024-07-09" and str(clicks["K2"]) == "2024-07-10"


def test_attribution(processed):
    got = {
        r[0]: r[1:]
        for r in q(
            processed,
            """select order_id, attributed_click_id, attributed_campaign_id, attributed_scene,
                is_paid_attributed
                                                 from
                                                     read_parquet('$C/attributed_purchases/*/*.parquet')""",
        )
    }
    # tie at the same instant: larger event_id
    assert got["O1"] == (
        "K-B",
        None,
        "recommend",
        False,
    )
    assert got["O2"] == (None, None, "direct", False)  # only click 168 h + 1 µs before
    assert got["O3"] == ("K-7D", None, "activity", False)  # exactly 168 h before: inside
    assert got["O4"] == ("K2", "C1", "search", True)  # 00:00:00 beats 23:59:59.999999
    assert set(got) == {"O1", "O2", "O3", "O4"}


def test_daily_product_facts(processed):
    row = q(
        processed,
        """select impressions, paid_impressions, clicks, paid_clicks, invalid_clicks, favorites,
            carts,
                                 orders, units, gmv, spend, paid_attributed_orders,
                                     paid_attributed_gmv, merchant_id, category
                          from read_parquet('$C/fct_product_daily/*/*.parquet', hive_partitioning
                              = true)
                          where product_id = 'P1' and business_date = '2024-07-10'""",
    )
    assert row == [
        (
            3,
            1,
            3,
            2,
            1,
            1,
            1,
            2,
            3,
            Decimal("150.00"),
            Decimal("3.25"),
            1,
            Decimal("50.00"),
            "M1",
            "toys",
        )
    ]
    prev = q(
        processed,
        """select impressions, clicks, spend from read_parquet('$C/fct_product_daily/*/*.parquet',
            hive_partitioning = true)
                           where product_id = 'P1' and business_date = '2024-07-09'""",
    )
    assert prev == [(2, 1, Decimal("1.50"))]


def test_traffic_by_scene(processed):
    rows = {
        (r[0], r[1]): r[2:]
        for r in q(
            processed,
            """
        select scene, is_paid, impressions, clicks, invalid_clicks, spend, attributed_orders,
            attributed_gmv
        from read_parquet('$C/fct_product_traffic_daily/*/*.parquet', hive_partitioning = true)
        where product_id = 'P1' and business_date = '2024-07-10'""",
        )
    }
    assert rows[("search", True)] == (0, 2, 0, Decimal("3.25"), 1, Decimal("50.00"))
    assert rows[("recommend", True)] == (1, 0, 1, Decimal("0.00"), 0, Decimal("0.00"))
    assert rows[("recommend", False)] == (0, 1, 0, Decimal("0.00"), 1, Decimal("100.00"))
    p2 = {
        (r[0], r[1]): r[2:]
        for r in q(
            processed,
            """select scene, is_paid, attributed_orders, attributed_gmv
        from read_parquet('$C/fct_product_traffic_daily/*/*.parquet', hive_partitioning = true)
        where product_id = 'P2' and business_date = '2024-07-10'""",
        )
    }
    assert p2 == {
        ("direct", False): (1, Decimal("20.00")),
        ("activity", False): (1, Decimal("20.00")),
    }


def test_segments_split_at_change_times(processed):
    rows = q(
        processed,
        """select business_date, segment_start, paid_clicks, invalid_clicks, spend
                           from read_parquet('$C/fct_campaign_segment_daily/*/*.parquet',
                               hive_partitioning = true)
                           order by 1""",
    )
    start = local(D0, 10)
    assert [(str(d), s, c, i, m) for d, s, c, i, m in rows] == [
        ("2024-07-09", start, 1, 0, Decimal("1.50")),
        ("2024-07-10", start, 2, 1, Decimal("3.25")),
    ]


def test_lifecycle_rows_for_every_listed_product_and_date(processed):
    # Spark writes the features; the stage and is_final are dbt's (int_product_lifecycle_daily).
    rows = q(
        processed,
        """select product_id, business_date, orders_7d, gmv_7d, cum_orders
                           from read_parquet('$C/product_lifecycle_daily/*/*.parquet',
                               hive_partitioning = true)
                           where business_date = '2024-07-11' order by 1""",
    )
    assert [(p, o, g, c) for p, _, o, g, c in rows] == [
        ("P1", 2, Decimal("150.00"), 2),
        ("P2", 2, Decimal("40.00"), 2),
    ]
