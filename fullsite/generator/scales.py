"""Data-set sizes (pipeline.md, "Scales") and the dirt rates of the generator."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    merchants: int
    products: int
    events_per_day: int  # all four event tables together, before dirt
    categories: int
    users: int
    # The calibrated marketplace is money × 1 and campaigns × 1 (docs/generator.md). The
    # tests' tiny scale is denser on purpose: eight days of 20 k events must reach rebate
    # brackets, protected spend and every campaign action, which real prices cannot.
    money: float = 1.0  # prices and click costs × this
    campaign_density: float = 1.0  # the share of products under a campaign × this


SCALES = {
    "tiny": Scale(
        merchants=20,
        products=200,
        events_per_day=20_000,
        categories=4,
        users=3_000,
        money=50.0,
        campaign_density=6.0,
    ),
    "small": Scale(
        merchants=200, products=3_000, events_per_day=300_000, categories=12, users=40_000
    ),
    "medium": Scale(
        merchants=1_000, products=20_000, events_per_day=3_000_000, categories=30, users=300_000
    ),
    "large": Scale(
        merchants=3_000, products=60_000, events_per_day=10_000_000, categories=60, users=1_000_000
    ),
    # issue 22: three times large, everything scaled alike
    "xlarge": Scale(
        merchants=9_000,
        products=180_000,
        events_per_day=30_000_000,
        categories=180,
        users=3_000_000,
    ),
}


@dataclass(frozen=True)
class DirtRates:
    """Share of a partition's rows affected by each kind of dirt (all small on purpose:
    the raw gate fails a partition whose quarantined share is above 1 % and 20 rows)."""

    redelivery_same_partition: float = 0.004
    redelivery_later_partition: float = 0.003
    conflicting_redelivery: float = 0.0005
    late_1_day: float = 0.025
    late_2_days: float = 0.008
    late_beyond: float = 0.0008  # 3 to 5 days: quarantined as too_late
    bad_row: float = 0.0002  # per validation reason
    # Every day also carries at least this many rows of each reason that applies to a table,
    # so even a one-day tiny set shows every quarantine reason.
    guaranteed_bad_per_reason: int = 1
