"""A gate's sentence belongs to its expectation by name, never by position (issue 38):
inserting an expectation moves no sentence, and a sentence naming no expectation is refused."""

from __future__ import annotations

import great_expectations.expectations as gxe
import pandas as pd
import pytest

from expectations.runner import Check, named, validate

FRAME = pd.DataFrame({"amount": [1, 2], "known": [True, False]})


def _check(inserted: bool) -> Check:
    expectations = [
        named("known", gxe.ExpectColumnValuesToBeInSet(column="known", value_set=[True]))
    ]
    if inserted:  # a new check of the same frame, first in the list
        expectations.insert(0, gxe.ExpectColumnValuesToBeBetween(column="amount", min_value=5))
    return Check(
        "products",
        FRAME,
        expectations,
        where="products dt=2024-08-02",
        explain={
            "known": lambda f: f"{(~f.known).sum()} product names a merchant missing from merchants"
        },
    )


def test_inserting_an_expectation_moves_no_sentence():
    before, _ = validate("raw", [_check(inserted=False)])
    after, _ = validate("raw", [_check(inserted=True)])
    assert [f.summary for f in before.findings] == [
        "1 product names a merchant missing from merchants"
    ]
    assert [f.summary for f in after.findings] == [
        # GX's own words, described
        "products dt=2024-08-02: column amount is not ≥ 5.0 in 2 rows (found 1, 2)",
        "1 product names a merchant missing from merchants",
    ]


def test_a_sentence_for_no_expectation_is_refused():
    with pytest.raises(ValueError, match="explanations"):
        Check(
            "c",
            FRAME,
            [gxe.ExpectColumnValuesToBeInSet(column="known", value_set=[True])],
            explain={"known": lambda f: "never attached"},
        )


def test_a_hostile_file_name_in_a_finding_is_text_on_the_data_docs_page(tmp_path):
    """A partition entry named like markup reaches the raw gate's warning and its page
    escaped (the pages are autoescaped templates)."""
    import datetime as dt

    from expectations.gates import raw_gate
    from fullsite.layout import Layout

    day, evil = dt.date(2024, 8, 2), "<img src=x onerror=alert(1)>.dat"
    layout = Layout(tmp_path)
    folder = layout.raw("clicks", day)
    folder.mkdir(parents=True)
    (folder / evil).write_text("not parquet")
    result = raw_gate(layout, day, f"{day}-test")
    assert any(evil in f.summary for f in result.warnings)
    page = open(result.docs).read()
    assert evil not in page and "&lt;img src=x onerror=alert(1)&gt;.dat" in page
