"""Every published build as a file of its own, and the spare a night builds on (D50).

A build is published as ``<root>/warehouse_builds/<data through>.<built at>.<build id>.duckdb``
and ``<root>/warehouse.duckdb`` becomes a hard link to it in one ``os.replace``: analysts
open the same one file as before, and a reader holding the old build keeps its snapshot.

Old builds are kept by an explicit rule (``FULLSITE_KEEP_RECENT_BUILDS``,
``FULLSITE_KEEP_MONTH_END_BUILDS``): the newest builds, and the last build of each recent
month, which is what finance closes a month from. Of the others, the newest is the *spare*:
the next night renames it into staging and dbt brings it up to date — it rebuilds every
date a build published since could have changed — instead of copying the whole published
file. The rest are deleted. A spare some reader still holds (DuckDB's lock says so) is left
to that reader, and the night copies the published file as before.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb

from fullsite import settings
from fullsite.layout import Layout
from fullsite.published import Build, build_of


@dataclass(frozen=True)
class BuildFile:
    path: Path
    data_through: dt.date
    stamp: str  # when it was built (UTC), as in its name: sorts as time


def stamp(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")


def file_name(made: Build) -> str:
    return f"{made.data_through.isoformat()}.{stamp(made.built_at)}.{made.build_id}.duckdb"


def listing(layout: Layout) -> list[BuildFile]:
    """The build files kept, oldest first (files named otherwise are not builds)."""
    found = []
    for path in layout.builds.glob("*.duckdb"):
        parts = path.name.split(".")
        try:
            through = dt.date.fromisoformat(parts[0])
        except ValueError:
            continue
        if len(parts) == 4:
            found.append(BuildFile(path, through, parts[1]))
    return sorted(found, key=lambda f: f.stamp)


def _count(name: str, least: int) -> int:
    value = settings.given(name)
    if not value.isdigit() or int(value) < least:
        raise ValueError(f"{name} must be a whole number of at least {least}, not {value!r}")
    return int(value)


def retention() -> tuple[int, int]:
    """How many of the newest builds, and of the newest months' last builds, are kept."""
    return (
        _count("FULLSITE_KEEP_RECENT_BUILDS", 1),
        _count("FULLSITE_KEEP_MONTH_END_BUILDS", 0),
    )


@dataclass(frozen=True)
class Sorted:
    kept: list[BuildFile]
    spare: BuildFile | None
    dropped: list[BuildFile]


def sort_out(files: list[BuildFile], published: str, recent: int, months: int) -> Sorted:
    """Which builds are kept, which one is the spare and which go, once the build stamped
    ``published`` is published. A build newer than it was never published (a run killed
    between filing and linking it): it goes."""
    older = [f for f in files if f.stamp <= published]
    keep = {f.path for f in older[-recent:]}
    month_ends: dict[tuple[int, int], BuildFile] = {}
    for f in older:  # oldest first: the last of a month wins
        month_ends[(f.data_through.year, f.data_through.month)] = f
    for month in sorted(month_ends)[-months:] if months else []:
        keep.add(month_ends[month].path)
    rest = [f for f in older if f.path not in keep]
    return Sorted(
        kept=[f for f in older if f.path in keep],
        spare=rest[-1] if rest else None,
        dropped=rest[:-1] + [f for f in files if f.stamp > published],
    )


def _sorted_now(layout: Layout, files: list[BuildFile]) -> tuple[Build, Sorted] | None:
    published = build_of(layout.warehouse)
    if published is None:
        return None
    return published, sort_out(files, stamp(published.built_at), *retention())


def summary(layout: Layout) -> str:
    """The builds kept, in words (``fullsite status``)."""
    try:
        now = _sorted_now(layout, listing(layout))
    except ValueError as exc:  # a retention setting that is not a count
        return str(exc)
    if now is None or not now[1].kept:
        return "none yet"
    kept, spare = now[1].kept, now[1].spare
    days = ", ".join(str(f.data_through) for f in kept)
    return f"{len(kept)} kept, data through {days}; the next night builds on " + (
        f"the spare of {spare.data_through}" if spare else "a copy of the published file"
    )


def _changed_since(published: Build, spare: BuildFile, files: list[BuildFile]) -> dt.date | None:
    """The first date any build published after ``spare`` could have changed: the least
    ``rebuilt_from`` along the chain of builds from the published one back to it (None when
    a link is missing or a build was built whole: the spare cannot be brought up to date)."""
    by_stamp = {f.stamp: f for f in files}
    made: Build | None = published
    dates = []
    for _ in range(len(files) + 1):
        if made is None or made.rebuilt_from is None or made.previous_built_at is None:
            return None
        dates.append(made.rebuilt_from)
        before = stamp(made.previous_built_at)
        if before == spare.stamp:
            return min(dates)
        made = build_of(by_stamp[before].path) if before in by_stamp else None
    return None


def _writable(path: Path) -> bool:
    """Whether this process can open ``path`` for writing: no reader holds it."""
    try:
        duckdb.connect(str(path)).close()
    except duckdb.IOException:
        return False
    return True


def take_spare(layout: Layout, staging: Path, project: str) -> dt.date | None:
    """Move the spare build to ``staging`` when it can be brought up to date; the first date
    dbt must rebuild from for it to equal the published build. None: no usable spare (the
    caller copies the published file)."""
    files = listing(layout)
    now = _sorted_now(layout, files)
    if now is None or now[1].spare is None:
        return None
    published, spare = now[0], now[1].spare
    made = build_of(spare.path)
    since = _changed_since(published, spare, files)
    if made is None or made.project_fingerprint != project or since is None:
        return None
    os.replace(spare.path, staging)
    if not _writable(staging):  # a reader opened it while it was published: theirs now
        staging.unlink()
        return None
    return since


def publish(layout: Layout, staging: Path) -> Path:
    """File the staging build among the builds and make it the published warehouse (the one
    atomic step), then apply the retention. Returns the build's file."""
    made = build_of(staging)
    if made is None:
        raise RuntimeError(f"{staging} has no build record: it cannot be published")
    layout.builds.mkdir(parents=True, exist_ok=True)
    filed = layout.builds / file_name(made)
    os.replace(staging, filed)
    link = layout.root / ".warehouse.duckdb.publishing"
    link.unlink(missing_ok=True)
    try:
        os.link(filed, link)
    except OSError:  # a file system without hard links: the published file is a copy
        shutil.copyfile(filed, link)
    os.replace(link, layout.warehouse)
    prune(layout)
    return filed


def prune(layout: Layout) -> None:
    """Delete the builds the retention does not keep, but the spare. A reader holding one
    keeps its snapshot; a file that cannot be deleted now is deleted by a later night."""
    now = _sorted_now(layout, listing(layout))
    for f in now[1].dropped if now else []:
        try:
            f.path.unlink()
        except OSError:
            pass
