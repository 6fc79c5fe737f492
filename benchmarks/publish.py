"""The publish path of one night against the size of the published warehouse (issue 46).

    python -m benchmarks.publish --data-root DIR --bytes N

Makes ``DIR`` once: a synthetic warehouse of about N bytes (``PRODUCTS`` products × as many
days as the size takes, of random figures, in ``marts.fct_product_daily``, a table dbt
rebuilds by date) published twice
by this project, so that the root holds what a night finds: the published build and the
spare one (D50). Then times, in this fresh process, what the next night does with them
besides dbt's own models: starting the staging file (``prepare_staging``: the spare taken,
or the published file copied), the build record with its content fingerprint
(``finalize_staging``), and the publication (``publish``: filing, linking, retention).
dbt's part — replacing the rebuilt dates — is done between them, untimed. Prints one JSON
line; each run is the night after the last.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import time
from pathlib import Path

import duckdb

from fullsite.layout import Layout
from fullsite.published import build_of
from orchestration.runlog import RunRecord
from orchestration.warehouse import finalize_staging, prepare_staging, publish, staging_db

LAST = dt.date(2024, 6, 10)  # the last night of the synthetic history (not a month end)
# Every size has the same products, so a night rebuilds as many rows whatever the size: the
# sizes differ by history (about 5 weeks at 100 MiB, 10 years at 10 GiB), which is what a
# night's publication must not pay for.
PRODUCTS = 100_000
# A row: a product, a day and four random figures, about 30 bytes on disk once compressed
# (random doubles do not compress; the keys do).
BYTES_PER_ROW = 30
MADE = ".synthetic-complete"


def _days_of(con, first: dt.date, last: dt.date, products: int) -> None:
    """dbt's part of a night: the rows of ``first … last`` replaced, appended as a night's are."""
    con.execute("delete from marts.fct_product_daily where business_date >= ?", [first])
    con.execute(
        """insert into marts.fct_product_daily
           select p, d::date, random(), random(), random(), random()
           from range(?::date, ?::date + 1, interval 1 day) t(d), range(?) s(p)""",
        [first, last, products],
    )


def _night(layout: Layout, day: dt.date, products: int) -> dict:
    """One night of the publish path: seconds per step (dbt's part untimed)."""
    seconds = {}
    start = time.perf_counter()
    dbt_vars = prepare_staging(layout, day, day)
    seconds["prepare"] = time.perf_counter() - start
    con = duckdb.connect(str(staging_db(layout)))
    _days_of(con, dt.date.fromisoformat(dbt_vars["rebuild_from"]), day, products)
    con.close()
    start = time.perf_counter()
    finalize_staging(layout, day)
    seconds["finalize"] = time.perf_counter() - start
    start = time.perf_counter()
    publish(layout)
    seconds["publish"] = time.perf_counter() - start
    return seconds


def _first_build(layout: Layout, days: int) -> None:
    """The staging file of a whole build: PRODUCTS × ``days`` up to LAST, in the order nights
    append them."""
    layout.staging.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(staging_db(layout)))
    try:
        con.execute("create schema marts")
        con.execute(
            """create table marts.fct_product_daily as
               select i % ? as product_id, (?::date + (i // ?)::integer) as business_date,
                      random() as impressions, random() as clicks, random() as gmv,
                      random() as spend
               from range(?) t(i)""",
            [PRODUCTS, LAST - dt.timedelta(days=days - 1), PRODUCTS, PRODUCTS * days],
        )
        con.execute("checkpoint")
    finally:
        con.close()


def synthetic_root(root: Path, size: int) -> None:
    """``root`` with a published synthetic build of about ``size`` bytes and its spare."""
    if (root / MADE).exists():
        return
    layout = Layout(root)
    for path in layout.run_outputs():
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    _first_build(layout, max(7, size // BYTES_PER_ROW // PRODUCTS))
    now = dt.datetime.now(dt.UTC)
    RunRecord(f"{LAST}-synthetic", LAST, now, command_started_at=now).write(root)
    finalize_staging(layout, LAST)  # no base: hashed whole
    publish(layout)
    _night(layout, LAST + dt.timedelta(days=1), PRODUCTS)  # a copy: the spare is made
    (root / MADE).touch()


def measure(root: Path) -> dict:
    """The next night's seconds per step, and the published file's size."""
    layout = Layout(root)
    size = layout.warehouse.stat().st_size
    before = build_of(layout.warehouse)
    if before is None:
        raise SystemExit(f"{layout.warehouse} has no build record: remove {root} to make it again")
    seconds = _night(layout, before.data_through + dt.timedelta(days=1), PRODUCTS)
    made = build_of(layout.warehouse)
    return {
        "bytes": size,
        "seconds": seconds,
        "total": sum(seconds.values()),
        "built_on": made.built_on if made else None,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-root", type=Path, required=True)
    ap.add_argument("--bytes", type=int, required=True)
    args = ap.parse_args()
    synthetic_root(args.data_root, args.bytes)
    print(json.dumps(measure(args.data_root)))


if __name__ == "__main__":
    main()
