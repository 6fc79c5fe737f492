"""Every number the generator's economics are drawn from, in one place (docs/generator.md
says where each range comes from). Money in CNY, rates as fractions.

The data-quality numbers (late rows, redeliveries, quarantine reasons) are not here: they
are the landing zone's (scales.DirtRates).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Category:
    name: str
    price: float  # median list price of a product (CNY)
    cpc: float  # median cost of a paid click in search (CNY)
    ctr: float  # clicks per impression, all scenes averaged, a steady product
    cvr: float  # purchases per valid click, all scenes averaged, a steady product
    demand: float  # relative share of the marketplace's traffic
    standard: bool  # standard (branded, comparable) goods; False: apparel, handmade, …


# The first `categories` rows are a scale's categories (small: the first 12, tiny: 4), so
# every scale holds cheap and dear categories. Prices: what a typical listing costs in the
# category; CPC rises with the price (a click on a phone is worth more to its seller than one
# on a snack), conversion falls with it.
# A table, one category per row, in the fields' order:
#         name, price, cpc, ctr, cvr, demand, standard
CATEGORIES = (
    Category("apparel", 129, 2.20, 0.040, 0.025, 1.6, False),
    Category("electronics", 399, 4.40, 0.033, 0.015, 1.0, True),
    Category("food", 39, 1.10, 0.045, 0.050, 1.4, True),
    Category("furniture", 899, 5.20, 0.027, 0.010, 0.5, False),
    Category("beauty", 119, 2.80, 0.041, 0.032, 1.3, True),
    Category("home", 69, 1.60, 0.037, 0.030, 1.1, True),
    Category("books", 35, 0.80, 0.037, 0.045, 0.6, True),
    Category("shoes", 199, 2.60, 0.036, 0.022, 0.9, False),
    Category("toys", 79, 1.80, 0.039, 0.028, 0.7, True),
    Category("sports", 159, 2.40, 0.035, 0.022, 0.7, True),
    Category("jewelry", 299, 3.80, 0.027, 0.012, 0.4, False),
    Category("pets", 59, 1.50, 0.040, 0.040, 0.6, True),
    Category("baby", 99, 2.50, 0.037, 0.035, 0.6, True),
    Category("auto", 149, 3.00, 0.031, 0.020, 0.4, True),
    Category("garden", 59, 1.40, 0.035, 0.028, 0.4, False),
    Category("office", 39, 1.20, 0.035, 0.035, 0.4, True),
    Category("crafts", 49, 1.20, 0.033, 0.025, 0.3, False),
    Category("music", 249, 3.20, 0.030, 0.016, 0.2, True),
    Category("outdoor", 199, 2.60, 0.033, 0.020, 0.4, True),
    Category("kitchen", 89, 2.00, 0.037, 0.030, 0.6, True),
    Category("health", 99, 2.80, 0.037, 0.032, 0.6, True),
    Category("luggage", 259, 3.20, 0.030, 0.016, 0.3, False),
    Category("watches", 499, 4.80, 0.027, 0.012, 0.3, True),
    Category("phones", 1999, 7.60, 0.031, 0.010, 0.6, True),
    Category("computers", 3999, 9.00, 0.027, 0.008, 0.4, True),
    Category("cameras", 2499, 7.00, 0.025, 0.008, 0.2, True),
    Category("bedding", 199, 2.40, 0.035, 0.022, 0.4, False),
    Category("lighting", 129, 2.00, 0.033, 0.022, 0.3, True),
    Category("tools", 99, 2.00, 0.033, 0.026, 0.3, True),
    Category("snacks", 29, 1.00, 0.048, 0.055, 0.8, True),
)
CATEGORY_NAMES = np.array([c.name for c in CATEGORIES])
PRICE_SPREAD = 0.55  # σ of log price within a category (a median 129 → middle 80 %: 63 … 260)
PRODUCT_RATE_SPREAD = 0.30  # σ of log CTR / CVR / save rate between products of a category
CPC_PRODUCT_SPREAD = 0.25  # σ of log CPC between products (keyword competition)
CPC_CLICK_SPREAD = 0.30  # σ of log CPC between clicks of one product (second-price auctions)
# σ of log demand between products: a few bestsellers, a long tail of listings
POPULARITY_SPREAD = 1.0
PRICE_ELASTICITY = 0.30  # within a category, CVR ∝ (price / median)^-0.3: dearer converts less

# Scenes: where a slot is, in the contract's order (search, recommend, activity).
SCENE_SHARE_NATURAL = (0.40, 0.45, 0.15)
SCENE_SHARE_PAID = (0.45, 0.40, 0.15)
SCENE_CTR = (1.30, 0.75, 1.10)  # search has intent; the feed is browsing
SCENE_CPC = (1.00, 0.60, 0.80)  # feed clicks are cheap, search clicks dear
SCENE_CVR = (1.20, 0.80, 1.10)
PAID_CTR_LIFT = 1.10  # a paid slot is targeted at likely buyers

# Lifecycle (the generator's trajectories; the warehouse derives its own stages from
# orders): multipliers of CTR and CVR.
STAGE_NAMES = ("cold_start", "steady", "growth", "burst", "decline")
STAGE_CTR = (0.90, 1.00, 1.05, 1.15, 0.90)
STAGE_CVR = (0.70, 1.00, 1.10, 1.25, 0.85)
COLD_START_DAYS = 14  # a new listing is cold for its first two weeks

SAVE_RATE = 0.08  # saves per valid click (cart 55 %, favourite 45 %)
CART_SHARE = 0.55
QUANTITIES, QUANTITY_P = (1, 2, 3), (0.85, 0.11, 0.04)
# purchases with no click in the logs (cart, live rooms), per click-purchase
DIRECT_PURCHASE_SHARE = 0.25

# Merchants: (tier share, median size, σ of log size). Size scales a merchant's catalogue
# and the traffic its campaigns can buy; brands are few and large, SMEs a long tail.
TIERS = {"brand": (0.10, 8.0, 0.8), "high_potential": (0.25, 2.0, 0.8), "sme": (0.65, 0.5, 1.0)}
# The key accounts of each tier, as multiples of the tier's median size: they carry a tier's
# spend into its upper rebate brackets (docs/generator.md, "Merchants").
KEY_ACCOUNTS = (10.0, 5.0, 2.5)
CATALOGUE_EXPONENT = 0.6  # products per merchant ∝ size^0.6
TIER_PRICE_LEVEL = {"brand": 1.5, "high_potential": 1.1, "sme": 0.9}  # brands sell dearer versions

# Paid traffic.
PAID_SHARE = 0.40  # of all impression slots on offer to campaigns
# merchants who ever run a campaign
ADVERTISER_SHARE = {
    "brand": 0.8,
    "high_potential": 0.5,
    "sme": 0.25,
}
# of an advertiser's products under a campaign …
LIVE_SHARE = {
    "brand": 0.035,
    "high_potential": 0.035,
    "sme": 0.035,
}
# … × (the product's orders per day ÷ the median product's)^0.7, within 0.2 … 4
PROMOTE_SELLERS_EXPONENT = 0.7
# … × (size ÷ the tier's median)^0.5, at most × 3: bigger merchants promote more
LIVE_SIZE_EXPONENT = 0.5
# A campaign's budget weight: merchant size^0.3 × product demand^0.3 × (CPC ÷ CVR, what a
# paid order costs in clicks)^0.5, so that a week's campaign sells about as often in a dear
# category as in a cheap one (traffic.budget_weight).
BUDGET_SIZE_EXPONENT = 0.3
BUDGET_DEMAND_EXPONENT = 0.3
BUDGET_ORDER_COST_EXPONENT = 0.5
# × lognormal(log 0.85, 0.35) of the traffic on offer: about 40 % of campaign-days bind
BUDGET_HEADROOM = (
    0.85,
    0.35,
)
MIN_DAILY_BUDGET = 30  # CNY: the smallest daily budget the product accepts …
MIN_WEEKLY_ORDERS = 4  # … and at least what this many paid orders a week cost
AUCTION_SPREAD = 0.35  # σ of log traffic a campaign wins on a day
NATURAL_LIFT = {"recommended": 0.40, "custom": 0.20}  # natural traffic while a campaign runs
ROI_CHOICE_P = (0.25, 0.30, 0.20, 0.25)  # tier_1, tier_2, tier_3, custom
ROI_TIER_FACTORS = (0.8, 1.0, 1.2)  # the platform's recommendation = baseline × factor (rules.md)
ROI_ESTIMATE_SPREAD = 0.15  # how far the platform's baseline sits from a product's own ROI
# a lower target bids higher: CPC and traffic × (expected / target)^0.5, bounded
BID_ELASTICITY = 0.5

# Derived from the rows above, not parameters: each traffic kind's averages over its scene
# mix (a click's CTR; per click its CPC and CVR), and an order's mean quantity. The events,
# the campaign book and the products' expected ROI all use these, so they agree.
# of all events, before dirt: a day lands as many rows per scale as before calibration
IMPRESSION_SHARE = 0.943
QTY_MEAN = float(np.dot(QUANTITIES, QUANTITY_P))


def _per_click(share: tuple, factor: tuple) -> float:
    clicks = np.array(share) * np.array(SCENE_CTR)
    return float(np.dot(clicks, factor) / clicks.sum())


PAID_CTR = float(np.dot(SCENE_SHARE_PAID, SCENE_CTR)) * PAID_CTR_LIFT
NATURAL_CTR = float(np.dot(SCENE_SHARE_NATURAL, SCENE_CTR))
PAID_CPC = _per_click(SCENE_SHARE_PAID, SCENE_CPC)
PAID_CVR = _per_click(SCENE_SHARE_PAID, SCENE_CVR)
NATURAL_CVR = _per_click(SCENE_SHARE_NATURAL, SCENE_CVR)

# What good looks like: the ranges a large Chinese marketplace's public figures give (issue
# 39; docs/generator.md), which the demo's published warehouse is tested against
# (tests/integration/test_demo_calibration.py) and the raw data of a few days too
# (tests/unit/test_generator.py).
EXPECTED = {
    "median_cpc": (0.3, 5.0),  # CNY per valid paid click
    "median_order_amount": (60.0, 300.0),  # CNY per order
    "ctr": (0.01, 0.06),  # clicks per impression
    "cvr": (0.01, 0.06),  # orders per valid click
    "compensated_share_max": 0.5,  # of final windows: a minority
    "zero_gmv_share_max": 0.05,  # of final windows: the exception
    # of paid campaign-days, spending ≥ 90 % of the budget: some, not all
    "budget_bound_share": (0.2, 0.8),
}
CHEAP_CATEGORIES = ("food", "books")  # every one of these has a lower median price …
DEAR_CATEGORIES = ("electronics", "furniture")  # … than every one of these
