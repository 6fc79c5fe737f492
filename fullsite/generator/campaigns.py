"""Campaign life: create, update (real and no-op), pause, resume, end.

At most one action per campaign and day, which keeps each campaign's running time on a
day a single interval (what the traffic generator needs). The log itself obeys the
contract's order rules: create first, nothing after end, pause only when running,
resume only when paused.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

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

    def _change_time(self, rng, day_start: int) -> int:
        u = rng.random()
        if u < 0.03:  # exactly at local midnight: the boundary cases of the 7-day window
            return day_start
        if u < 0.06:
            return day_start + US_PER_DAY - 1
        return day_start + int(rng.integers(0, US_PER_DAY // US_PER_SECOND)) * US_PER_SECOND \
            + int(rng.integers(0, US_PER_SECOND))

    def _target(self, rng, product: int) -> tuple[int, int]:
        """(target_roi in cents, roi_choice index): one of the three recommended tiers, or custom."""
        base = self.world.natural_roi[product]
        choice = int(rng.choice(4, p=[0.25, 0.3, 0.2, 0.25]))
        if choice == 3:
            return int(round(rng.uniform(1.0, 8.0) * 100)), choice
        factor = (0.8, 1.0, 1.2)[choice]
        return max(10, int(round(base * factor * 100))), choice

    def _budget(self, rng, product: int, expected_gmv_cents: float, target_cents: int) -> int:
        # Merchants budget roughly the spend at which their target would be met; the
        # spread (r) decides how many windows miss their target and get compensated.
        r = rng.lognormal(0.0, 0.35)
        # Full-site GMV runs ~2.5x the organic estimate once the campaign lifts traffic.
        budget = 2.5 * expected_gmv_cents / (target_cents / 100 * r)
        return int(max(30, round(budget / 100))) * 100

    def plan_day(self, rng, k: int, day_start: int, expected_gmv_cents: np.ndarray) -> DayPlan:
        w = self.world
        changes, running = [], []
        day_end = day_start + US_PER_DAY

        def log(c: Campaign, action: str, t: int):
            changes.append((t, c.campaign_id, w.merchant_ids[c.merchant], w.product_ids[c.product], action,
                            c.budget_cents, c.target_roi_cents, ROI_CHOICES[c.roi_choice], c.is_tagged))

        for c in self.campaigns:
            if c.status == ENDED:
                continue
            u = rng.random()
            age = k - c.created_k
            t = self._change_time(rng, day_start)
            if c.status == RUNNING:
                p_end = 0.015 if age < 20 else 0.06
                if u < p_end:
                    c.status = ENDED
                    del self.live_by_product[c.product]
                    log(c, "end", t)
                    running.append((c, day_start, t))
                elif u < p_end + 0.03:
                    c.status = PAUSED
                    log(c, "pause", t)
                    running.append((c, day_start, t))
                elif u < p_end + 0.09:
                    kind = rng.random()
                    if kind < 0.45:
                        c.budget_cents = int(max(30, round(c.budget_cents / 100 * rng.uniform(0.6, 1.6)))) * 100
                    elif kind < 0.7:
                        c.target_roi_cents, c.roi_choice = self._target(rng, c.product)
                    elif kind < 0.8:
                        c.is_tagged = not c.is_tagged
                    # else: a no-op update (same settings re-saved): starts no version
                    log(c, "update", t)
                    running.append((c, day_start, day_end))
                else:
                    running.append((c, day_start, day_end))
            else:  # paused
                if u < 0.06:
                    c.status = ENDED
                    del self.live_by_product[c.product]
                    log(c, "end", t)
                elif u < 0.45:
                    c.status = RUNNING
                    log(c, "resume", t)
                    running.append((c, t, day_end))

        # New campaigns: a burst of launches on the first day, then a steady trickle.
        live_per_merchant = np.zeros(len(w.merchant_ids), dtype=np.int64)
        for c in self.campaigns:
            if c.status != ENDED:
                live_per_merchant[c.merchant] += 1
        p_create = 0.3 if k == 0 else 0.025
        candidates = np.flatnonzero(expected_gmv_cents > 0)
        draws = rng.random(len(candidates))
        for p, u in zip(candidates, draws, strict=False):
            if u >= p_create or p in self.live_by_product:
                continue
            m = int(w.product_merchant[p])
            if live_per_merchant[m] >= w.plan_quota[m]:
                continue
            target, choice = self._target(rng, int(p))
            c = Campaign(number=len(self.campaigns) + 1, product=int(p), merchant=m, status=RUNNING,
                         budget_cents=self._budget(rng, int(p), expected_gmv_cents[p], target),
                         target_roi_cents=target, roi_choice=choice,
                         is_tagged=bool(rng.random() < 0.45), created_k=k)
            self.campaigns.append(c)
            self.live_by_product[c.product] = c
            live_per_merchant[m] += 1
            t = self._change_time(rng, day_start)
            log(c, "create", t)
            running.append((c, t, day_end))
        changes.sort(key=lambda row: (row[0], row[1]))
        return DayPlan(changes=changes, running=[r for r in running if r[2] > r[1]])
