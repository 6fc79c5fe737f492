"""The last successfully published ingest date, and the run lock of a data root.

What is published is read from the published file itself (its build record, issue 36): a
run killed in the instant after the file swap has published its night, whatever any side
file says. ``state/last_success.json`` is only the answer for a file an older version built.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
from contextlib import contextmanager
from pathlib import Path

from fullsite import landing
from fullsite.files import write_text_atomic
from fullsite.layout import Layout
from fullsite.published import Build, build_of


class RunRefused(Exception):
    """A run that the sequencing rules do not allow (reported in one line)."""


def _file(root: Path) -> Path:
    return Layout(root).last_success_file


def published_build(root: Path) -> Build | None:
    """The build record of the published warehouse (None: nothing published, or a file
    without one)."""
    return build_of(Layout(root).warehouse)


def last_success(root: Path) -> dt.date | None:
    """The last published ingest date: the published file's own, else the side file's."""
    made = published_build(root)
    if made is not None:
        return made.data_through
    f = _file(root)
    if not f.exists():
        return None
    return dt.date.fromisoformat(json.loads(f.read_text())["ingest_date"])


def set_last_success(root: Path, day: dt.date) -> None:
    f = _file(root)
    f.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(f, json.dumps({"ingest_date": day.isoformat()}))


def check_sequence(root: Path, first: dt.date) -> None:
    """A run for D needs D-1 to be the last success (or D itself: a re-run); the first
    run of a data root may start anywhere."""
    last = last_success(root)
    if last is None or first in (last, last + dt.timedelta(days=1)):
        return
    if first > last:
        raise RunRefused(
            f"cannot run {first}: the last successful run is {last}; run "
            f"{last + dt.timedelta(days=1)} next"
        )
    raise RunRefused(
        f"cannot run {first}: it is before the last successful run {last} (only {last} may be "
        f"re-run)"
    )


def check_restatement(root: Path, first: dt.date) -> dt.date:
    """A restatement re-processes ingests ``first`` … the last published one, all of which
    were processed before; returns that last ingest."""
    last = last_success(root)
    if last is None:
        raise RunRefused(
            f"cannot restate from {first}: nothing is published yet (backfill instead)"
        )
    if first > last:
        raise RunRefused(
            f"cannot restate from {first}: the last published night is {last}; "
            f"run {last + dt.timedelta(days=1)} next instead"
        )
    processed = landing.processed_days(Layout(root))
    if not processed or first < processed[0]:
        start = processed[0] if processed else last
        raise RunRefused(
            f"cannot restate from {first}: this data root's first processed night is {start}"
        )
    return last


@contextmanager
def run_lock(root: Path):
    """One run per data root at a time; the OS releases the lock if the process dies."""
    path = Layout(root).run_lock
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunRefused(f"another run holds {path}") from None
        yield
