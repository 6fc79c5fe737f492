"""The one parameter source loads with exact types."""
from decimal import Decimal

from fullsite import rules


def test_parameters_are_exact_numbers():
    assert rules.param("protection_trigger") == Decimal("0.90")
    assert rules.param("min_protected_spend") == Decimal("100.00")
    assert rules.param("window_spend_days") == 7 and isinstance(rules.param("window_spend_days"), int)
    assert not any(isinstance(v, float) for v in rules.parameters().values())


def test_lifecycle_thresholds_by_class():
    t = rules.lifecycle_thresholds()
    assert t["standard"].cold_start_max_cum_orders == 30
    assert t["non_standard"].growth_gmv_ratio == Decimal("1.3")


def test_rebate_table_has_a_zero_floor_for_every_tier():
    tiers = {b.merchant_tier for b in rules.rebate_brackets()}
    assert tiers == {"brand", "high_potential", "sme"}
    for tier in tiers:
        assert any(b.merchant_tier == tier and b.min_base == 0 for b in rules.rebate_brackets())
