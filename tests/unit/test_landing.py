"""When a table has landed (issue 44): a whole Parquet file, footer included, or upstream's
_SUCCESS marker; a file still being uploaded is not a landed table."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.parquet as pq

from fullsite import landing
from fullsite.layout import Layout

DAY = dt.date(2024, 8, 4)


def test_a_half_written_file_has_not_landed_and_a_whole_one_has(tmp_path):
    layout = Layout(tmp_path)
    folder = layout.raw("merchants", DAY)
    folder.mkdir(parents=True)
    whole = tmp_path / "whole.parquet"
    pq.write_table(pa.table({"merchant_id": [f"M{k:05d}" for k in range(2000)]}), whole)
    data = whole.read_bytes()
    (folder / "part-0000.parquet").write_bytes(data[: len(data) // 2])  # an upload under way
    assert not landing.landed(layout, "merchants", DAY)
    (folder / "part-0000.parquet").write_bytes(data[:-1])  # all but the last byte of the footer
    assert not landing.landed(layout, "merchants", DAY)
    (folder / "part-0000.parquet").write_bytes(data)
    assert landing.landed(layout, "merchants", DAY)
    (folder / "part-0001.parquet").write_bytes(b"PAR1")  # a second file, just begun
    assert not landing.landed(layout, "merchants", DAY)
    (folder / landing.SUCCESS_MARKER).write_text("")  # upstream says the partition is complete
    assert landing.landed(layout, "merchants", DAY)
