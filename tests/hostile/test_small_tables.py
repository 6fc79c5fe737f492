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
    pq.write_table(
        table.set_column(table.schema.get_field_index("merchant_name"), "merchant_name", bad), f
    )
    result = raw_gate(Layout(root), FIRST, "test")
    assert not result.passed
    assert f"dt={FIRST} cannot be read" in result.reason() and f.name in result.reason()


def test_a_night_reports_every_finding_at_once(tiny_raw, tmp_path):
    """Issue 44: a bad clicks file and two broken campaign_changes checks are all reported by
    one raw gate, not the first one per attempt (fixing them took two round trips)."""
    root = copy_root(tiny_raw, tmp_path / "root")
    clicks = sorted((root / "raw" / "clicks" / f"dt={FIRST}").glob("*.parquet"))[0]
    clicks.write_bytes(clicks.read_bytes()[:100])  # cut short
    changes = sorted((root / "raw" / "campaign_changes" / f"dt={FIRST}").glob("*.parquet"))[0]
    table = pq.read_table(changes)
    actions = table["action"].to_pylist()
    actions[0] = "delete"  # not an action of the contract
    ids = table["change_id"].to_pylist()
    ids[-1] = ids[-2]  # a change id twice
    table = table.set_column(
        table.schema.get_field_index("action"), "action", pa.array(actions, pa.string())
    )
    table = table.set_column(
        table.schema.get_field_index("change_id"), "change_id", pa.array(ids, pa.string())
    )
    pq.write_table(table, changes)
    result = raw_gate(Layout(root), FIRST, "test")
    said = [f.line() for f in result.errors]
    assert any(f"clicks dt={FIRST} {clicks.name}" in line for line in said), said
    assert any("'delete'" in line for line in said), said
    assert any(ids[-1] in line for line in said), said
