"""The hostile inputs of issue 20, planted in the raw partitions of one night.

The shared "next night" (tests/conftest.py ``next_night_root``) is run with them, so every
test that reads it also shows they never stop a night.
"""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq

from fullsite import rules
from fullsite.contract import ID_COLUMN

NEVER = dt.datetime(9999, 12, 31, 23, 59, tzinfo=dt.UTC)  # a common "never" placeholder
HUGE = Decimal("9999999999999999.99")  # two of them overflow any money sum


def _one_row(root, day: dt.date, table: str, column: str, value: pa.Array, file: str) -> None:
    """The
    partition's first row under a new id, with ``column`` set to ``value``, as its own file."""
    folder = root / "raw" / table / f"dt={day}"
    row = pq.read_table(sorted(folder.glob("*.parquet"))[0]).slice(0, 1)
    for name, new in ((ID_COLUMN[table], pa.array([f"H-{file}"], pa.string())), (column, value)):
        row = row.set_column(row.schema.get_field_index(name), row.schema.field(name), new)
    pq.write_table(row, folder / file)


def _text(raw: bytes) -> pa.Array:
    return pa.array([raw], pa.binary()).view(pa.string())  # bytes as they may arrive: not checked


def plant_hostile(root, day: dt.date) -> None:
    _one_row(
        root,
        day,
        "impressions",
        "event_time",
        pa.array([NEVER], pa.timestamp("us", tz="UTC")),
        "never.parquet",
    )
    _one_row(root, day, "purchases", "order_id", _text(b"O-NONUTF8-\xff\xfe"), "bytes.parquet")
    _one_row(root, day, "saves", "user_id", _text(b"u-\xc3\x28"), "bytes.parquet")
    _one_row(
        root,
        day,
        "clicks",
        "user_id",
        _text(b"u" * (int(rules.param("max_text_chars")) + 1)),
        "long.parquet",
    )
    for k in (1, 2):
        _one_row(
            root,
            day,
            "purchases",
            "amount",
            pa.array([HUGE], pa.decimal128(18, 2)),
            f"huge-{k}.parquet",
        )
    clicks = root / "raw" / "clicks" / f"dt={day}"
    # Parquet, but not a data file
    shutil.copy(sorted(clicks.glob("part-*.parquet"))[0], clicks / "extra.dat")
