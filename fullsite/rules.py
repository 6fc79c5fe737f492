"""The one source of every business and gate parameter.

The values live in dbt seeds (``dbt_project/seeds``) so that dbt models ``ref()`` them;
Spark jobs, the gates and the generator read the very same files through this module.
Values are returned as ``Decimal`` (exact) or ``int``: never as float, because several of
them decide money comparisons.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path

from fullsite import settings

REPO_ROOT = Path(__file__).resolve().parents[1]
# The dbt project every stage reads its rules from: the repository's, unless an operator
# points FULLSITE_DBT_PROJECT at another copy (a corrected rule tried on a copy of a root).
DBT_PROJECT_DIR = Path(settings.get("FULLSITE_DBT_PROJECT") or REPO_ROOT / "dbt_project").resolve()
SEEDS_DIR = DBT_PROJECT_DIR / "seeds"


def _number(text: str) -> int | Decimal:
    return Decimal(text) if "." in text else int(text)


@cache
def parameters() -> dict[str, int | Decimal]:
    """``rule_parameters.csv`` as a name → exact number mapping."""
    with open(SEEDS_DIR / "rule_parameters.csv", newline="") as fh:
        return {row["parameter"]: _number(row["value"]) for row in csv.DictReader(fh)}


def param(name: str) -> int | Decimal:
    try:
        return parameters()[name]
    except KeyError:
        raise KeyError(
            f"unknown rule parameter {name!r} (see {SEEDS_DIR / 'rule_parameters.csv'})"
        ) from None


@dataclass(frozen=True)
class LifecycleThresholds:
    cold_start_max_cum_orders: int
    burst_min_orders_7d: int
    burst_gmv_ratio: Decimal
    growth_gmv_ratio: Decimal


@cache
def lifecycle_thresholds() -> dict[str, LifecycleThresholds]:
    """Per product class (``standard`` / ``non_standard``)."""
    out = {}
    with open(SEEDS_DIR / "lifecycle_thresholds.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            out[row["product_class"]] = LifecycleThresholds(
                int(row["cold_start_max_cum_orders"]),
                int(row["burst_min_orders_7d"]),
                Decimal(row["burst_gmv_ratio"]),
                Decimal(row["growth_gmv_ratio"]),
            )
    return out


@dataclass(frozen=True)
class RebateBracket:
    merchant_tier: str
    effective_from: str
    min_base: Decimal
    rebate_rate: Decimal


@cache
def rebate_brackets() -> tuple[RebateBracket, ...]:
    with open(SEEDS_DIR / "rebate_rates.csv", newline="") as fh:
        return tuple(
            RebateBracket(
                r["merchant_tier"],
                r["effective_from"],
                Decimal(r["min_base"]),
                Decimal(r["rebate_rate"]),
            )
            for r in csv.DictReader(fh)
        )
