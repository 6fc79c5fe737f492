"""The publish path of one night against the size of the published warehouse (issue 46).

    python -m benchmarks.publish --data-root DIR --bytes N

Makes ``DIR/warehouse.duckdb`` once: a synthetic warehouse of about N bytes (many products
× many days of random figures) that this dbt project would extend, as it extends what it
built. Then times, in this fresh process, what a night does with it besides dbt's own
models: the staging copy (``prepare_staging``), the build record and its content
fingerprint (``finalize_staging``), and the swap (``publish``). Prints one JSON line.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from pathlib import Path

import duckdb

from fullsite.layout import Layout
from fullsite.published import BUILD_RECORD
from orchestration.runlog import RunRecord
from orchestration.warehouse import finalize_staging, prepare_staging, project_fingerprint, publish

NIGHT = dt.date(2024, 7, 5)
# A row: a product, a day and four random figures, about 30 bytes on disk once compressed
# (random doubles do not compress; the keys do).
BYTES_PER_ROW = 30
MADE = ".synthetic-complete"


def synthetic_warehouse(root: Path, size: int) -> None:
    """``root/warehouse.duckdb`` of about ``size`` bytes, with the build record of this
    project (so that a night copies it into staging and extends it)."""
    if (root / MADE).exists():
        return
    root.mkdir(parents=True, exist_ok=True)
    (root / "warehouse.duckdb").unlink(missing_ok=True)
    rows = max(1, size // BYTES_PER_ROW)
    con = duckdb.connect(str(root / "warehouse.duckdb"))
    try:
        con.execute("create schema marts")
        con.execute("create schema params")
        con.execute(
            """create table marts.fct_product_daily_synthetic as
               select i // 3650 as product_id, (i % 3650)::integer as day_number,
                      random() as impressions, random() as clicks, random() as gmv,
                      random() as spend
               from range(?) t(i)""",
            [rows],
        )
        con.execute(
            f"create table {BUILD_RECORD} as select ? as fingerprint, 'synthetic' as "
            "content_fingerprint, now() as built_at, ?::date as data_through, "
            "'synthetic' as run_id, null::varchar as dagster_run_id",
            [project_fingerprint(), NIGHT - dt.timedelta(days=1)],
        )
        con.execute("checkpoint")
    finally:
        con.close()
    now = dt.datetime.now(dt.UTC)
    RunRecord(f"{NIGHT}-synthetic", NIGHT, now, command_started_at=now).write(root)
    (root / MADE).touch()


def measure(root: Path) -> dict:
    """Seconds of the staging copy, the finalisation and the swap, and the file's size."""
    layout = Layout(root)
    size = layout.warehouse.stat().st_size
    seconds = {}
    start = time.perf_counter()
    prepare_staging(layout, NIGHT, NIGHT)
    seconds["copy"] = time.perf_counter() - start
    start = time.perf_counter()
    finalize_staging(layout, NIGHT)
    seconds["finalize"] = time.perf_counter() - start
    start = time.perf_counter()
    publish(layout)
    seconds["publish"] = time.perf_counter() - start
    return {"bytes": size, "seconds": seconds, "total": sum(seconds.values())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-root", type=Path, required=True)
    ap.add_argument("--bytes", type=int, required=True)
    args = ap.parse_args()
    synthetic_warehouse(args.data_root, args.bytes)
    print(json.dumps(measure(args.data_root)))


if __name__ == "__main__":
    main()
