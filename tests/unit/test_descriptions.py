"""Descriptions name parameters and never repeat their values (issue 35): a number copied
into prose goes stale, silently, the day the seed changes. Every description the dbt
project publishes is checked — models, columns, seeds, sources, exposures, doc blocks,
semantic models and metrics."""

from __future__ import annotations

import json
import re
from decimal import Decimal

from fullsite import dbt_artifacts, rules

# A number as prose writes it: 168, 1,000, 100.00, 0.9, 90 % (a share). Digits inside a
# name (campaign_roi_7d, round2) or a date are not numbers of prose.
NUMBER = re.compile(r"(?<![\w.\-/])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(\s*%)?(?![\w])")
# Numbers that are labels, not values: rules §3, criterion 2, published to 8 decimals.
LABEL = re.compile(r"(§\s*|criterion\s+)$", re.I)
PRECISION = re.compile(r"^\s*decimals")


def parameter_values() -> dict[Decimal, list[str]]:
    """Every value of the three parameter seeds, with the names that hold it."""
    values: dict[Decimal, list[str]] = {}
    for name, value in rules.parameters().items():
        values.setdefault(Decimal(value), []).append(name)
    for cls, t in rules.lifecycle_thresholds().items():
        for field in (
            "cold_start_max_cum_orders",
            "burst_min_orders_7d",
            "burst_gmv_ratio",
            "growth_gmv_ratio",
        ):
            values.setdefault(Decimal(getattr(t, field)), []).append(f"{cls}.{field}")
    for b in rules.rebate_brackets():
        values.setdefault(b.min_base, []).append(f"rebate_rates {b.merchant_tier} min_base")
        values.setdefault(b.rebate_rate, []).append(f"rebate_rates {b.merchant_tier} rate")
    values.pop(Decimal(0), None)  # 0 and 1 are arithmetic ("− 1", "> 0"), not settings
    values.pop(Decimal(1), None)
    return values


def repeated_values(text: str, values: dict[Decimal, list[str]]) -> list[str]:
    found = []
    for m in NUMBER.finditer(text):
        if LABEL.search(text[: m.start()]) or PRECISION.match(text[m.end() :]):
            continue
        number = Decimal(m.group(1).replace(",", "") + (m.group(2) or ""))
        if m.group(3):
            number /= 100
        if number in values:
            found.append(f"{m.group(0).strip()!r} is {' / '.join(dict.fromkeys(values[number]))}")
    return found


def descriptions() -> list[tuple[str, str]]:
    manifest = json.loads(dbt_artifacts.parsed().read_text())
    nodes = {
        **manifest["nodes"],
        **manifest["sources"],
        **manifest["exposures"],
        **manifest["semantic_models"],
        **manifest["metrics"],
    }
    out = []
    for uid, node in nodes.items():
        if node.get("resource_type") in ("test", "unit_test"):
            continue
        out.append((uid, node.get("description") or ""))
        out += [
            (f"{uid}.{c}", col.get("description") or "")
            for c, col in (node.get("columns") or {}).items()
        ]
        out += [
            (f"{uid}.{x['name']}", x.get("description") or "")
            for part in ("measures", "dimensions", "entities")
            for x in node.get(part) or []
        ]
    out += [(uid, doc["block_contents"]) for uid, doc in manifest["docs"].items()]
    return out


def test_no_description_repeats_a_parameter_value():
    values = parameter_values()
    stale = [
        f"{uid}: {what}" for uid, text in descriptions() for what in repeated_values(text, values)
    ]
    assert stale == [], "name the parameter instead:\n" + "\n".join(stale)


def test_the_check_finds_what_the_issue_found():
    values = parameter_values()
    for text in (
        "below 0.9 (the protection line)",
        "window spend ≥ 100.00 CNY",
        "last valid click within 168 h",
        "below 90 % of target",
        "among ≥ 5 category peers (≥ 1,000 impressions)",
        "the 7-day window",
    ):
        assert repeated_values(text, values), text
    for text in (
        "criterion 2: the product is a peer",
        "rules §3",
        "published to 8 decimals",
        "campaign_roi_7d, round2(x)",
        "gmv_after / gmv_before − 1",
        "close_date 2024-07-15",
        "below protection_trigger",
    ):
        assert not repeated_values(text, values), text
