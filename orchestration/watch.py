"""What the unattended sensors decide (issue 36), apart from Dagster so it can be tested
with any clock:

* ``next_night`` — the one night that may run next (the day after the last published, or
  the first landed night of a new data root), and whether it is complete (D43). Nights run
  in sequence: a later night that landed never jumps an earlier one that did not; the gap
  is said instead.
* ``overdue`` — the next night, not published ``publish_deadline_hours`` after the end of
  its ingest date: told once (orchestration/alerts.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from shlex import quote
from zoneinfo import ZoneInfo

from fullsite import landing, rules
from fullsite.contract import BUSINESS_TZ
from fullsite.layout import Layout
from orchestration import state
from orchestration.alerts import Alert


@dataclass(frozen=True)
class Decision:
    night: dt.date | None  # the night to run now, if complete
    said: str  # why (what it waits for, a gap), in words


def next_expected(layout: Layout) -> dt.date | None:
    """The night that must run next: the day after the last published, or (a new data root)
    the first night that landed anything."""
    last = state.last_success(layout.root)
    if last is not None:
        return last + dt.timedelta(days=1)
    days = landing.landed_days(layout)
    return days[0] if days else None


def next_night(layout: Layout, now: dt.datetime) -> Decision:
    day = next_expected(layout)
    if day is None:
        return Decision(None, "nothing has landed yet")
    hours = int(rules.param("event_landing_deadline_hours"))
    night = landing.night(layout, day, now, hours)
    if night.complete:
        return Decision(day, night.why())
    later = [
        d
        for d in landing.landed_days(layout)
        if d > day and landing.night(layout, d, now, hours).complete
    ]
    gap = (
        f"; later nights that landed wait for it (a gap, never jumped): "
        f"{', '.join(str(d) for d in later[:3])}"
        f"{' …' if len(later) > 3 else ''}"
        if later
        else ""
    )
    return Decision(None, night.why() + gap)


def publish_deadline(day: dt.date) -> dt.datetime:
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), ZoneInfo(BUSINESS_TZ))
    return end + dt.timedelta(hours=int(rules.param("publish_deadline_hours")))


def stale(layout: Layout, now: dt.datetime) -> str | None:
    """When the next night was due so long ago that nobody is feeding this data root (a copy,
    an archive, the demo): said once, in words, instead of a lateness alert (issue 44)."""
    day = next_expected(layout)
    if day is None:
        return None
    due = publish_deadline(day)
    if now - due <= dt.timedelta(hours=int(rules.param("deadline_stale_after_hours"))):
        return None
    return (
        f"the next night, {day}, was due {due:%Y-%m-%d %H:%M} Asia/Shanghai, {(now - due).days} "
        "days ago: this data root is not fed (a copy or an archive), so no lateness is told"
    )


def overdue(layout: Layout, now: dt.datetime) -> Alert | None:
    """The alert for the next night when its publication deadline has passed (recently: a
    night due long ago is ``stale``, not late)."""
    day = next_expected(layout)
    if day is None or now < publish_deadline(day) or stale(layout, now):
        return None
    why = next_night(layout, now).said
    return Alert(
        key=f"late/{day}",
        ingest_date=str(day),
        status="late",
        stage="publication",
        summary=f"not published by its deadline {publish_deadline(day):%Y-%m-%d %H:%M} "
        f"Asia/Shanghai",
        findings=[why],
        next_step=f"See what has landed: fullsite status --data-root {quote(str(layout.root))}; "
        "the landing sensor starts the night once its files are complete (or run it by "
        f"hand: fullsite run --data-root {quote(str(layout.root))} --date {day})",
    )
