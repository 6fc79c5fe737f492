"""Product attributes by date (decision D14): the same whichever run computes a date."""

from __future__ import annotations

import datetime as dt

from fullsite.layout import Layout
from spark_jobs.dimensions import products_as_of
from tests.rawdata import write

FIRST = dt.date(2024, 7, 10)  # the first ingest: the first run recomputes 07-08 … 07-10
DAY = dt.timedelta(days=1)


def _product(pid, category, standard=True):
    return dict(
        product_id=pid,
        merchant_id="M1",
        category=category,
        is_standard=standard,
        listed_date=dt.date(2024, 6, 1),
        price="10.00",
    )


SNAPSHOTS = {
    FIRST: [_product("P1", "toys"), _product("P3", "shoes")],
    FIRST + DAY: [
        _product("P1", "books", standard=False)
    ],  # P1 changes class and category; P3 is away
    FIRST + 2 * DAY: [
        _product("P1", "books", standard=False),
        _product("P2", "garden"),  # P2 first seen
        _product("P3", "boots"),
    ],  # P3 is back
    FIRST + 3 * DAY: [_product("P1", "games"), _product("P2", "tools")],  # P3 gone for good
}


def _attributes(spark, root, days, D, include_later=True):
    df = products_as_of(spark, Layout(root), days, D, include_later)
    return {(r.product_id, r.business_date): (r.category, r.is_standard) for r in df.collect()}


def test_attributes_of_a_date_do_not_depend_on_the_run(tmp_path, spark):
    for day, rows in SNAPSHOTS.items():
        write(tmp_path, "products", day, rows)
    days = [FIRST - 2 * DAY + k * DAY for k in range(6)]  # 07-08 … 07-13

    backfill = _attributes(spark, tmp_path, days, days[-1])  # one pass up to the last date
    nightly = {}
    for D in days[2:]:  # each run recomputes D-2 … D; the last run to recompute a date wins
        nightly.update(_attributes(spark, tmp_path, [D - 2 * DAY, D - DAY, D], D))

    # The backfill also finds products that first appear after d + 2 (P2 on 07-08 and 07-09):
    # no event of theirs on d can have been accepted, so no fact uses those rows.
    assert {k: backfill[k] for k in nightly} == nightly
    assert set(backfill) - set(nightly) == {("P2", FIRST - 2 * DAY), ("P2", FIRST - DAY)}
    # before the first ingest: the first snapshot (not a later run's one)
    assert backfill[("P1", FIRST - 2 * DAY)] == backfill[("P1", FIRST - DAY)] == ("toys", True)
    assert backfill[("P1", FIRST + DAY)] == ("books", False)
    # first seen later: the earliest later snapshot that has it, for its events' facts
    assert nightly[("P2", FIRST)] == nightly[("P2", FIRST + DAY)] == ("garden", True)
    assert backfill[("P2", FIRST + 3 * DAY)] == ("tools", True)
    # away from one snapshot: the next one that has it again; gone for good: no attributes
    assert backfill[("P3", FIRST)] == ("shoes", True) and backfill[("P3", FIRST + DAY)] == (
        "boots",
        True,
    )
    assert (
        backfill[("P3", FIRST + 2 * DAY)] == ("boots", True)
        and ("P3", FIRST + 3 * DAY) not in backfill
    )


def test_the_lifecycle_lists_only_the_products_of_the_dates_snapshot(tmp_path, spark):
    for day, rows in SNAPSHOTS.items():
        write(tmp_path, "products", day, rows)
    days = [FIRST - DAY, FIRST, FIRST + 2 * DAY]

    listed = _attributes(spark, tmp_path, days, FIRST + 3 * DAY, include_later=False)

    assert listed == {
        ("P1", FIRST - DAY): ("toys", True),
        ("P1", FIRST): ("toys", True),
        ("P1", FIRST + 2 * DAY): ("books", False),
        ("P2", FIRST + 2 * DAY): ("garden", True),
        ("P3", FIRST - DAY): ("shoes", True),
        ("P3", FIRST): ("shoes", True),
        ("P3", FIRST + 2 * DAY): ("boots", True),
    }
