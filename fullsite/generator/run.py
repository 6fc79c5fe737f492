"""``fullsite generate``: stream a data set day by day into the raw landing zone."""
from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from fullsite.contract import EVENT_TABLES, SCHEMAS
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
    tmp = folder / f".{file}.tmp"
    pq.write_table(table.cast(SCHEMAS[name]), tmp, compression="zstd")
    os.replace(tmp, folder / file)  # a reader never sees half a file


def _merchants(world: World, k: int) -> pa.Table:
    return pa.table({
        "merchant_id": world.merchant_ids, "merchant_name": world.merchant_names,
        "merchant_tier": TIER_NAMES[world.merchant_tier_on(k)],
        "registered_date": pa.array(world.registered_day.astype("datetime64[D]")),
        "plan_quota": pa.array(world.plan_quota, type=pa.int32()),
    }, schema=SCHEMAS["merchants"])


def _products(world: World, day_no: int) -> pa.Table:
    listed = np.flatnonzero(world.listed_day <= day_no)
    return pa.table({
        "product_id": world.product_ids[listed],
        "merchant_id": world.merchant_ids[world.product_merchant[listed]],
        "category": CATEGORY_NAMES[world.category[listed]],
        "is_standard": world.is_standard[listed],
        "listed_date": pa.array(world.listed_day[listed].astype("datetime64[D]")),
        "price": decimal_from_cents(world.price_cents[listed]),
    }, schema=SCHEMAS["products"])


def _changes(rows: list, first_serial: int) -> pa.Table:
    if not rows:
        return SCHEMAS["campaign_changes"].empty_table()
    cols = list(zip(*rows, strict=True))
    return pa.table({
        "change_id": ids("CH", np.arange(first_serial, first_serial + len(rows))),
        "change_time": timestamps(np.array(cols[0], dtype=np.int64)),
        "campaign_id": pa.array(cols[1], pa.string()), "merchant_id": pa.array(cols[2], pa.string()),
        "product_id": pa.array(cols[3], pa.string()), "action": pa.array(cols[4], pa.string()),
        "daily_budget": decimal_from_cents(np.array(cols[5], dtype=np.int64)),
        "target_roi": roi_from_cents(np.array(cols[6], dtype=np.int64)),
        "roi_choice": pa.array([str(x) for x in cols[7]], pa.string()),
        "is_tagged": pa.array(cols[8], pa.bool_()),
    }, schema=SCHEMAS["campaign_changes"])


def generate(data_root: str | Path, start: dt.date, days: int, scale: str = "small", seed: int = 7,
             rates: DirtRates | None = None, progress: Callable[[int, int], None] | None = None) -> dict:
    """Write ``days`` days of raw partitions starting at ``start``; returns row counts.

    Deterministic for (start, days, scale, seed, rates): the same bytes every time. Memory
    holds one day of events plus the few rows waiting to land late.
    """
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r} (choose from {', '.join(SCALES)})")
    if days < 1:
        raise ValueError("--days must be at least 1")
    sc = SCALES[scale]
    data_root = Path(data_root)
    world = build_world(sc, seed, start, days)
    book = CampaignBook(world, events_per_day=sc.events_per_day)
    landing = LandingZone(rates or DirtRates())
    raw = data_root / "raw"
    for name in SCHEMAS:  # a re-generation replaces the data set, never mixes two
        shutil.rmtree(raw / name, ignore_errors=True)
    counts = {name: 0 for name in SCHEMAS}
    change_serial = 1
    for k in range(days):
        day = start + dt.timedelta(days=k)
        day_no = day_number(day)
        rng = np.random.default_rng([seed, 1, k])
        day_start = local_midnight_us(day)
        plan = book.plan_day(rng, k, day_no, day_start)
        tables = generate_day(rng, world, k, day_no, day_start, plan, sc.events_per_day, sc.users,
                              book.bids([c for c, _, _ in plan.running]))
        for name in EVENT_TABLES:
            landing.add(name, tables[name], rng)
            on_time, extra = landing.land(name, day_no, rng)
            _write(on_time, data_root, name, day, "part-0000.parquet")
            if extra.num_rows:
                _write(extra, data_root, name, day, "part-0001.parquet")
            counts[name] += on_time.num_rows + extra.num_rows
        changes = _changes(plan.changes, change_serial)
        change_serial += changes.num_rows
        for name, table in (("merchants", _merchants(world, k)), ("products", _products(world, day_no)),
                            ("campaign_changes", changes)):
            _write(table, data_root, name, day, "part-0000.parquet")
            counts[name] += table.num_rows
        if progress:
            progress(k + 1, days)
    return counts

