"""A small authoritative table whose text cannot be read breaks the contract: the raw gate
fails with the file named, never a crash (issue 20)."""
from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from expectations.gates import raw_gate
from fullsite.layout import Layout
from tests.conftest import FIRST, copy_root


def test_a_merchant_name_that_is_not_utf8_fails_the_raw_gate_by_name(tiny_raw, tmp_path):
    root = copy_root(tiny_raw, tmp_path / "root")
    f = sorted((root / "raw" / "merchants" / f"dt={FIRST}").glob("*.parquet"))[0]
    table = pq.read_table(f)
    bad = pa.array([b"M\xff"] * table.num_rows, pa.binary()).view(pa.string())
    pq.write_table(table.set_column(table.schema.get_field_index("merchant_name"), "merchant_name", bad), f)
    result = raw_gate(Layout(root), FIRST, "test")
    assert not result.passed
    assert f"dt={FIRST} cannot be read" in result.reason() and f.name in result.reason()
