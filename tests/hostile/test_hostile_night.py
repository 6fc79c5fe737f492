"""The three hostile inputs of issue 20, planted in one tiny night: the night publishes,
every hostile row waits in the quarantine store under a named reason, and the counts add up."""
from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from fullsite import rules
from fullsite.contract import ID_COLUMN
from orchestration import runlog
from tests.runs import night
from tests.conftest import PUBLISHED
from tests.published import query

NEXT = PUBLISHED + dt.timedelta(days=1)
NEVER = dt.datetime(9999, 12, 31, 23, 59, tzinfo=dt.timezone.utc)


def _one_row(root, table: str, column: str, value: pa.Array, file: str) -> None:
    """The partition's first row under a new id, with ``column`` set to ``value``, as its own file."""
    folder = root / "raw" / table / f"dt={NEXT}"
    row = pq.read_table(sorted(folder.glob("*.parquet"))[0]).slice(0, 1)
    for name, new in ((ID_COLUMN[table], pa.array([f"H-{file}"], pa.string())), (column, value)):
        row = row.set_column(row.schema.get_field_index(name), row.schema.field(name), new)
    pq.write_table(row, folder / file)


def _text(raw: bytes) -> pa.Array:
    return pa.array([raw], pa.binary()).view(pa.string())  # bytes as they may arrive: not checked


def test_a_hostile_night_publishes_with_the_bad_rows_in_quarantine(scratch_root, spark):
    _one_row(scratch_root, "impressions", "event_time", pa.array([NEVER], pa.timestamp("us", tz="UTC")), "never.parquet")
    _one_row(scratch_root, "purchases", "order_id", _text(b"O-NONUTF8-\xff\xfe"), "bytes.parquet")
    _one_row(scratch_root, "saves", "user_id", _text(b"u-\xc3\x28"), "bytes.parquet")
    _one_row(scratch_root, "clicks", "user_id", _text(b"u" * (int(rules.param("max_text_chars")) + 1)), "long.parquet")
    huge = pa.array([Decimal("9999999999999999.99")], pa.decimal128(18, 2))  # two of them overflow any money sum
    _one_row(scratch_root, "purchases", "amount", huge, "huge-1.parquet")
    _one_row(scratch_root, "purchases", "amount", huge, "huge-2.parquet")
    clicks = scratch_root / "raw" / "clicks" / f"dt={NEXT}"
    shutil.copy(sorted(clicks.glob("part-*.parquet"))[0], clicks / "extra.dat")  # Parquet, but not a data file

    night(scratch_root, NEXT, NEXT)

    held = {t: pq.read_table(scratch_root / "quarantine" / t / f"ingest_date={NEXT}") for t in ("impressions", "purchases", "saves", "clicks")}
    never = held["impressions"].filter(pc.equal(held["impressions"]["event_time"], pa.scalar(NEVER, pa.timestamp("us", tz="UTC"))))
    assert never["reason"].to_pylist() == ["future_event"]
    assert held["purchases"].filter(pc.equal(held["purchases"]["reason"], "bad_encoding"))["order_id"].to_pylist() == ["O-NONUTF8-\\xff\\xfe"]
    assert held["saves"].filter(pc.equal(held["saves"]["reason"], "bad_encoding"))["user_id"].to_pylist() == ["u-\\xc3("]
    assert held["clicks"].filter(pc.equal(held["clicks"]["reason"], "oversized_text")).num_rows == 1
    assert held["purchases"].filter(pc.equal(held["purchases"]["reason"], "implausible_amount")).num_rows == 2

    wh = scratch_root / "warehouse.duckdb"
    raw_rows = {t: sum(pq.ParquetFile(f).metadata.num_rows for f in (scratch_root / "raw" / t / f"dt={NEXT}").glob("*.parquet"))
                for t in ("impressions", "clicks", "saves", "purchases")}
    recon = {r[0]: r[1:] for r in query(wh, f"""select table_name, rows_in, accepted + duplicates + quarantined
                                                 from dq.ingest_reconciliation where ingest_date = DATE '{NEXT}'""")}
    assert {t: (n, n) for t, n in raw_rows.items()} == recon  # extra.dat counted nowhere, read nowhere
    reasons = dict(query(wh, f"""select table_name || '/' || reason, rows from dq.quarantine_summary
                                 where ingest_date = DATE '{NEXT}'
                                   and reason in ('bad_encoding', 'oversized_text', 'implausible_amount')"""))
    assert reasons == {"purchases/bad_encoding": 1, "saves/bad_encoding": 1, "clicks/oversized_text": 1,
                       "purchases/implausible_amount": 2}
    last = runlog.read_all(scratch_root)[-1]
    assert last["status"] == "success"
    assert f"clicks dt={NEXT} extra.dat: not a data file (*.parquet), ignored" in last["message"]
