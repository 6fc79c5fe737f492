"""One day of traffic: impressions → clicks → saves and purchases (vectorised numpy).

Rates by category, scene and lifecycle stage, prices and costs come from the world and
calibration.py (docs/generator.md). Paid slots are served until a campaign's budget is
spent; every slot a campaign does not take goes to natural traffic, so a day holds the
same number of impressions whatever the budgets."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fullsite.contract import SCENES as CONTRACT_SCENES
from fullsite.contract import SCHEMAS
from fullsite.generator import calibration as cal
from fullsite.generator import traffic
from fullsite.generator.arrow import decimal_from_cents, ids, timestamps
from fullsite.generator.campaigns import DayPlan
from fullsite.generator.timeutil import US_PER_DAY, US_PER_SECOND
from fullsite.generator.world import World

SCENES = np.array(CONTRACT_SCENES)
# Share of traffic by local hour: quiet at night, peaks late morning and evening.
HOURLY = np.array(
    [3, 2, 1, 1, 1, 1, 2, 3, 4, 5, 6, 6, 5, 5, 5, 5, 5, 5, 6, 7, 8, 8, 7, 5], dtype=float
)
HOURLY /= HOURLY.sum()
INVALID_CLICK_SHARE = 0.03  # clicks the anti-fraud filter flags (never billed)


def _times_in_day(rng, n: int, day_start: int) -> np.ndarray:
    hour = rng.choice(24, size=n, p=HOURLY)
    t = day_start + hour * 3_600 * US_PER_SECOND + rng.integers(0, 3_600 * US_PER_SECOND, n)
    # A sprinkle of events exactly on the edges of the local day.
    edge = rng.random(n) < 0.0005
    t[edge] = np.where(rng.random(edge.sum()) < 0.5, day_start, day_start + US_PER_DAY - 1)
    return t


def _paid_slots(
    rng, world: World, k: int, day_no: int, plan: DayPlan, bids: np.ndarray, n_slots: int
):
    """The paid impressions each running campaign wins: what its budget would buy over the
    hours it ran, times the day's auction luck; returned in campaign, then time order."""
    products = np.array([c.product for c, _, _ in plan.running], dtype=np.int64)
    budgets = np.array([c.budget_cents / 100 for c, _, _ in plan.running])
    starts = np.array([a for _, a, _ in plan.running], dtype=np.int64)
    ends = np.array([b for _, _, b in plan.running], dtype=np.int64)
    frac = (ends - starts) / US_PER_DAY
    luck = rng.lognormal(0.0, cal.AUCTION_SPREAD, len(products))
    weight = budgets * frac / traffic.cost_per_slot(world, products, bids, k, day_no) * luck
    camp = np.repeat(np.arange(len(products)), rng.multinomial(n_slots, weight / weight.sum()))
    times = starts[camp] + (rng.random(len(camp)) * (ends - starts)[camp]).astype(np.int64)
    order = np.lexsort((times, camp))
    return products[camp[order]], camp[order], times[order]


def _serve_paid(
    rng,
    world: World,
    plan: DayPlan,
    bids: np.ndarray,
    stage_ctr: np.ndarray,
    n_slots: int,
    k: int,
    day_no: int,
) -> dict[str, np.ndarray]:
    """Paid impressions, whether each was clicked, and the click's cost, up to the budget:
    the ad server stops showing a campaign at the click that would take it past its budget."""
    prod, camp, times = _paid_slots(rng, world, k, day_no, plan, bids, n_slots)
    scene = rng.choice(3, size=len(camp), p=cal.SCENE_SHARE_PAID)
    p_click = world.ctr[prod] * stage_ctr[prod] * np.array(cal.SCENE_CTR)[scene] * cal.PAID_CTR_LIFT
    clicked = rng.random(len(camp)) < p_click
    invalid = rng.random(len(camp)) < INVALID_CLICK_SHARE
    cost = np.maximum(
        1,
        np.round(
            world.cpc[prod]
            * np.array(cal.SCENE_CPC)[scene]
            * bids[camp]
            * 100
            * rng.lognormal(0.0, cal.CPC_CLICK_SPREAD, len(camp))
        ),
    ).astype(np.int64)
    billed = np.cumsum(np.where(clicked & ~invalid, cost, 0))
    first = np.searchsorted(camp, camp, side="left")
    spent = billed - np.concatenate([[0], billed])[first]  # within the campaign, in time order
    budgets = np.array([c.budget_cents for c, _, _ in plan.running], dtype=np.int64)
    keep = spent <= budgets[camp]  # spent only grows: once over, the rest of the day is not served
    return {
        "prod": prod[keep],
        "camp": camp[keep],
        "time": times[keep],
        "scene": scene[keep],
        "clicked": clicked[keep],
        "invalid": invalid[keep],
        "cost": cost[keep],
    }


def generate_day(
    rng,
    world: World,
    k: int,
    day_no: int,
    day_start: int,
    plan: DayPlan,
    events_per_day: int,
    n_users: int,
    bids: np.ndarray | None = None,
) -> dict[str, pa.Table]:
    n_imp_total = traffic.impressions(events_per_day)
    stage = world.stage(k, day_no)
    stage_ctr, stage_cvr = np.array(cal.STAGE_CTR)[stage], np.array(cal.STAGE_CVR)[stage]
    bids = bids if bids is not None else np.ones(len(plan.running))

    if plan.running:
        paid = _serve_paid(
            rng, world, plan, bids, stage_ctr, int(n_imp_total * cal.PAID_SHARE), k, day_no
        )
    else:
        paid = {
            "prod": np.zeros(0, np.int64),
            "camp": np.zeros(0, np.int64),
            "time": np.zeros(0, np.int64),
            "scene": np.zeros(0, np.int64),
            "clicked": np.zeros(0, bool),
            "invalid": np.zeros(0, bool),
            "cost": np.zeros(0, np.int64),
        }
    n_paid = len(paid["camp"])

    # --- natural impressions fill every other slot, lifted where a campaign runs ---------
    weight = world.popularity * world.demand_multiplier(k, day_no)
    for c, _, _ in plan.running:
        weight[c.product] *= traffic.natural_lift(np.array(c.roi_choice < 3))
    n_nat = n_imp_total - n_paid
    nat_prod = np.repeat(np.arange(len(weight)), rng.multinomial(n_nat, weight / weight.sum()))
    nat_time = _times_in_day(rng, n_nat, day_start)
    nat_scene = rng.choice(3, size=n_nat, p=cal.SCENE_SHARE_NATURAL)
    nat_clicked = (
        rng.random(n_nat)
        < world.ctr[nat_prod] * stage_ctr[nat_prod] * np.array(cal.SCENE_CTR)[nat_scene]
    )

    imp_prod = np.concatenate([nat_prod, paid["prod"]])
    imp_time = np.concatenate([nat_time, paid["time"]])
    imp_scene = np.concatenate([nat_scene, paid["scene"]])
    imp_camp = np.concatenate([np.full(n_nat, -1), paid["camp"]])  # index into plan.running
    n_imp = len(imp_prod)
    imp_user = rng.integers(0, n_users, n_imp)
    imp_no = day_no * 10**9 + np.arange(n_imp)

    # --- clicks ---------------------------------------------------------------------
    clicked = np.flatnonzero(np.concatenate([nat_clicked, paid["clicked"]]))
    n_clk = len(clicked)
    clk_prod, clk_user, clk_scene, clk_camp = (
        imp_prod[clicked],
        imp_user[clicked],
        imp_scene[clicked],
        imp_camp[clicked],
    )
    clk_time = imp_time[clicked] + rng.exponential(20 * US_PER_SECOND, n_clk).astype(np.int64)
    # Clicks on both sides of local midnight: 23:59:59.999999 today and 00:00:00 tomorrow.
    edge = np.flatnonzero(rng.random(n_clk) < 0.002)
    clk_time[edge] = day_start + US_PER_DAY - (rng.random(len(edge)) < 0.5)
    clk_imp_known = rng.random(n_clk) < 0.9
    clk_invalid = np.concatenate([rng.random(n_nat) < INVALID_CLICK_SHARE, paid["invalid"]])[
        clicked
    ]
    clk_cost = np.concatenate([np.zeros(n_nat, dtype=np.int64), paid["cost"]])[clicked]
    clk_no = day_no * 10**9 + np.arange(n_clk)

    # --- saves ----------------------------------------------------------------------
    valid = ~clk_invalid
    saved = np.flatnonzero(valid & (rng.random(n_clk) < world.save_rate[clk_prod]))
    sav_time = clk_time[saved] + rng.exponential(60 * US_PER_SECOND, len(saved)).astype(np.int64)
    sav_type = np.where(rng.random(len(saved)) < cal.CART_SHARE, "cart", "favorite")

    # --- purchases: after a click (delays from minutes to beyond 7 days) or direct --
    p_buy = world.cvr[clk_prod] * stage_cvr[clk_prod] * np.array(cal.SCENE_CVR)[clk_scene]
    bought = np.flatnonzero(valid & (rng.random(n_clk) < p_buy))
    nb = len(bought)
    delay_kind = rng.choice(4, size=nb, p=[0.7, 0.2, 0.08, 0.02])
    delay_s = np.select(
        [delay_kind == 0, delay_kind == 1, delay_kind == 2],
        [
            rng.integers(30, 3_600, nb),
            rng.integers(3_600, 48 * 3_600, nb),
            rng.integers(2 * 86_400, 7 * 86_400, nb),
        ],
        rng.integers(7 * 86_400 + 3_600, 10 * 86_400, nb),
    )
    # Direct purchases (from the cart, a live room): by demand and how well a product converts.
    n_direct = int(round(nb * cal.DIRECT_PURCHASE_SHARE))
    pull = weight * world.ctr * world.cvr * stage_cvr
    direct_prod = rng.choice(len(weight), size=n_direct, p=pull / pull.sum())
    pur_prod = np.concatenate([clk_prod[bought], direct_prod])
    pur_user = np.concatenate([clk_user[bought], rng.integers(0, n_users, n_direct)])
    pur_time = np.concatenate(
        [clk_time[bought] + delay_s * US_PER_SECOND, _times_in_day(rng, n_direct, day_start)]
    )
    qty = rng.choice(cal.QUANTITIES, size=len(pur_prod), p=cal.QUANTITY_P).astype(np.int32)
    pur_no = day_no * 10**9 + np.arange(len(pur_prod))

    # Campaign index -1 (natural traffic) takes the trailing null of this dictionary.
    campaign_ids = pa.array([c.campaign_id for c, _, _ in plan.running] + [None], type=pa.string())
    n_camp = len(plan.running)
    prod_ids = pa.array(world.product_ids)

    def campaign_of(idx):
        return campaign_ids.take(pa.array(np.where(idx >= 0, idx, n_camp)))

    def users(u):
        return ids("U", u)

    impressions = pa.table(
        {
            "event_id": ids("I", imp_no),
            "event_time": timestamps(imp_time),
            "user_id": users(imp_user),
            "product_id": prod_ids.take(imp_prod),
            "campaign_id": campaign_of(imp_camp),
            "scene": pa.array(SCENES).take(imp_scene),
            "is_paid": pa.array(imp_camp >= 0),
        },
        schema=SCHEMAS["impressions"],
    )
    imp_ids = impressions.column("event_id").combine_chunks().take(pa.array(clicked))
    clicks = pa.table(
        {
            "event_id": ids("K", clk_no),
            "event_time": timestamps(clk_time),
            "user_id": users(clk_user),
            "product_id": prod_ids.take(clk_prod),
            "campaign_id": campaign_of(clk_camp),
            "impression_id": pc.if_else(
                pa.array(clk_imp_known), imp_ids, pa.scalar(None, pa.string())
            ),
            "scene": pa.array(SCENES).take(clk_scene),
            "is_paid": pa.array(clk_camp >= 0),
            "cost": decimal_from_cents(clk_cost),
            "is_invalid": pa.array(clk_invalid),
        },
        schema=SCHEMAS["clicks"],
    )
    saves = pa.table(
        {
            "event_id": ids("S", day_no * 10**9 + np.arange(len(saved))),
            "event_time": timestamps(sav_time),
            "user_id": users(clk_user[saved]),
            "product_id": prod_ids.take(clk_prod[saved]),
            "save_type": pa.array(sav_type, type=pa.string()),
        },
        schema=SCHEMAS["saves"],
    )
    purchases = pa.table(
        {
            "order_id": ids("O", pur_no),
            "event_time": timestamps(pur_time),
            "user_id": users(pur_user),
            "product_id": prod_ids.take(pur_prod),
            "quantity": pa.array(qty, type=pa.int32()),
            "amount": decimal_from_cents(world.price_cents[pur_prod] * qty),
        },
        schema=SCHEMAS["purchases"],
    )
    return {"impressions": impressions, "clicks": clicks, "saves": saves, "purchases": purchases}
