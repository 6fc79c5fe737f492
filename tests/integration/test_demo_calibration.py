"""What good looks like (issue 39): the demo's published figures fall inside the ranges
docs/generator.md documents (fullsite/generator/calibration.py EXPECTED).

Night: the demo itself — its data set (small, 30 days from 2024-07-05, seed 7) generated
and backfilled here, as `make demo` does. Slow: a 30-night backfill (test-slow, CI)."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from fullsite.generator.calibration import CHEAP_CATEGORIES, DEAR_CATEGORIES, EXPECTED
from fullsite.generator.run import generate
from orchestration.cli import DEMO_DAYS, DEMO_START
from tests.runs import night

pytestmark = pytest.mark.slow

# the bracket a merchant's month reaches
BRACKETS = "max(min_base) filter (where min_base <= spend)"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo") / "root"
    generate(root, DEMO_START, DEMO_DAYS, "small", seed=7)
    night(root, DEMO_START, DEMO_START + dt.timedelta(days=DEMO_DAYS - 1))
    con = duckdb.connect(str(root / "warehouse.duckdb"), read_only=True)
    yield con
    con.close()


def _within(name: str, value) -> None:
    low, high = EXPECTED[name]
    assert low <= float(value) <= high, (name, value)


def test_clicks_orders_and_prices_are_a_marketplaces(demo):
    (cpc,) = demo.execute("""select median(spend / (clicks - invalid_clicks)) from (
                               select spend, clicks, invalid_clicks, unnest(range((clicks -
                                   invalid_clicks)::int))
                               from marts.fct_product_traffic_daily where is_paid and clicks >
                                   invalid_clicks)""").fetchone()
    _within("median_cpc", cpc)  # per valid paid click: each product-day's average, once per click
    (order,) = demo.execute("""select median(gmv / orders) from (
                                 select gmv, orders, unnest(range(orders::int)) from
                                     marts.fct_product_daily
                                 where orders > 0)""").fetchone()
    _within("median_order_amount", order)
    ctr, cvr = demo.execute("""select sum(clicks) / sum(impressions), sum(orders) / sum(clicks -
                         invalid_clicks)
                               from marts.fct_product_daily""").fetchone()
    _within("ctr", ctr)
    _within("cvr", cvr)
    price = dict(
        demo.execute("select category, median(price) from marts.dim_product group by 1").fetchall()
    )
    assert max(price[c] for c in CHEAP_CATEGORIES) < min(price[c] for c in DEAR_CATEGORIES), price


def test_each_tier_spreads_over_more_than_one_rebate_bracket(demo):
    reached = dict(
        demo.execute(f"""
        with rates as (select distinct merchant_tier, min_base from params.rebate_rates),
        months as (select r.merchant_tier, r.merchant_id, r.spend, {BRACKETS} as bracket
                   from finance.merchant_rebates_monthly r join rates using (merchant_tier)
                   where r.status = 'final' group by all)
        select merchant_tier, count(distinct bracket) from months group by 1""").fetchall()
    )
    assert set(reached) == {"brand", "high_potential", "sme"} and min(reached.values()) >= 2, (
        reached
    )


def test_compensation_is_the_minority_and_a_window_without_sales_the_exception(demo):
    final, compensated = (
        demo.execute("""select count(*), count(*) filter (where compensation_amount > 0)
                                         from finance.compensation_claims where status =
                                             'final'""").fetchone()
    )
    assert final and compensated and compensated / final < EXPECTED["compensated_share_max"]
    windows, unsold = (
        demo.execute("""select count(*), count(*) filter (where gmv = 0) from marts.campaign_roi_7d
                                      where status = 'final'""").fetchone()
    )
    assert unsold / windows <= EXPECTED["zero_gmv_share_max"], (unsold, windows)


def test_some_products_are_tagged(demo):
    (tagged,) = demo.execute("""select count(distinct product_id) from marts.product_tags_daily
                              where platform_recommended or search_bestseller""").fetchone()
    assert tagged > 0
