"""Hand-made raw partitions for tests: rows as dicts, written with the contract schemas."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from fullsite.contract import SCHEMAS

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def local(day: dt.date, hh=12, mm=0, ss=0, us=0) -> dt.datetime:
    """An instant given as Asia/Shanghai wall-clock time."""
    return dt.datetime(day.year, day.month, day.day, hh, mm, ss, us, tzinfo=SHANGHAI)


def write(
    root: Path, table: str, day: dt.date, rows: list[dict], file: str = "part-0000.parquet"
) -> None:
    folder = Path(root) / "raw" / table / f"dt={day}"
    folder.mkdir(parents=True, exist_ok=True)
    schema = SCHEMAS[table]
    cols = {f.name: [r.get(f.name) for r in rows] for f in schema}
    for f in schema:
        if pa.types.is_decimal(f.type):
            cols[f.name] = [None if v is None else Decimal(str(v)) for v in cols[f.name]]
    pq.write_table(pa.table(cols, schema=schema), folder / file)


def dims(
    root: Path, day: dt.date, products: list[dict], merchants: list[dict], changes: list[dict]
) -> None:
    write(root, "merchants", day, merchants)
    write(root, "products", day, products)
    write(root, "campaign_changes", day, changes)
