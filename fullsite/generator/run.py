"""``fullsite generate``: stream a data set day by day into the raw landing zone."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from fullsite.contract import EVENT_TABLES, SCHEMAS
from fullsite.files import write_atomic
from fullsite.generator.arrow import decimal_from_cents, ids, roi_from_cents, timestamps
from fullsite.generator.campaigns import CampaignBook
from fullsite.generator.events import generate_day
from fullsite.generator.landing import LandingZone
from fullsite.generator.scales import SCALES, DirtRates
from fullsite.generator.timeutil import day_number, local_midnight_us
from fullsite.generator.world import CATEGORY_NAMES, TIER_NAMES, World, build_world
from fullsite.layout import Layout


def _write(table: pa.Table, data_root: Path, name: str, day: dt.date, file: str) -> None:
    folder = Layout(data_root).raw(name, day)
    folder.mkdir(parents=True, exist_ok=True)
    sink = pa.BufferOutputStream()
    pq.write_table(table.cast(SCHEMAS[name]), sink, compression="zstd")
    write_atomic(folder / file, sink.getvalue().to_pybytes())  # a reader never sees half a file


def _merchants(world: World, k: int) -> pa.Table:
    return pa.table(
        {
            "merchant_id": world.merchant_ids,
            "merchant_name": world.merchant_names,
            "merchant_tier": TIER_NAMES[world.merchant_tier_on(k)],
            "registered_date": pa.array(world.registered_day.astype("datetime64[D]")),
            "plan_quota": pa.array(world.plan_quota, type=pa.int32()),
        },
        schema=SCHEMAS["merchants"],
    )


def _products(world: World, day_no: int) -> pa.Table:
    listed = np.flatnonzero(world.listed_day <= day_no)
    return pa.table(
        {
            "product_id": world.product_ids[listed],
            "merchant_id": world.merchant_ids[world.product_merchant[listed]],
            "category": CATEGORY_NAMES[world.category[listed]],
            "is_standard": world.is_standard[listed],
            "listed_date": pa.array(world.listed_day[listed].astype("datetime64[D]")),
            "price": decimal_from_cents(world.price_cents[listed]),
        },
        schema=SCHEMAS["products"],
    )


def _changes(rows: list, first_serial: int) -> pa.Table:
    if not rows:
        return SCHEMAS["campaign_changes"].empty_table()
    cols = list(zip(*rows, strict=True))
    return pa.table(
        {
            "change_id": ids("CH", np.arange(first_serial, first_serial + len(rows))),
            "change_time": timestamps(np.array(cols[0], dtype=np.int64)),
            "campaign_id": pa.array(cols[1], pa.string()),
            "merchant_id": pa.array(cols[2], pa.string()),
            "product_id": pa.array(cols[3], pa.string()),
            "action": pa.array(cols[4], pa.string()),
            "daily_budget": decimal_from_cents(np.array(cols[5], dtype=np.int64)),
            "target_roi": roi_from_cents(np.array(cols[6], dtype=np.int64)),
            "roi_choice": pa.array([str(x) for x in cols[7]], pa.string()),
            "is_tagged": pa.array(cols[8], pa.bool_()),
        },
        schema=SCHEMAS["campaign_changes"],
    )


# in raw/: what a continuation needs (hidden from every stage: not a table)
STATE = "_generator.json"


@dataclass
class Run:
    """One synthetic world and where its days stand: enough to land its next nights."""

    start: dt.date
    scale: str
    seed: int
    world_days: int  # the days the world was drawn for (its bursts, tier changes, listings)
    days: int = 0  # the days landed so far
    rates: DirtRates = field(default_factory=DirtRates)

    def save(self, data_root: Path) -> None:
        body = {
            "start": self.start.isoformat(),
            "scale": self.scale,
            "seed": self.seed,
            "world_days": self.world_days,
            "days": self.days,
            "rates": asdict(self.rates),
        }
        write_atomic(Layout(data_root).landing / STATE, json.dumps(body, indent=1) + "\n")

    @classmethod
    def load(cls, data_root: Path) -> Run:
        path = Layout(data_root).landing / STATE
        try:
            body = json.loads(path.read_text())
        except (OSError, ValueError):
            raise ValueError(f"no generator state in {path}: generate the data set first") from None
        return cls(
            dt.date.fromisoformat(body["start"]),
            body["scale"],
            body["seed"],
            body["world_days"],
            body["days"],
            DirtRates(**body["rates"]),
        )


def _day(ctx: dict, run: Run, k: int, data_root: Path | None) -> dict[str, int]:
    """Day ``k`` of the world: its events land (late ones later), its campaigns change. Written
    when ``data_root`` is given; otherwise only played, to bring the world to the next day."""
    sc, world, book, landing = SCALES[run.scale], ctx["world"], ctx["book"], ctx["landing"]
    day = run.start + dt.timedelta(days=k)
    day_no = day_number(day)
    rng = np.random.default_rng([run.seed, 1, k])
    day_start = local_midnight_us(day)
    plan = book.plan_day(rng, k, day_no, day_start)
    tables = generate_day(
        rng,
        world,
        k,
        day_no,
        day_start,
        plan,
        sc.events_per_day,
        sc.users,
        book.bids([c for c, _, _ in plan.running]),
    )
    counts = {}
    for name in EVENT_TABLES:
        landing.add(name, tables[name], rng)
        on_time, extra = landing.land(name, day_no, rng)
        if data_root:
            _write(on_time, data_root, name, day, "part-0000.parquet")
            if extra.num_rows:
                _write(extra, data_root, name, day, "part-0001.parquet")
        counts[name] = on_time.num_rows + extra.num_rows
    changes = _changes(plan.changes, ctx["change_serial"])
    ctx["change_serial"] += changes.num_rows
    for name, table in (
        ("merchants", _merchants(world, k)),
        ("products", _products(world, day_no)),
        ("campaign_changes", changes),
    ):
        if data_root:
            _write(table, data_root, name, day, "part-0000.parquet")
        counts[name] = table.num_rows
    return counts


def _world(run: Run) -> dict:
    sc = SCALES[run.scale]
    world = build_world(sc, run.seed, run.start, run.world_days)
    return {
        "world": world,
        "book": CampaignBook(world, events_per_day=sc.events_per_day),
        "landing": LandingZone(run.rates),
        "change_serial": 1,
    }


def _land(
    run: Run, data_root: Path, first: int, days: int, progress: Callable[[int, int], None] | None
) -> dict:
    """Days ``first`` … ``first + days - 1`` written (those before played, not written)."""
    ctx = _world(run)
    counts = {name: 0 for name in SCHEMAS}
    for k in range(first + days):
        landed = _day(ctx, run, k, data_root if k >= first else None)
        if k >= first:
            for name, n in landed.items():
                counts[name] += n
            if progress:
                progress(k - first + 1, days)
    run.days = first + days
    run.save(data_root)
    return counts


def generate(
    data_root: str | Path,
    start: dt.date,
    days: int,
    scale: str = "small",
    seed: int = 7,
    rates: DirtRates | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Write ``days`` days of raw partitions starting at ``start``; returns row counts.

    Deterministic for (start, days, scale, seed, rates): the same bytes every time. Memory
    holds one day of events plus the few rows waiting to land late. The world's state is
    kept in ``raw/_generator.json`` (``generate_next`` lands its next nights).
    """
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r} (choose from {', '.join(SCALES)})")
    if days < 1:
        raise ValueError("--days must be at least 1")
    data_root = Path(data_root)
    raw = data_root / "raw"
    for name in SCHEMAS:  # a re-generation replaces the data set, never mixes two
        shutil.rmtree(raw / name, ignore_errors=True)
    run = Run(start, scale, seed, world_days=days, rates=rates or DirtRates())
    return _land(run, data_root, 0, days, progress)


def generate_next(
    data_root: str | Path, days: int, progress: Callable[[int, int], None] | None = None
) -> dict:
    """Land the next ``days`` nights of the data root's own world (issue 44: an operator
    rehearses a normal night): the days before are played again, not written, so the new
    nights are exactly what a longer run of the same world lands — deterministic, from the
    data root's generator state alone."""
    if days < 1:
        raise ValueError("--days must be at least 1")
    data_root = Path(data_root)
    run = Run.load(data_root)
    return _land(run, data_root, run.days, days, progress)
