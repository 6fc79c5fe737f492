"""The static world: merchants, products and how each product's demand evolves."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from fullsite.generator.scales import Scale

TIER_NAMES = np.array(["brand", "high_potential", "sme"])
TIER_SHARES = (0.15, 0.25, 0.60)
CATEGORY_NAMES = np.array([
    "apparel", "electronics", "beauty", "home", "food", "toys", "sports", "books", "shoes",
    "jewelry", "furniture", "pets", "baby", "auto", "garden", "office", "crafts", "music",
    "outdoor", "kitchen", "health", "luggage", "watches", "phones", "computers", "cameras",
    "bedding", "lighting", "tools", "snacks",
])
# Non-standard goods: apparel, handmade, shoes, ... Standard: branded, comparable goods.
NON_STANDARD = {"apparel", "shoes", "jewelry", "crafts", "furniture", "bedding", "garden", "luggage"}
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
    # products
    product_ids: np.ndarray
    product_merchant: np.ndarray
    category: np.ndarray
    is_standard: np.ndarray
    listed_day: np.ndarray  # day numbers
    price_cents: np.ndarray
    popularity: np.ndarray
    ctr: np.ndarray
    cvr: np.ndarray
    trajectory: np.ndarray
    burst_day: np.ndarray  # run-day index of a burst
    natural_roi: np.ndarray  # what a campaign on this product typically returns

    def merchant_tier_on(self, k: int) -> np.ndarray:
        changed = (self.tier_change_day >= 0) & (k >= self.tier_change_day)
        return np.where(changed, self.tier_after_change, self.merchant_tier)

    def listed_mask(self, day_no: int) -> np.ndarray:
        return self.listed_day <= day_no

    def demand_multiplier(self, k: int, day_no: int) -> np.ndarray:
        """How a product's demand on run-day ``k`` compares to its base popularity."""
        m = np.ones(len(self.product_ids))
        traj = self.trajectory
        m = np.where(traj == 1, 1.07 ** min(k, 24), m)  # growth: a steady ramp
        in_burst = (k >= self.burst_day) & (k < self.burst_day + 9)
        m = np.where((traj == 2) & in_burst, 7.0, m)
        m = np.where((traj == 2) & (k >= self.burst_day + 9), 2.0, m)
        m = np.where(traj == 3, 0.96 ** k, m)  # decline
        age = day_no - self.listed_day
        ramp = np.clip(0.1 + 0.06 * age, 0.1, 1.0)  # new listings start slowly
        return m * ramp * (self.listed_day <= day_no)


def build_world(scale: Scale, seed: int, start: dt.date, days: int) -> World:
    rng = np.random.default_rng([seed, 0])
    from fullsite.generator.timeutil import day_number

    start_no = day_number(start)
    n_m, n_p = scale.merchants, scale.products

    # Tiers in fixed proportions (at least one of each), shuffled.
    counts = [max(1, round(s * n_m)) for s in TIER_SHARES[:2]]
    counts.append(n_m - sum(counts))
    tier = rng.permutation(np.repeat(np.arange(3), counts))
    # A few merchants change tier during the run (rebates use the tier at month end).
    tier_change_day = np.where(rng.random(n_m) < 0.08, rng.integers(1, max(2, days), n_m), -1)
    tier_after = (tier + rng.integers(1, 3, n_m)) % 3
    registered = start_no - rng.integers(30, 1500, n_m)
    quota = np.where(rng.random(n_m) < 0.1, 500, 200).astype(np.int32)
    # Merchants differ by orders of magnitude in ticket size: that spread is what makes
    # monthly spend reach every rebate bracket. Spread log-uniformly, brands a bit higher.
    price_level = np.exp(rng.uniform(np.log(15), np.log(2500), n_m)) * np.where(tier == 0, 2.0, 1.0)
    merchant_weight = rng.lognormal(0, 0.8, n_m) * np.where(tier == 0, 3.0, np.where(tier == 1, 1.5, 1.0))
    # A ladder of key accounts per tier (big tickets, big catalogues) so that the upper
    # rebate brackets (up to a million a month) are reached by every tier.
    total_weight = merchant_weight.sum()
    for t in range(3):
        members = np.flatnonzero(tier == t)
        for rank, (level, share) in enumerate(((4000.0, 0.08), (2000.0, 0.03), (1000.0, 0.012), (600.0, 0.006), (300.0, 0.003))):
            if rank < len(members):
                price_level[members[rank]], merchant_weight[members[rank]] = level, total_weight * share

    product_merchant = rng.choice(n_m, size=n_p, p=merchant_weight / merchant_weight.sum())
    product_merchant[:n_m] = np.arange(n_m)  # every merchant has a product
    product_merchant = np.sort(product_merchant)
    n_cat = min(scale.categories, len(CATEGORY_NAMES))
    category = rng.integers(0, n_cat, n_p)
    is_standard = np.array([CATEGORY_NAMES[c] not in NON_STANDARD for c in category])
    new_listing = rng.random(n_p) < 0.15
    listed = np.where(new_listing, start_no + rng.integers(0, max(1, days - 3), n_p),
                      start_no - rng.integers(1, 240, n_p))
    price = price_level[product_merchant] * rng.lognormal(0, 0.35, n_p)
    price_cents = np.maximum(100, np.round(price * 100)).astype(np.int64)
    popularity = rng.lognormal(0, 1.0, n_p) * np.where(tier[product_merchant] == 0, 2.0, 1.0)
    ctr = np.clip(rng.normal(0.05, 0.015, n_p), 0.01, 0.12)
    cvr = np.clip(rng.normal(0.10, 0.03, n_p), 0.02, 0.25)
    trajectory = rng.choice(4, size=n_p, p=[0.45, 0.2, 0.2, 0.15])
    burst_day = rng.integers(0, max(1, days - 5), n_p)
    natural_roi = np.clip(rng.lognormal(np.log(3.0), 0.4, n_p), 1.0, 12.0)

    return World(
        start=start, days=days,
        merchant_ids=np.array([f"M{i + 1:05d}" for i in range(n_m)]),
        merchant_names=np.array([f"Merchant {i + 1:05d}" for i in range(n_m)]),
        merchant_tier=tier, tier_change_day=tier_change_day, tier_after_change=tier_after,
        registered_day=registered, plan_quota=quota,
        product_ids=np.array([f"P{i + 1:06d}" for i in range(n_p)]),
        product_merchant=product_merchant, category=category, is_standard=is_standard,
        listed_day=listed, price_cents=price_cents, popularity=popularity, ctr=ctr, cvr=cvr,
        trajectory=trajectory, burst_day=burst_day, natural_roi=natural_roi,
    )
