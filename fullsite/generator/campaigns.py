"""Campaign life: create, update (real and no-op), pause, resume, end.

At most one action per campaign and day, which keeps each campaign's running time on a
day a single interval (what the traffic generator needs). The log itself obeys the
contract's order rules: create first, nothing after end, pause only when running,
resume only when paused.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from fullsite.generator import calibration as cal
from fullsite.generator import traffic
from fullsite.generator.timeutil import US_PER_DAY, US_PER_SECOND
from fullsite.generator.world import World

RUNNING, PAUSED, ENDED = 0, 1, 2
ROI_CHOICES = np.array(["tier_1", "tier_2", "tier_3", "custom"])


@dataclass
class Campaign:
    number: int
    product: int
    merchant: int
    status: int
    budget_cents: int
    target_roi_cents: int
    roi_choice: int
    is_tagged: bool
    created_k: int

    @property
    def campaign_id(self) -> str:
        return f"C{self.number:07d}"

    def settings(self) -> tuple:
        return (self.budget_cents, self.target_roi_cents, self.roi_choice, self.is_tagged)


@dataclass
class DayPlan:
    """What the campaigns did on one day and when they were buying traffic."""

    changes: list  # tuples in contract column order (change_id filled by the writer)
    running: list  # (campaign, interval_start_us, interval_end_us)


@dataclass
class CampaignBook:
    world: World
    campaigns: list = field(default_factory=list)
    live_by_product: dict = field(default_factory=dict)
    next_change: int = 1
    events_per_day: int = 0

    def __post_init__(self) -> None:
        w = self.world
        self._paid_roi = w.paid_roi()
        # CNY of clicks per paid order
        self._cost_per_order = w.price_cents / 100 * cal.QTY_MEAN / self._paid_roi
        # Natural GMV beside a typical campaign's spend, on a steady day: the factor that
        # turns a product's paid ROI into its full-site ROI.
        everyone = np.arange(len(w.product_ids))
        natural = traffic.natural_gmv(w, self.events_per_day, 0, 10**6, everyone)
        weight = traffic.budget_weight(w, everyone, w.product_merchant, 0, 10**6)
        share = np.array([cal.LIVE_SHARE[t] for t in cal.TIERS])[
            w.merchant_tier[w.product_merchant]
        ]
        live = max(
            1,
            int(
                round(float((share * w.advertiser[w.product_merchant]).sum() * w.campaign_density))
            ),
        )
        typical = traffic.expected_spend(
            w, self.events_per_day, weight, np.ones(len(everyone)), everyone, 0, 10**6
        )
        typical *= len(everyone) / live  # the slots are shared by the live campaigns only
        self._natural_factor = 1.0 + natural / np.maximum(typical * self._paid_roi, 1e-9)
        # Merchants promote what already sells: a product's chance of a campaign follows how
        # many orders its traffic makes, relative to the typical product.
        pull = w.popularity * w.ctr * w.cvr
        appeal = np.clip((pull / np.median(pull)) ** cal.PROMOTE_SELLERS_EXPONENT, 0.2, 4.0)
        self._appeal = appeal / appeal.mean()  # who is promoted, not how many

    def _change_time(self, rng, day_start: int) -> int:
        u = rng.random()
        if u < 0.03:  # exactly at local midnight: the boundary cases of the 7-day window
            return day_start
        if u < 0.06:
            return day_start + US_PER_DAY - 1
        return (
            day_start
            + int(rng.integers(0, US_PER_DAY // US_PER_SECOND)) * US_PER_SECOND
            + int(rng.integers(0, US_PER_SECOND))
        )

    def expected_roi(self, product: int) -> float:
        """The full-site ROI a campaign on ``product`` can expect: paid GMV per CNY spent plus
        the natural GMV the product sells meanwhile (what the platform's baseline measures)."""
        return float(self._paid_roi[product] * self._natural_factor[product])

    def _target(self, rng, product: int) -> tuple[int, int]:
        """(target_roi in cents, roi_choice index): one of the platform's three recommended
        tiers around its estimate of the product's ROI, or the merchant's own figure."""
        estimate = self.expected_roi(product) * rng.lognormal(0.0, cal.ROI_ESTIMATE_SPREAD)
        choice = int(rng.choice(4, p=cal.ROI_CHOICE_P))
        if choice == 3:  # custom: merchants guess wider, mostly on the ambitious side
            return max(10, int(round(estimate * rng.uniform(0.6, 1.6) * 100))), choice
        return max(10, int(round(estimate * cal.ROI_TIER_FACTORS[choice] * 100))), choice

    def budget_new(self, rng, new: list, live: list, k: int, day_no: int) -> None:
        """Budgets of the day's new campaigns: their share of the paid traffic on offer, at
        what it costs, with the merchant's own headroom (about 40 % of campaign-days end at
        their budget)."""
        if not new:
            return
        products = np.array([c.product for c in live])
        merchants = np.array([c.merchant for c in live])
        weight = traffic.budget_weight(self.world, products, merchants, k, day_no)
        spend = traffic.expected_spend(
            self.world, self.events_per_day, weight, self.bids(live), products, k, day_no
        )
        index = {id(c): i for i, c in enumerate(live)}
        headroom, spread = cal.BUDGET_HEADROOM
        for c in new:
            budget = spend[index[id(c)]] * rng.lognormal(np.log(headroom), spread)
            # … and never less than a few orders a week would cost: nobody promotes a product
            # on a budget that buys no sale.
            floor = cal.MIN_WEEKLY_ORDERS / 7 * self._cost_per_order[c.product]
            c.budget_cents = int(max(cal.MIN_DAILY_BUDGET, round(budget), round(floor))) * 100

    def bids(self, campaigns: list) -> np.ndarray:
        expected = np.array([self.expected_roi(c.product) for c in campaigns])
        return traffic.bid_factor(expected, np.array([c.target_roi_cents / 100 for c in campaigns]))

    def plan_day(self, rng, k: int, day_no: int, day_start: int) -> DayPlan:
        plan = DayPlan(changes=[], running=[])
        day_end = day_start + US_PER_DAY
        for c in self.campaigns:
            if c.status == ENDED:
                continue
            u = rng.random()
            t = self._change_time(rng, day_start)
            if c.status == RUNNING:
                self._advance_running(rng, c, u, k - c.created_k, (day_start, t, day_end), plan)
            else:
                self._advance_paused(c, u, t, day_end, plan)
        new = self._create(rng, k, day_no)
        self.budget_new(rng, new, [c for c in self.campaigns if c.status == RUNNING], k, day_no)
        for c in new:
            t = self._change_time(rng, day_start)
            plan.changes.append(self._change(c, "create", t))
            plan.running.append((c, t, day_end))
        plan.changes.sort(key=lambda row: (row[0], row[1]))
        plan.running = [r for r in plan.running if r[2] > r[1]]
        return plan

    def _change(self, c: Campaign, action: str, t: int) -> tuple:
        """A row of the change log, in contract column order (the writer adds change_id)."""
        w = self.world
        return (
            t,
            c.campaign_id,
            w.merchant_ids[c.merchant],
            w.product_ids[c.product],
            action,
            c.budget_cents,
            c.target_roi_cents,
            ROI_CHOICES[c.roi_choice],
            c.is_tagged,
        )

    def _advance_running(
        self, rng, c: Campaign, u: float, age: int, times: tuple[int, int, int], plan: DayPlan
    ) -> None:
        """A running campaign's day: it ends, pauses, is updated (really or not) or just runs
        (``times``: the day's start, the change's time, the day's end)."""
        day_start, t, day_end = times
        p_end = 0.015 if age < 20 else 0.06
        if u < p_end:
            c.status = ENDED
            del self.live_by_product[c.product]
            plan.changes.append(self._change(c, "end", t))
            plan.running.append((c, day_start, t))
        elif u < p_end + 0.03:
            c.status = PAUSED
            plan.changes.append(self._change(c, "pause", t))
            plan.running.append((c, day_start, t))
        elif u < p_end + 0.09:
            self._update(rng, c)
            plan.changes.append(self._change(c, "update", t))
            plan.running.append((c, day_start, day_end))
        else:
            plan.running.append((c, day_start, day_end))

    def _update(self, rng, c: Campaign) -> None:
        kind = rng.random()
        if kind < 0.45:
            budget = round(c.budget_cents / 100 * rng.uniform(0.6, 1.6))
            c.budget_cents = int(max(30, budget)) * 100
        elif kind < 0.7:
            c.target_roi_cents, c.roi_choice = self._target(rng, c.product)
        elif kind < 0.8:
            c.is_tagged = not c.is_tagged
        # else: a no-op update (same settings re-saved): starts no version

    def _advance_paused(self, c: Campaign, u: float, t: int, day_end: int, plan: DayPlan) -> None:
        if u < 0.06:
            c.status = ENDED
            del self.live_by_product[c.product]
            plan.changes.append(self._change(c, "end", t))
        elif u < 0.45:
            c.status = RUNNING
            plan.changes.append(self._change(c, "resume", t))
            plan.running.append((c, t, day_end))

    def _create_chance(self, k: int) -> np.ndarray:
        """Each product's chance of a new campaign on run-day ``k``: the first day finds each
        tier's share of products promoted; then a trickle keeps it there (a campaign lives
        about a month)."""
        w = self.world
        tiers = w.merchant_tier_on(k)[w.product_merchant]
        median = np.array([cal.TIERS[t][1] for t in cal.TIERS])[tiers]
        size = np.clip(
            (w.merchant_size[w.product_merchant] / median) ** cal.LIVE_SIZE_EXPONENT, 0.3, 3.0
        )
        share = (
            np.array([cal.LIVE_SHARE[t] for t in cal.TIERS])[tiers]
            * size
            * w.advertiser[w.product_merchant]
            * self._appeal
            * w.campaign_density
        )
        return share if k == 0 else share / 30

    def _create(self, rng, k: int, day_no: int) -> list[Campaign]:
        """The day's new campaigns (their budgets are set by ``budget_new``), within each
        merchant's plan quota and one live campaign per product."""
        w = self.world
        live_per_merchant = np.zeros(len(w.merchant_ids), dtype=np.int64)
        for c in self.campaigns:
            if c.status != ENDED:
                live_per_merchant[c.merchant] += 1
        p_create = self._create_chance(k)
        candidates = np.flatnonzero(w.listed_mask(day_no))
        draws = rng.random(len(candidates))
        new = []
        for p, u in zip(candidates, draws, strict=False):
            m = int(w.product_merchant[p])
            if u >= p_create[p] or p in self.live_by_product:
                continue
            if live_per_merchant[m] >= w.plan_quota[m]:
                continue
            target, choice = self._target(rng, int(p))
            c = Campaign(
                number=len(self.campaigns) + 1,
                product=int(p),
                merchant=m,
                status=RUNNING,
                budget_cents=0,
                target_roi_cents=target,
                roi_choice=choice,
                is_tagged=bool(rng.random() < 0.45),
                created_k=k,
            )
            self.campaigns.append(c)
            self.live_by_product[c.product] = c
            live_per_merchant[m] += 1
            new.append(c)
        return new
