"""The one parameter source loads with exact types."""

from decimal import Decimal

import pytest

from fullsite import rules


def test_parameters_are_exact_numbers():
    assert rules.param("protection_trigger") == Decimal("0.90")
    assert rules.param("min_protected_spend") == Decimal("100.00")
    assert rules.param("window_spend_days") == 7 and isinstance(
        rules.param("window_spend_days"), int
    )
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


def test_every_parameter_name_in_the_code_is_a_rule_parameter():
    """A misspelt name fails here (and at build time: the dbt macro stops on an unknown name,
    rules.param raises), never as a silent NULL or default."""
    import re

    from fullsite.rules import DBT_PROJECT_DIR, REPO_ROOT, parameters

    known = set(parameters())
    sql = [
        (f, m)
        for f in DBT_PROJECT_DIR.rglob("*.sql")
        for m in re.findall(r"""\b(?:int_)?param\(\s*['"]([^'"]+)['"]""", f.read_text())
    ]
    py = [
        (f, m)
        for d in ("fullsite", "spark_jobs", "expectations", "orchestration")
        for f in (REPO_ROOT / d).rglob("*.py")
        for m in re.findall(r"""\bparam\(\s*['"]([^'"]+)['"]""", f.read_text())
    ]
    assert len(sql) > 20 and len(py) > 10
    unknown = sorted({(str(f.relative_to(REPO_ROOT)), m) for f, m in sql + py if m not in known})
    assert unknown == [], unknown


def test_an_unknown_parameter_fails_loudly():
    with pytest.raises(KeyError, match="unknown rule parameter 'tag_min_peer'"):
        rules.param("tag_min_peer")


def test_dbt_sources_are_the_registered_curated_tables():
    """One registry of the curated layer (fullsite/curated.py):
    dbt's sources list the same tables."""
    import yaml

    from fullsite import curated
    from fullsite.rules import DBT_PROJECT_DIR

    sources = yaml.safe_load((DBT_PROJECT_DIR / "models" / "staging" / "_staging.yml").read_text())[
        "sources"
    ]
    listed = next(s for s in sources if s["name"] == "curated")["tables"]
    assert tuple(t["name"] for t in listed) == curated.DBT_SOURCES


def test_seed_text_has_no_quote_dbt_spark_would_break_on():
    """dbt-spark writes seed rows into SQL literals without escaping: one apostrophe in a
    note broke the Spark build (tests/dbt/test_dbt_on_spark.py)."""
    from fullsite.rules import SEEDS_DIR

    assert [f.name for f in SEEDS_DIR.glob("*.csv") if "'" in f.read_text()] == []
