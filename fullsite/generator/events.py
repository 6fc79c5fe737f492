"""One day of traffic: impressions → clicks → saves and purchases (vectorised numpy)."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fullsite.contract import SCENES as CONTRACT_SCENES
from fullsite.contract import SCHEMAS
from fullsite.generator.arrow import decimal_from_cents, ids, timestamps
from fullsite.generator.campaigns import DayPlan
from fullsite.generator.timeutil import US_PER_DAY, US_PER_SECOND
from fullsite.generator.world import World

SCENES = np.array(CONTRACT_SCENES)
# Share of traffic by local hour: quiet at night, peaks late morning and evening.
HOURLY = np.array([3, 2, 1, 1, 1, 1, 2, 3, 4, 5, 6, 6, 5, 5, 5, 5, 5, 5, 6, 7, 8, 8, 7, 5], dtype=float)
HOURLY /= HOURLY.sum()
PAID_SHARE = 0.25  # of impressions
IMPRESSION_SHARE = 0.93  # of all events


def _times_in_day(rng, n: int, day_start: int) -> np.ndarray:
    hour = rng.choice(24, size=n, p=HOURLY)
    t = day_start + hour * 3_600 * US_PER_SECOND + rng.integers(0, 3_600 * US_PER_SECOND, n)
    # A sprinkle of events exactly on the edges of the local day.
    edge = rng.random(n) < 0.0005
    t[edge] = np.where(rng.random(edge.sum()) < 0.5, day_start, day_start + US_PER_DAY - 1)
    return t


def expected_daily_gmv_cents(world: World, k: int, day_no: int, events_per_day: int) -> np.ndarray:
    """Expected full-site GMV per product on run-day ``k`` (what merchants budget against)."""
    weight = world.popularity * world.demand_multiplier(k, day_no)
    total = weight.sum()
    if total <= 0:
        return np.zeros_like(weight)
    imps = events_per_day * IMPRESSION_SHARE * weight / total
    return imps * world.ctr * world.cvr * 1.3 * 1.25 * world.price_cents


def generate_day(rng, world: World, k: int, day_no: int, day_start: int, plan: DayPlan,
                 events_per_day: int, n_users: int) -> dict[str, pa.Table]:
    n_imp_total = int(events_per_day * IMPRESSION_SHARE)
    weight = world.popularity * world.demand_multiplier(k, day_no)
    live = np.zeros(len(weight), dtype=bool)
    for c, _, _ in plan.running:
        live[c.product] = True
    weight = weight * np.where(live, 1.3, 1.0)  # paid exposure lifts natural traffic too

    # --- impressions ----------------------------------------------------------------
    n_nat = int(n_imp_total * (1 - PAID_SHARE)) if plan.running else n_imp_total
    nat_counts = rng.multinomial(n_nat, weight / weight.sum())
    nat_prod = np.repeat(np.arange(len(weight)), nat_counts)
    nat_time = _times_in_day(rng, n_nat, day_start)
    nat_scene = rng.choice(3, size=n_nat, p=[0.4, 0.45, 0.15])

    if plan.running:
        budgets = np.array([c.budget_cents for c, _, _ in plan.running], dtype=float)
        starts = np.array([a for _, a, _ in plan.running], dtype=np.int64)
        ends = np.array([b for _, _, b in plan.running], dtype=np.int64)
        frac = (ends - starts) / US_PER_DAY
        share = np.sqrt(budgets) * frac
        paid_counts = rng.multinomial(n_imp_total - n_nat, share / share.sum())
    else:
        paid_counts = np.zeros(0, dtype=np.int64)
        starts = ends = np.zeros(0, dtype=np.int64)
    n_paid = int(paid_counts.sum())
    paid_camp = np.repeat(np.arange(len(paid_counts)), paid_counts)
    campaign_products = np.array([c.product for c, _, _ in plan.running], dtype=np.int64)
    paid_prod = campaign_products[paid_camp] if n_paid else np.zeros(0, dtype=np.int64)
    paid_time = starts[paid_camp] + (rng.random(n_paid) * (ends - starts)[paid_camp]).astype(np.int64)
    paid_scene = rng.choice(3, size=n_paid, p=[0.45, 0.4, 0.15])

    imp_prod = np.concatenate([nat_prod, paid_prod])
    imp_time = np.concatenate([nat_time, paid_time])
    imp_scene = np.concatenate([nat_scene, paid_scene])
    imp_camp = np.concatenate([np.full(n_nat, -1), paid_camp])  # index into plan.running
    n_imp = len(imp_prod)
    imp_user = rng.integers(0, n_users, n_imp)
    imp_no = day_no * 10**9 + np.arange(n_imp)

    # --- clicks ---------------------------------------------------------------------
    ctr = world.ctr[imp_prod] * np.where(imp_camp >= 0, 1.2, 1.0)
    clicked = np.flatnonzero(rng.random(n_imp) < ctr)
    n_clk = len(clicked)
    clk_prod, clk_user, clk_scene, clk_camp = imp_prod[clicked], imp_user[clicked], imp_scene[clicked], imp_camp[clicked]
    clk_time = imp_time[clicked] + rng.exponential(20 * US_PER_SECOND, n_clk).astype(np.int64)
    # Clicks on both sides of local midnight: 23:59:59.999999 today and 00:00:00 tomorrow.
    edge = np.flatnonzero(rng.random(n_clk) < 0.002)
    clk_time[edge] = day_start + US_PER_DAY - (rng.random(len(edge)) < 0.5)
    clk_imp_known = rng.random(n_clk) < 0.9
    clk_invalid = rng.random(n_clk) < 0.03
    clk_cost = np.zeros(n_clk, dtype=np.int64)
    paid = clk_camp >= 0
    if paid.any():
        # Price each campaign's click so that its expected spend is ~90 % of its budget on the
        # hours it ran; then the ad server stops buying once the budget is used up.
        exp_clicks = np.bincount(clk_camp[paid], minlength=len(plan.running)).astype(float)
        cpc = np.clip(0.9 * budgets * frac / np.maximum(exp_clicks, 1), 5, 200_000)
        noise = rng.lognormal(0, 0.25, n_clk)
        clk_cost[paid] = np.maximum(1, np.round(cpc[clk_camp[paid]] * noise[paid])).astype(np.int64)
        # Budget cap: cumulative cost per campaign in time order.
        order = np.lexsort((clk_time, clk_camp))
        camp_sorted = clk_camp[order]
        billed = np.where(clk_invalid[order], 0, clk_cost[order])
        cum = np.cumsum(billed)
        first = np.searchsorted(camp_sorted, camp_sorted, side="left")
        before = np.concatenate([[0], cum])[first]
        spent = cum - before
        cap = np.where(camp_sorted >= 0, budgets[np.maximum(camp_sorted, 0)], np.inf)
        keep_sorted = (camp_sorted < 0) | (spent <= cap)
        keep = np.empty(n_clk, dtype=bool)
        keep[order] = keep_sorted
        sel = np.flatnonzero(keep)
        clicked, clk_prod, clk_user, clk_scene, clk_camp = (a[sel] for a in (clicked, clk_prod, clk_user, clk_scene, clk_camp))
        clk_time, clk_imp_known, clk_invalid, clk_cost = (a[sel] for a in (clk_time, clk_imp_known, clk_invalid, clk_cost))
        n_clk = len(sel)
    clk_no = day_no * 10**9 + np.arange(n_clk)

    # --- saves ----------------------------------------------------------------------
    valid = ~clk_invalid
    saved = np.flatnonzero(valid & (rng.random(n_clk) < 0.12))
    sav_time = clk_time[saved] + rng.exponential(60 * US_PER_SECOND, len(saved)).astype(np.int64)
    sav_type = np.where(rng.random(len(saved)) < 0.55, "cart", "favorite")

    # --- purchases: after a click (delays from minutes to beyond 7 days) or direct --
    bought = np.flatnonzero(valid & (rng.random(n_clk) < world.cvr[clk_prod]))
    nb = len(bought)
    delay_kind = rng.choice(4, size=nb, p=[0.7, 0.2, 0.08, 0.02])
    delay_s = np.select(
        [delay_kind == 0, delay_kind == 1, delay_kind == 2],
        [rng.integers(30, 3_600, nb), rng.integers(3_600, 48 * 3_600, nb), rng.integers(2 * 86_400, 7 * 86_400, nb)],
        rng.integers(7 * 86_400 + 3_600, 10 * 86_400, nb),
    )
    n_direct = int(nb * 0.3)
    direct_prod = rng.choice(len(weight), size=n_direct, p=weight / weight.sum())
    pur_prod = np.concatenate([clk_prod[bought], direct_prod])
    pur_user = np.concatenate([clk_user[bought], rng.integers(0, n_users, n_direct)])
    pur_time = np.concatenate([clk_time[bought] + delay_s * US_PER_SECOND, _times_in_day(rng, n_direct, day_start)])
    qty = rng.choice([1, 2, 3], size=len(pur_prod), p=[0.8, 0.15, 0.05]).astype(np.int32)
    pur_no = day_no * 10**9 + np.arange(len(pur_prod))

    # Campaign index -1 (natural traffic) takes the trailing null of this dictionary.
    campaign_ids = pa.array([c.campaign_id for c, _, _ in plan.running] + [None], type=pa.string())
    n_camp = len(plan.running)
    prod_ids = pa.array(world.product_ids)

    def campaign_of(idx):
        return campaign_ids.take(pa.array(np.where(idx >= 0, idx, n_camp)))

    def users(u):
        return ids("U", u)

    impressions = pa.table({
        "event_id": ids("I", imp_no), "event_time": timestamps(imp_time), "user_id": users(imp_user),
        "product_id": prod_ids.take(imp_prod), "campaign_id": campaign_of(imp_camp),
        "scene": pa.array(SCENES).take(imp_scene), "is_paid": pa.array(imp_camp >= 0),
    }, schema=SCHEMAS["impressions"])
    imp_ids = impressions.column("event_id").combine_chunks().take(pa.array(clicked))
    clicks = pa.table({
        "event_id": ids("K", clk_no), "event_time": timestamps(clk_time), "user_id": users(clk_user),
        "product_id": prod_ids.take(clk_prod), "campaign_id": campaign_of(clk_camp),
        "impression_id": pc.if_else(pa.array(clk_imp_known), imp_ids, pa.scalar(None, pa.string())),
        "scene": pa.array(SCENES).take(clk_scene), "is_paid": pa.array(clk_camp >= 0),
        "cost": decimal_from_cents(clk_cost), "is_invalid": pa.array(clk_invalid),
    }, schema=SCHEMAS["clicks"])
    saves = pa.table({
        "event_id": ids("S", day_no * 10**9 + np.arange(len(saved))), "event_time": timestamps(sav_time),
        "user_id": users(clk_user[saved]), "product_id": prod_ids.take(clk_prod[saved]),
        "save_type": pa.array(sav_type, type=pa.string()),
    }, schema=SCHEMAS["saves"])
    purchases = pa.table({
        "order_id": ids("O", pur_no), "event_time": timestamps(pur_time), "user_id": users(pur_user),
        "product_id": prod_ids.take(pur_prod), "quantity": pa.array(qty, type=pa.int32()),
        "amount": decimal_from_cents(world.price_cents[pur_prod] * qty),
    }, schema=SCHEMAS["purchases"])
    return {"impressions": impressions, "clicks": clicks, "saves": saves, "purchases": purchases}
