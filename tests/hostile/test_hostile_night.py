"""The hostile inputs of issue 20 (tests/hostile/planting.py), planted in the shared next
night: the night published, every hostile row waits in the quarantine store under a named
reason, and the counts add up to the data files' rows."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from orchestration import runlog
from tests.conftest import NEXT
from tests.hostile.planting import NEVER
from tests.published import query


def test_a_hostile_night_publishes_with_the_bad_rows_in_quarantine(next_night_root):
    """Night: the shared next night, made in tests/conftest.py (next_night)."""
    root = next_night_root
    held = {
        t: pq.read_table(root / "quarantine" / t / f"ingest_date={NEXT}")
        for t in ("impressions", "purchases", "saves", "clicks")
    }
    never = held["impressions"].filter(
        pc.equal(held["impressions"]["event_time"], pa.scalar(NEVER, pa.timestamp("us", tz="UTC")))
    )
    assert never["reason"].to_pylist() == ["future_event"]
    assert held["purchases"].filter(pc.equal(held["purchases"]["reason"], "bad_encoding"))[
        "order_id"
    ].to_pylist() == ["O-NONUTF8-\\xff\\xfe"]
    assert held["saves"].filter(pc.equal(held["saves"]["reason"], "bad_encoding"))[
        "user_id"
    ].to_pylist() == ["u-\\xc3("]
    assert held["clicks"].filter(pc.equal(held["clicks"]["reason"], "oversized_text")).num_rows == 1
    assert (
        held["purchases"]
        .filter(pc.equal(held["purchases"]["reason"], "implausible_amount"))
        .num_rows
        == 2
    )

    wh = root / "warehouse.duckdb"
    raw_rows = {
        t: sum(
            pq.ParquetFile(f).metadata.num_rows
            for f in (root / "raw" / t / f"dt={NEXT}").glob("*.parquet")
        )
        for t in ("impressions", "clicks", "saves", "purchases")
    }
    recon = {
        r[0]: r[1:]
        for r in query(
            wh,
            f"""select table_name, rows_in, accepted + duplicates + quarantined
                                                 from dq.ingest_reconciliation where ingest_date =
                                                     DATE '{NEXT}'""",
        )
    }
    # extra.dat counted nowhere, read nowhere
    assert {t: (n, n) for t, n in raw_rows.items()} == recon
    reasons = dict(
        query(
            wh,
            f"""select table_name || '/' || reason, rows from dq.quarantine_summary
                                 where ingest_date = DATE '{NEXT}'
                                   and reason in ('bad_encoding', 'oversized_text',
                                       'implausible_amount')""",
        )
    )
    assert reasons == {
        "purchases/bad_encoding": 1,
        "saves/bad_encoding": 1,
        "clicks/oversized_text": 1,
        "purchases/implausible_amount": 2,
    }
    last = runlog.read_all(root)[-1]
    assert (last["ingest_date"], last["status"]) == (NEXT, "success")
    assert f"clicks dt={NEXT} extra.dat: not a data file (*.parquet), ignored" in last["message"]
