"""Publication whose cost does not grow with history (issue 46, D50): a night builds on the
spare build instead of copying the published file, hashes only the parts it rebuilt, and
publishes by filing its build and linking the published name to it."""

from __future__ import annotations

import datetime as dt
import os

import duckdb

from fullsite.layout import Layout
from fullsite.published import BUILD_RECORD, build_of, content_fingerprint, read_build
from orchestration import builds, warehouse
from tests.conftest import LATER, NEXT, PUBLISHED, copy_root
from tests.published import figures
from tests.runs import Reader

from .test_incremental import _dbt_dates


def _record(path):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return read_build(con), content_fingerprint(con)
    finally:
        con.close()


def test_a_night_on_the_spare_equals_a_build_from_scratch(a_night_later, tmp_path):
    """LATER starts from the spare NEXT left (the published_root backfill's build) and rebuilds
    from NEXT's first date on, as well as its own: it ends as a full build of the same data."""
    made, full_hash = _record(a_night_later / "warehouse.duckdb")
    assert (made.built_on, made.data_through) == ("spare", LATER)
    assert made.rebuilt_from == LATER - dt.timedelta(days=2)
    assert _dbt_dates(a_night_later)["rebuild_from"] == str(NEXT - dt.timedelta(days=2))
    assert made.content_fingerprint == full_hash  # the parts add up to every row's hash

    full = copy_root(a_night_later, tmp_path / "full")
    con = duckdb.connect(str(full / "warehouse.duckdb"))
    con.execute(f"drop table {BUILD_RECORD}")  # no longer vouched for: dbt builds it all
    con.close()
    layout = Layout(full)
    assert warehouse.run_dbt(layout, LATER, LATER).success
    warehouse.finalize_staging(layout, LATER)
    warehouse.publish(layout)
    assert figures(a_night_later / "warehouse.duckdb") == figures(full / "warehouse.duckdb")
    again, _ = _record(full / "warehouse.duckdb")
    assert again.built_on == "nothing" and again.content_fingerprint == made.content_fingerprint


def test_the_published_file_is_the_newest_build_and_the_one_before_waits(a_night_later):
    layout = Layout(a_night_later)
    kept = builds.listing(layout)
    assert [f.data_through for f in kept] == [NEXT, LATER]  # PUBLISHED's build was the spare
    assert os.stat(kept[-1].path).st_ino == os.stat(layout.warehouse).st_ino  # a hard link
    published, _ = _record(kept[-1].path)
    assert builds.stamp(published.previous_built_at) == kept[0].stamp
    said = builds.summary(layout)  # fullsite status
    assert said == f"1 kept, data through {LATER}; the next night builds on the spare of {NEXT}"


def test_a_spare_a_reader_holds_is_left_to_it_and_the_night_copies(next_night_root, tmp_path):
    """The analyst who opened the published file two nights ago still reads it: the night
    does not write under them."""
    root = copy_root(next_night_root, tmp_path / "root")
    layout = Layout(root)
    (spare,) = [f for f in builds.listing(layout) if f.data_through == PUBLISHED]
    reader = Reader(spare.path, "select count(*) from marts.fct_product_daily")
    try:
        seen = reader.look()
        vars_ = warehouse.prepare_staging(layout, LATER, LATER)
        assert reader.look() == seen
    finally:
        reader.close()
    made = build_of(layout.staging_warehouse)
    assert made.data_through == NEXT  # a copy of the published file
    assert vars_["rebuild_from"] == str(LATER - dt.timedelta(days=2))
    assert not spare.path.exists()  # the reader keeps it; nobody else will

    warehouse.prepare_staging(layout, LATER, LATER)  # no spare left: a copy again
    assert build_of(layout.staging_warehouse).data_through == NEXT
