"""The static world: merchants, products, their economics and how each product's demand
evolves. Every range comes from calibration.py (docs/generator.md)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from fullsite.generator import calibration as cal
from fullsite.generator.scales import Scale
from fullsite.generator.timeutil import day_number

TIER_NAMES = np.array(list(cal.TIERS))
CATEGORY_NAMES = cal.CATEGORY_NAMES
TRAJECTORIES = np.array(["steady", "growth", "burst", "decline"])


@dataclass
class World:
    start: dt.date
    days: int
    # merchants
    merchant_ids: np.ndarray
    merchant_names: np.ndarray
    merchant_tier: np.ndarray  # tier index on day 0
    tier_change_day: np.ndarray  # -1 = never
    tier_after_change: np.ndarray
    registered_day: np.ndarray  # day numbers
    plan_quota: np.ndarray
    merchant_size: np.ndarray  # relative: catalogue and the traffic its campaigns can buy
    advertiser: np.ndarray  # runs campaigns at all
    # products
    product_ids: np.ndarray
    product_merchant: np.ndarray
    category: np.ndarray
    is_standard: np.ndarray
    listed_day: np.ndarray  # day numbers
    price_cents: np.ndarray
    popularity: np.ndarray
    ctr: np.ndarray  # steady-state, all scenes averaged
    cvr: np.ndarray  # purchases per valid click, steady-state, all scenes averaged
    save_rate: np.ndarray
    cpc: np.ndarray  # CNY, a search click
    trajectory: np.ndarray
    burst_day: np.ndarray  # run-day index of a burst
    money: float = 1.0  # the scale's money multiplier (scales.Scale)
    campaign_density: float = 1.0  # the scale's campaign multiplier

    def merchant_tier_on(self, k: int) -> np.ndarray:
        changed = (self.tier_change_day >= 0) & (k >= self.tier_change_day)
        return np.where(changed, self.tier_after_change, self.merchant_tier)

    def listed_mask(self, day_no: int) -> np.ndarray:
        return self.listed_day <= day_no

    def demand_multiplier(self, k: int, day_no: int) -> np.ndarray:
        """How a product's demand on run-day ``k`` compares to its base popularity."""
        m = np.ones(len(self.product_ids))
        traj = self.trajectory
        m = np.where(traj == 1, 1.05 ** min(k, 24), m)  # growth: a steady ramp
        in_burst = (k >= self.burst_day) & (k < self.burst_day + 9)
        m = np.where((traj == 2) & in_burst, 5.0, m)
        m = np.where((traj == 2) & (k >= self.burst_day + 9), 1.8, m)
        m = np.where(traj == 3, 0.96**k, m)  # decline
        age = day_no - self.listed_day
        ramp = np.clip(0.1 + 0.06 * age, 0.1, 1.0)  # new listings start slowly
        return m * ramp * (self.listed_day <= day_no)

    def stage(self, k: int, day_no: int) -> np.ndarray:
        """Each product's lifecycle stage on run-day ``k`` (an index into cal.STAGE_NAMES)."""
        in_burst = (self.trajectory == 2) & (k >= self.burst_day) & (k < self.burst_day + 9)
        stage = np.select([self.trajectory == 1, in_burst, self.trajectory == 3], [2, 3, 4], 1)
        return np.where(day_no - self.listed_day < cal.COLD_START_DAYS, 0, stage)

    def paid_roi(self) -> np.ndarray:
        """What a paid click on each product returns on average: CVR × order value ÷ CPC, over
        the paid scene mix (the merchant's and the platform's estimate of its ROI)."""
        return (
            self.cvr
            * cal.PAID_CVR
            * self.price_cents
            / 100
            * cal.QTY_MEAN
            / (self.cpc * cal.PAID_CPC)
        )


def _sizes(rng, tier: np.ndarray) -> np.ndarray:
    names = list(cal.TIERS)
    median = np.array([cal.TIERS[n][1] for n in names])[tier]
    sigma = np.array([cal.TIERS[n][2] for n in names])[tier]
    size = median * rng.lognormal(0.0, sigma)
    for t in range(len(names)):  # the key accounts: the first merchants of each tier
        members = np.flatnonzero(tier == t)
        for rank, multiple in enumerate(cal.KEY_ACCOUNTS[: max(0, len(members) - 1)]):
            size[members[rank]] = cal.TIERS[names[t]][1] * multiple
    return size


def build_world(scale: Scale, seed: int, start: dt.date, days: int) -> World:
    rng = np.random.default_rng([seed, 0])
    start_no = day_number(start)
    # The draws are made in one fixed order (merchants, catalogues, economics): the same
    # seed gives the same world.
    merchants = _merchants(rng, scale.merchants, start_no, days)
    catalogue = _catalogue(rng, scale, merchants, start_no, days)
    economics = _economics(rng, scale, merchants, catalogue, days)
    n_m, n_p = scale.merchants, scale.products
    return World(
        start=start,
        days=days,
        merchant_ids=np.array([f"M{i + 1:05d}" for i in range(n_m)]),
        merchant_names=np.array([f"Merchant {i + 1:05d}" for i in range(n_m)]),
        product_ids=np.array([f"P{i + 1:06d}" for i in range(n_p)]),
        **merchants,
        **catalogue,
        **economics,
        money=scale.money,
        campaign_density=scale.campaign_density,
    )


def _merchants(rng, n_m: int, start_no: int, days: int) -> dict[str, np.ndarray]:
    names = list(cal.TIERS)
    # Tiers in fixed proportions (at least one of each), shuffled.
    counts = [max(1, round(cal.TIERS[n][0] * n_m)) for n in names[:2]]
    counts.append(n_m - sum(counts))
    tier = rng.permutation(np.repeat(np.arange(3), counts))
    # A few merchants change tier during the run (rebates use the tier at month end).
    tier_change_day = np.where(rng.random(n_m) < 0.08, rng.integers(1, max(2, days), n_m), -1)
    tier_after = (tier + rng.integers(1, 3, n_m)) % 3
    registered = start_no - rng.integers(30, 1500, n_m)
    quota = np.where(rng.random(n_m) < 0.1, 500, 200).astype(np.int32)
    size = _sizes(rng, tier)
    advertiser = rng.random(n_m) < np.array([cal.ADVERTISER_SHARE[n] for n in names])[tier]
    for t in range(len(names)):  # the key accounts advertise
        advertiser[np.flatnonzero(tier == t)[: len(cal.KEY_ACCOUNTS)]] = True
    return {
        "merchant_tier": tier,
        "tier_change_day": tier_change_day,
        "tier_after_change": tier_after,
        "registered_day": registered,
        "plan_quota": quota,
        "merchant_size": size,
        "advertiser": advertiser,
    }


def _catalogue(rng, scale: Scale, merchants: dict, start_no: int, days: int) -> dict:
    """Catalogues: every merchant has a product, the rest in proportion to size^0.6; each
    merchant sells mostly in one category (80 % of its products)."""
    n_m, n_p = scale.merchants, scale.products
    catalogue = merchants["merchant_size"] ** cal.CATALOGUE_EXPONENT
    product_merchant = rng.choice(n_m, size=n_p, p=catalogue / catalogue.sum())
    product_merchant[:n_m] = np.arange(n_m)
    product_merchant = np.sort(product_merchant)
    cats = _categories(scale)
    demand = np.array([c.demand for c in cats])
    home_category = rng.choice(len(cats), size=n_m, p=demand / demand.sum())
    in_home = rng.random(n_p) < 0.8
    elsewhere = rng.choice(len(cats), size=n_p, p=demand / demand.sum())
    category = np.where(in_home, home_category[product_merchant], elsewhere)
    new_listing = rng.random(n_p) < 0.15
    listed_new = start_no + rng.integers(0, max(1, days - 3), n_p)
    listed_before = start_no - rng.integers(1, 240, n_p)
    return {
        "product_merchant": product_merchant,
        "category": category,
        "is_standard": np.array([c.standard for c in cats])[category],
        "listed_day": np.where(new_listing, listed_new, listed_before),
    }


def _categories(scale: Scale) -> tuple:
    return cal.CATEGORIES[: min(scale.categories, len(cal.CATEGORIES))]


def _economics(rng, scale: Scale, merchants: dict, catalogue: dict, days: int) -> dict:
    """Prices, rates and demand per product, from its category, its merchant and its own
    draw; and how its demand evolves over the run."""
    n_p, money = scale.products, scale.money
    cats, category = _categories(scale), catalogue["category"]
    merchant = catalogue["product_merchant"]
    names = list(cal.TIERS)
    level = np.array([cal.TIER_PRICE_LEVEL[n] for n in names])[merchants["merchant_tier"][merchant]]
    relative = level * rng.lognormal(0.0, cal.PRICE_SPREAD, n_p)  # price ÷ the category's median
    price = np.array([c.price for c in cats])[category] * relative

    def spread(base):
        return base * rng.lognormal(0.0, cal.PRODUCT_RATE_SPREAD, n_p)

    ctr = np.clip(spread(np.array([c.ctr for c in cats])[category]), 0.003, 0.15)
    cvr_base = spread(np.array([c.cvr for c in cats])[category])
    save_rate = np.clip(spread(np.full(n_p, cal.SAVE_RATE)), 0.005, 0.4)
    cpc_spread = rng.lognormal(0.0, cal.CPC_PRODUCT_SPREAD, n_p)
    # Demand: the category's share of traffic, the merchant's reach, the product's own pull.
    pull = rng.lognormal(0.0, cal.POPULARITY_SPREAD, n_p)
    demand = np.array([c.demand for c in cats])[category]
    return {
        "price_cents": np.maximum(100, np.round(price * money * 100)).astype(np.int64),
        "ctr": ctr,
        "cvr": np.clip(cvr_base * relative**-cal.PRICE_ELASTICITY, 0.001, 0.25),
        "save_rate": save_rate,
        "cpc": np.array([c.cpc for c in cats])[category] * money * cpc_spread,
        "popularity": demand * merchants["merchant_size"][merchant] ** 0.3 * pull * relative**-0.5,
        "trajectory": rng.choice(4, size=n_p, p=[0.45, 0.2, 0.2, 0.15]),
        "burst_day": rng.integers(0, max(1, days - 5), n_p),
    }
