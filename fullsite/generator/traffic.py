"""How traffic is shared out on a day (docs/generator.md, "Traffic"): natural impressions
by demand, paid slots by what each campaign can buy. The campaign book budgets against
the same model the day's events are drawn from."""

from __future__ import annotations

import numpy as np

from fullsite.generator import calibration as cal
from fullsite.generator.world import World


def impressions(events_per_day: int) -> int:
    return int(events_per_day * cal.IMPRESSION_SHARE)


def natural_lift(recommended: np.ndarray) -> np.ndarray:
    """A running campaign lifts its product's natural traffic, more when it follows the
    platform's recommended ROI (the launch article: "up to 40 % extra natural traffic")."""
    return 1.0 + np.where(recommended, cal.NATURAL_LIFT["recommended"], cal.NATURAL_LIFT["custom"])


def bid_factor(expected_roi: np.ndarray, target_roi: np.ndarray) -> np.ndarray:
    """A target below what the product returns bids higher (more traffic, dearer clicks)."""
    return np.clip((expected_roi / np.maximum(target_roi, 0.1)) ** cal.BID_ELASTICITY, 0.7, 1.5)


def budget_weight(
    world: World, products: np.ndarray, merchants: np.ndarray, k: int, day_no: int
) -> np.ndarray:
    """How much of the paid traffic a campaign's merchant budgets for, relative to others:
    bigger merchants and more popular products budget more, and so do products whose sale
    costs more clicks, so that a week's campaign sells about as often in every category
    (docs/generator.md, "Campaigns")."""
    demand = world.popularity[products] * world.demand_multiplier(k, day_no)[products]
    # dear goods need more clicks per sale
    cost_per_order = world.cpc[products] / world.cvr[products]
    return (
        world.merchant_size[merchants] ** cal.BUDGET_SIZE_EXPONENT
        * demand**cal.BUDGET_DEMAND_EXPONENT
        * cost_per_order**cal.BUDGET_ORDER_COST_EXPONENT
    )


def cost_per_slot(
    world: World, products: np.ndarray, bids: np.ndarray, k: int, day_no: int
) -> np.ndarray:
    """What one paid impression of each campaign costs on average (CNY): its CTR × its CPC."""
    stage = world.stage(k, day_no)[products]
    ctr = world.ctr[products] * np.array(cal.STAGE_CTR)[stage] * cal.PAID_CTR
    return ctr * world.cpc[products] * cal.PAID_CPC * bids


def expected_spend(
    world: World,
    events_per_day: int,
    weight: np.ndarray,
    bids: np.ndarray,
    products: np.ndarray,
    k: int,
    day_no: int,
) -> np.ndarray:
    """A campaign's spend on a full day if the paid slots were shared out by ``weight``."""
    if not len(weight):
        return np.zeros(0)
    slots = impressions(events_per_day) * cal.PAID_SHARE * weight / weight.sum()
    return slots * cost_per_slot(world, products, bids, k, day_no)


def natural_gmv(
    world: World, events_per_day: int, k: int, day_no: int, products: np.ndarray
) -> np.ndarray:
    """Expected natural GMV of ``products`` on a day (CNY): what the full-site target counts
    besides paid."""
    weight = world.popularity * world.demand_multiplier(k, day_no)
    total = weight.sum()
    if total <= 0:
        return np.zeros(len(products))
    stage = world.stage(k, day_no)[products]
    slots = impressions(events_per_day) * (1 - cal.PAID_SHARE) * weight[products] / total
    per_click = (
        world.cvr[products]
        * np.array(cal.STAGE_CVR)[stage]
        * cal.NATURAL_CVR
        * world.price_cents[products]
        / 100
        * cal.QTY_MEAN
    )
    clicks = slots * world.ctr[products] * np.array(cal.STAGE_CTR)[stage] * cal.NATURAL_CTR
    return clicks * per_click * (1 + cal.DIRECT_PURCHASE_SHARE)
