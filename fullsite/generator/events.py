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
    # Each step draws from ``rng`` in a fixed order: the same seed gives the same bytes.
    n_imp_total = traffic.impressions(events_per_day)
    stage = world.stage(k, day_no)
    stage_ctr, stage_cvr = np.array(cal.STAGE_CTR)[stage], np.array(cal.STAGE_CVR)[stage]
    bids = bids if bids is not None else np.ones(len(plan.running))
    if plan.running:
        n_slots = int(n_imp_total * cal.PAID_SHARE)
        paid = _serve_paid(rng, world, plan, bids, stage_ctr, n_slots, k, day_no)
    else:
        paid = _NO_PAID
    weight = _natural_weight(world, plan, k, day_no)
    n_nat = n_imp_total - len(paid["camp"])
    natural = _serve_natural(rng, world, weight, stage_ctr, n_nat, day_start)
    imp = _impressions(rng, natural, paid, n_users)
    clk = _clicks(rng, imp, natural, paid, day_start)
    sav = _saves(rng, world, clk)
    pull = weight * world.ctr * world.cvr * stage_cvr
    pur = _purchases(rng, world, clk, (pull, stage_cvr), day_start, n_users)
    return _Tables(world, plan, day_no).of_day(imp, clk, sav, pur)


_NO_PAID = {
    "prod": np.zeros(0, np.int64),
    "camp": np.zeros(0, np.int64),
    "time": np.zeros(0, np.int64),
    "scene": np.zeros(0, np.int64),
    "clicked": np.zeros(0, bool),
    "invalid": np.zeros(0, bool),
    "cost": np.zeros(0, np.int64),
}


def _natural_weight(world: World, plan: DayPlan, k: int, day_no: int) -> np.ndarray:
    """Each product's share of natural traffic: its demand, lifted where a campaign runs."""
    weight = world.popularity * world.demand_multiplier(k, day_no)
    for c, _, _ in plan.running:
        weight[c.product] *= traffic.natural_lift(np.array(c.roi_choice < 3))
    return weight


def _serve_natural(rng, world: World, weight, stage_ctr, n_nat: int, day_start: int) -> dict:
    """Natural impressions fill every slot the campaigns did not take."""
    prod = np.repeat(np.arange(len(weight)), rng.multinomial(n_nat, weight / weight.sum()))
    time = _times_in_day(rng, n_nat, day_start)
    scene = rng.choice(3, size=n_nat, p=cal.SCENE_SHARE_NATURAL)
    p_click = world.ctr[prod] * stage_ctr[prod] * np.array(cal.SCENE_CTR)[scene]
    return {"prod": prod, "time": time, "scene": scene, "clicked": rng.random(n_nat) < p_click}


def _impressions(rng, natural: dict, paid: dict, n_users: int) -> dict:
    n_nat = len(natural["prod"])
    imp = {
        "prod": np.concatenate([natural["prod"], paid["prod"]]),
        "time": np.concatenate([natural["time"], paid["time"]]),
        "scene": np.concatenate([natural["scene"], paid["scene"]]),
        "camp": np.concatenate([np.full(n_nat, -1), paid["camp"]]),  # index into plan.running
        "clicked": np.concatenate([natural["clicked"], paid["clicked"]]),
    }
    imp["user"] = rng.integers(0, n_users, len(imp["prod"]))
    return imp


def _clicks(rng, imp: dict, natural: dict, paid: dict, day_start: int) -> dict:
    clicked = np.flatnonzero(imp["clicked"])
    n_clk, n_nat = len(clicked), len(natural["prod"])
    clk = {name: imp[name][clicked] for name in ("prod", "user", "scene", "camp")}
    clk["impression"] = clicked  # the row of its impression
    delay = rng.exponential(20 * US_PER_SECOND, n_clk).astype(np.int64)
    clk["time"] = imp["time"][clicked] + delay
    # Clicks on both sides of local midnight: 23:59:59.999999 today and 00:00:00 tomorrow.
    edge = np.flatnonzero(rng.random(n_clk) < 0.002)
    clk["time"][edge] = day_start + US_PER_DAY - (rng.random(len(edge)) < 0.5)
    clk["impression_known"] = rng.random(n_clk) < 0.9
    invalid = np.concatenate([rng.random(n_nat) < INVALID_CLICK_SHARE, paid["invalid"]])
    clk["invalid"] = invalid[clicked]
    clk["cost"] = np.concatenate([np.zeros(n_nat, dtype=np.int64), paid["cost"]])[clicked]
    return clk


def _saves(rng, world: World, clk: dict) -> dict:
    n_clk = len(clk["prod"])
    saved = np.flatnonzero(~clk["invalid"] & (rng.random(n_clk) < world.save_rate[clk["prod"]]))
    delay = rng.exponential(60 * US_PER_SECOND, len(saved)).astype(np.int64)
    return {
        "click": saved,
        "time": clk["time"][saved] + delay,
        "type": np.where(rng.random(len(saved)) < cal.CART_SHARE, "cart", "favorite"),
    }


def _purchases(rng, world: World, clk: dict, rates: tuple, day_start: int, n_users: int) -> dict:
    """After a click (delays from minutes to beyond 7 days), or direct — from the cart, a
    live room — by demand and how well a product converts (``rates``: that pull per
    product, and the lifecycle stage's conversion factor)."""
    pull, stage_cvr = rates
    prod = clk["prod"]
    p_buy = world.cvr[prod] * stage_cvr[prod] * np.array(cal.SCENE_CVR)[clk["scene"]]
    bought = np.flatnonzero(~clk["invalid"] & (rng.random(len(prod)) < p_buy))
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
    n_direct = int(round(nb * cal.DIRECT_PURCHASE_SHARE))
    direct_prod = rng.choice(len(pull), size=n_direct, p=pull / pull.sum())
    pur = {
        "prod": np.concatenate([prod[bought], direct_prod]),
        "user": np.concatenate([clk["user"][bought], rng.integers(0, n_users, n_direct)]),
    }
    after_click = clk["time"][bought] + delay_s * US_PER_SECOND
    pur["time"] = np.concatenate([after_click, _times_in_day(rng, n_direct, day_start)])
    pur["qty"] = rng.choice(cal.QUANTITIES, size=len(pur["prod"]), p=cal.QUANTITY_P)
    return pur


class _Tables:
    """The day's rows as the contract's Arrow tables; event ids are the day number and the
    row's place (``day_no * 10**9 + i``)."""

    def __init__(self, world: World, plan: DayPlan, day_no: int):
        self.world, self.day_no = world, day_no
        # Campaign index -1 (natural traffic) takes the trailing null of this dictionary.
        self.campaign_ids = pa.array(
            [c.campaign_id for c, _, _ in plan.running] + [None], type=pa.string()
        )
        self.n_camp = len(plan.running)
        self.prod_ids = pa.array(world.product_ids)

    def of_day(self, imp: dict, clk: dict, sav: dict, pur: dict) -> dict[str, pa.Table]:
        impressions = self.impressions(imp)
        return {
            "impressions": impressions,
            "clicks": self.clicks(clk, impressions.column("event_id").combine_chunks()),
            "saves": self.saves(sav, clk),
            "purchases": self.purchases(pur),
        }

    def _numbers(self, n: int) -> np.ndarray:
        return self.day_no * 10**9 + np.arange(n)

    def _campaign_of(self, idx: np.ndarray) -> pa.Array:
        return self.campaign_ids.take(pa.array(np.where(idx >= 0, idx, self.n_camp)))

    def impressions(self, imp: dict) -> pa.Table:
        columns = {
            "event_id": ids("I", self._numbers(len(imp["prod"]))),
            "event_time": timestamps(imp["time"]),
            "user_id": ids("U", imp["user"]),
            "product_id": self.prod_ids.take(imp["prod"]),
            "campaign_id": self._campaign_of(imp["camp"]),
            "scene": pa.array(SCENES).take(imp["scene"]),
            "is_paid": pa.array(imp["camp"] >= 0),
        }
        return pa.table(columns, schema=SCHEMAS["impressions"])

    def clicks(self, clk: dict, impression_ids: pa.Array) -> pa.Table:
        known = pa.array(clk["impression_known"])
        of_click = impression_ids.take(pa.array(clk["impression"]))
        columns = {
            "event_id": ids("K", self._numbers(len(clk["prod"]))),
            "event_time": timestamps(clk["time"]),
            "user_id": ids("U", clk["user"]),
            "product_id": self.prod_ids.take(clk["prod"]),
            "campaign_id": self._campaign_of(clk["camp"]),
            "impression_id": pc.if_else(known, of_click, pa.scalar(None, pa.string())),
            "scene": pa.array(SCENES).take(clk["scene"]),
            "is_paid": pa.array(clk["camp"] >= 0),
            "cost": decimal_from_cents(clk["cost"]),
            "is_invalid": pa.array(clk["invalid"]),
        }
        return pa.table(columns, schema=SCHEMAS["clicks"])

    def saves(self, sav: dict, clk: dict) -> pa.Table:
        columns = {
            "event_id": ids("S", self._numbers(len(sav["click"]))),
            "event_time": timestamps(sav["time"]),
            "user_id": ids("U", clk["user"][sav["click"]]),
            "product_id": self.prod_ids.take(clk["prod"][sav["click"]]),
            "save_type": pa.array(sav["type"], type=pa.string()),
        }
        return pa.table(columns, schema=SCHEMAS["saves"])

    def purchases(self, pur: dict) -> pa.Table:
        qty = pur["qty"].astype(np.int32)
        columns = {
            "order_id": ids("O", self._numbers(len(pur["prod"]))),
            "event_time": timestamps(pur["time"]),
            "user_id": ids("U", pur["user"]),
            "product_id": self.prod_ids.take(pur["prod"]),
            "quantity": pa.array(qty, type=pa.int32()),
            "amount": decimal_from_cents(self.world.price_cents[pur["prod"]] * qty),
        }
        return pa.table(columns, schema=SCHEMAS["purchases"])
