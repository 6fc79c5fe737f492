"""Which published builds are kept, which one is the spare a night builds on, and which go
(orchestration/builds.py, D50): a rule on names and dates alone."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from fullsite.layout import Layout
from orchestration import builds
from orchestration.builds import BuildFile, sort_out


def _build(day: str, n: int) -> BuildFile:
    """The n-th build (stamps sort as n), with data through ``day``."""
    return BuildFile(Path(f"{day}.{n:03d}.duckdb"), dt.date.fromisoformat(day), f"{n:03d}")


NIGHTS = [
    _build("2024-06-29", 1),
    _build("2024-06-30", 2),  # June's last build
    _build("2024-07-01", 3),
    _build("2024-07-02", 4),
    _build("2024-07-02", 5),  # a rerun of the same night: the later one is July's last
]


def _days(files: list[BuildFile]) -> list[str]:
    return [f.stamp for f in files]


def test_the_published_build_and_month_ends_are_kept_and_the_newest_other_is_the_spare():
    out = sort_out(NIGHTS, "005", recent=1, months=24)
    assert _days(out.kept) == ["002", "005"]
    assert out.spare == NIGHTS[3]
    assert _days(out.dropped) == ["001", "003"]


def test_recent_builds_kept_push_the_spare_back():
    out = sort_out(NIGHTS, "005", recent=3, months=0)
    assert _days(out.kept) == ["003", "004", "005"]
    assert out.spare == NIGHTS[1] and _days(out.dropped) == ["001"]


def test_month_end_builds_are_kept_for_the_newest_months_only():
    out = sort_out(NIGHTS, "005", recent=1, months=1)
    assert _days(out.kept) == ["005"]  # July's last is the published one; June is too old
    assert out.spare == NIGHTS[3]


def test_a_build_never_published_goes_and_is_never_the_spare():
    """A run killed between filing its build and linking it: newer than the published one."""
    out = sort_out(NIGHTS, "003", recent=1, months=0)
    assert _days(out.kept) == ["003"] and out.spare == NIGHTS[1]
    assert _days(out.dropped) == ["001", "004", "005"]


def test_no_spare_when_everything_is_kept():
    out = sort_out(NIGHTS[:2], "002", recent=2, months=0)
    assert out.spare is None and out.dropped == []


@pytest.mark.parametrize(
    "name, value", [("FULLSITE_KEEP_RECENT_BUILDS", "0"), ("FULLSITE_KEEP_MONTH_END_BUILDS", "x")]
)
def test_a_retention_setting_that_is_not_a_count_is_refused_in_words(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=f"{name} must be a whole number"):
        builds.retention()


def test_names_carry_the_date_and_the_time_of_the_build(tmp_path):
    made = builds.stamp(dt.datetime(2024, 7, 2, 23, 5, 1, 42, tzinfo=dt.UTC))
    (tmp_path / "warehouse_builds").mkdir()
    for name in (f"2024-07-02.{made}.abcdef012345.duckdb", "notes.duckdb", "x.y.z.duckdb"):
        (tmp_path / "warehouse_builds" / name).touch()
    (found,) = builds.listing(Layout(tmp_path))
    assert found.data_through == dt.date(2024, 7, 2) and found.stamp == "20240702T230501000042Z"
