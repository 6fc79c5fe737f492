"""Each gate stops the run on a real bad input, with the right reason; warnings don't."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from expectations.gates import curated_gate, marts_gate, quarantine_gate
from fullsite.layout import Layout
from orchestration import runlog, state
from orchestration.pipeline import StageFailed
from spark_jobs.facts import recomputed_dates
from tests.conftest import FIRST, NEXT, PUBLISHED
from tests.runs import night

# A merchant's July spend one cent off the campaigns' clicks: the cross-layer tie-out the
# marts gate owns (dbt's tests own what dbt builds on its own).
BAD_SPEND = """update finance.merchant_rebates_monthly set spend = spend + 0.01
               where month = DATE '2024-07-01' and merchant_id = (select min(merchant_id) from
                   finance.merchant_rebates_monthly
                                                                  where month = DATE
                                                                      '2024-07-01')"""


def _night_fails_unpublished(root, spark) -> StageFailed:
    """Run NEXT: it must fail and leave the published warehouse byte-identical."""
    before = (root / "warehouse.duckdb").read_bytes()
    with pytest.raises(StageFailed) as failure:
        night(root, NEXT, NEXT)
    assert (root / "warehouse.duckdb").read_bytes() == before
    return failure.value


def test_five_percent_unknown_products_fail_the_raw_gate(scratch_root, spark):
    """Night: a copy of the shared published root, made in tests/conftest.py (published_root)."""
    folder = scratch_root / "raw" / "impressions" / f"dt={NEXT}"
    main = folder / "part-0000.parquet"
    table = pq.read_table(main)
    n = table.num_rows
    bad = pa.array([i % 20 == 0 for i in range(n)])  # 5 %
    table = table.set_column(
        table.schema.get_field_index("product_id"),
        "product_id",
        pc.if_else(bad, pa.scalar("P-NOPE"), table.column("product_id")),
    )
    pq.write_table(table, main)
    failure = _night_fails_unpublished(scratch_root, spark)
    assert failure.gate == "raw", failure.message
    rows = sum(pq.read_metadata(f).num_rows for f in folder.glob("*.parquet"))
    said = re.search(
        rf"impressions dt={NEXT}: ([\d,]+) of ([\d,]+) rows quarantined \(([\d.]+)%\), above "
        rf"1.00% and 20 rows",
        failure.message,
    )
    assert said, failure.message
    quarantined, of = (int(x.replace(",", "")) for x in said.groups()[:2])
    planted = sum(bad.to_pylist())
    # the 5 % planted, and the day's own dirt
    assert of == rows and planted <= quarantined <= planted + rows // 100
    assert said.group(3) == f"{100 * quarantined / rows:.2f}"
    assert state.last_success(scratch_root) == PUBLISHED
    # nothing downstream read the partition: no curated facts were built for NEXT
    assert not (scratch_root / "curated" / "fct_product_daily" / f"business_date={NEXT}").exists()


def test_duplicated_key_fails_the_curated_gate(scratch_root):
    """Night: a copy of the shared published root, made in tests/conftest.py (published_root)."""
    part = scratch_root / "curated" / "fct_product_daily" / f"business_date={PUBLISHED}"
    first = sorted(part.glob("*.parquet"))[0]
    shutil.copy(first, part / "part-duplicate.parquet")
    result = curated_gate(
        Layout(scratch_root), PUBLISHED, recomputed_dates(PUBLISHED), "test-curated"
    )
    assert not result.passed
    assert any(f.check == "fct_product_daily_keys" for f in result.errors)
    said = "curated fct_product_daily: the key product_id="
    assert said in result.reason() and "appears 2 times" in result.reason(), result.reason()
    assert result.docs and said in open(result.docs).read()


def test_spend_that_does_not_tie_out_fails_the_marts_gate(scratch_root):
    """Night: a copy of the shared published root, made in tests/conftest.py (published_root)."""
    db = scratch_root / "staging" / "bad.duckdb"
    db.parent.mkdir(exist_ok=True)
    shutil.copy(scratch_root / "warehouse.duckdb", db)
    con = duckdb.connect(str(db))
    con.execute(BAD_SPEND)
    con.close()
    result = marts_gate(Layout(scratch_root), db, "test-marts", PUBLISHED)
    assert not result.passed
    assert {f.check for f in result.errors} == {"monthly_spend_ties_out"}
    assert (
        result.errors[0].line().startswith("month 2024-07: campaigns' valid paid clicks cost ")
    ), result.reason()


def test_clean_published_state_passes_the_marts_gate(published_root, tmp_path):
    """Night: the shared published root, made in tests/conftest.py (published_root)."""
    db = tmp_path / "copy.duckdb"
    shutil.copy(published_root / "warehouse.duckdb", db)
    result = marts_gate(Layout(published_root), db, "test-clean", PUBLISHED)
    assert result.passed, result.reason()


def test_a_normal_night_carries_no_warning(published_root):
    """The generator's few conflicting redeliveries (0.05 %) stay below their share (D28):
    Night: the shared published root, made in tests/conftest.py (published_root).
    a warning that fires every night is one nobody reads."""
    rows = runlog.read_all(published_root)
    assert all(r["status"] == "success" for r in rows)
    assert [r["message"] for r in rows if r["message"]] == []
    assert all(
        r["data_docs"] and r["data_docs"].endswith(f"{r['run_id']}/index.html") for r in rows
    )


def test_conflicting_duplicates_above_their_share_warn_by_name(scratch_root):
    """Night: a copy of the shared published root, made in tests/conftest.py (published_root)."""
    summary = scratch_root / "curated" / "dq_quarantine_summary" / f"ingest_date={PUBLISHED}"
    files = sorted(summary.glob("*.parquet"))
    table = pa.concat_tables([pq.read_table(f) for f in files])
    for f in files:
        f.unlink()
    pq.write_table(
        pa.concat_tables(
            [
                table,
                pa.table(
                    {
                        "table_name": ["saves"],
                        "reason": ["conflicting_duplicate"],
                        "rows": pa.array([500], table.schema.field("rows").type),
                    }
                )
                .select(table.schema.names)
                .cast(table.schema),
            ]
        ),
        summary / "part-0.parquet",
    )
    result = quarantine_gate(Layout(scratch_root), PUBLISHED, "test-conflicts")
    assert result.passed and len(result.warnings) == 1
    line = result.warnings[0].line()
    assert (
        line.startswith(f"saves dt={PUBLISHED}: 5")
        and "rows are conflicting duplicates" in line
        and "above 0.20% and 20 rows" in line
    ), line


def test_a_duplicated_curated_key_stops_the_run_at_the_curated_gate(
    scratch_root, spark, monkeypatch
):
    """Night: a copy of the shared published root, made in tests/conftest.py (published_root)."""
    import spark_jobs.nightly as nightly

    original = nightly.build_date

    def build_then_duplicate(spark_, layout, D, first=None):
        original(spark_, layout, D, first)
        part = layout.curated_table("fct_product_daily") / f"business_date={D}"
        shutil.copy(sorted(part.glob("*.parquet"))[0], part / "part-duplicate.parquet")

    monkeypatch.setattr(nightly, "build_date", build_then_duplicate)
    failure = _night_fails_unpublished(scratch_root, spark)
    assert (
        failure.gate == "curated"
        and "curated fct_product_daily: the key product_id=" in failure.message
    )
    assert runlog.read_all(scratch_root)[-1]["failed_gate"] == "curated"


def test_spend_that_does_not_tie_out_stops_the_run_at_the_marts_gate(
    scratch_root, spark, monkeypatch
):
    """Night: a copy of the shared published root, made in tests/conftest.py (published_root)."""
    import orchestration.warehouse as warehouse

    original = warehouse.run_dbt

    def dbt_then_corrupt(layout, first, D, *args, **kwargs):
        outcome = original(layout, first, D, *args, **kwargs)
        con = duckdb.connect(str(warehouse.staging_db(layout)))
        con.execute(BAD_SPEND)
        con.close()
        return outcome

    monkeypatch.setattr(warehouse, "run_dbt", dbt_then_corrupt)
    failure = _night_fails_unpublished(scratch_root, spark)
    assert failure.gate == "marts", failure.message
    assert "but finance.merchant_rebates_monthly spend sums to" in failure.message, failure.message
    last = runlog.read_all(scratch_root)[-1]
    assert last["failed_gate"] == "marts" and last["data_docs"].endswith("index.html")


def test_a_failing_dbt_test_is_named_and_dbt_leaves_the_process_as_it_found_it(scratch_root):
    """dbt builds in the run's own process (D34): a failing dbt test is named in one line,
    the working directory and the environment are put back, and dbt does not keep the
    Night: a copy of the shared published root, made in tests/conftest.py (published_root).
    staging file open (the marts gate, finalisation and publication open it next)."""
    import os

    from orchestration import warehouse

    layout = Layout(scratch_root)
    part = layout.curated_table("fct_product_daily") / f"business_date={PUBLISHED}"
    shutil.copy(sorted(part.glob("*.parquet"))[0], part / "part-duplicate.parquet")
    cwd, env = os.getcwd(), dict(os.environ)
    outcome = warehouse.run_dbt(layout, PUBLISHED, PUBLISHED)
    assert not outcome.success and outcome.message.startswith("dbt test.fullsite."), outcome.message
    assert "\n" not in outcome.message and "fct_product_daily" in outcome.message, outcome.message
    assert (os.getcwd(), dict(os.environ)) == (cwd, env)
    # Read-only, as the marts gate opens it: in one process DuckDB refuses that while dbt's
    # read-write connection is still open (a read-write open would share it and pass).
    con = duckdb.connect(str(warehouse.staging_db(layout)), read_only=True)
    con.close()


def _bad_files(folder):
    """The five bad files operators met (issue 19): file → the words the message must hold."""
    good = sorted(folder.glob("*.parquet"))[0]
    table = pq.read_table(good)
    data = good.read_bytes()
    price = table.schema.get_field_index("price")
    yield "truncated.parquet", data[: len(data) // 2], "the whole file: not a readable Parquet file"
    yield "empty.parquet", b"", "the whole file: an empty file (0 bytes), contract says Parquet"
    yield (
        "renamed-csv.parquet",
        b"product_id,price\nP1,9.90\n",
        "the whole file: not a readable Parquet file",
    )
    as_text = table.set_column(price, "price", table.column("price").cast(pa.string()))
    yield "price-as-text.parquet", as_text, "column price is STRING, contract says DECIMAL(18,2)"
    yield (
        "no-category.parquet",
        table.drop_columns(["category"]),
        "column category is missing, contract says STRING",
    )


def test_each_bad_file_is_named_with_table_file_and_column(scratch_root):
    """A truncated file, an empty one, a CSV named .parquet, a price typed as text and a
    missing column: each says table, partition, file and what is wrong (column and types
    Night: a copy of the shared published root, made in tests/conftest.py (published_root).
    where there is one), in the reason, the data docs and the index across runs."""
    from expectations.gates import raw_gate

    folder = scratch_root / "raw" / "products" / f"dt={NEXT}"
    layout = Layout(scratch_root)
    for k, (name, content, words) in enumerate(_bad_files(folder)):
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            pq.write_table(content, path)
        result = raw_gate(layout, NEXT, f"{NEXT}-bad{k}")
        expected = f"raw gate: products dt={NEXT} {name}: {words}"
        assert result.reason().startswith(expected), (result.reason(), expected)
        page = open(result.docs).read()
        assert f"products dt={NEXT} {name}: {words}" in page
        path.unlink()
    index = (scratch_root / "data_docs" / "index.html").read_text()
    assert all(f"{NEXT}-bad{k}/index.html" in index for k in range(5))


def _docs_entries(layout: Layout, run_key: str) -> list:
    """Every gate run recorded on a run's data-docs page, without its time."""
    from expectations import docs_site

    runs = json.loads(
        (docs_site.run_folder(layout.data_docs, run_key) / "results.json").read_text()
    )
    return [(r["gate"], r["entries"]) for r in runs]


def test_a_backfills_raw_gates_validated_together_record_what_each_night_would(scratch_root):
    """GX's cost is per expectation, so a backfill validates its ingests' raw gates in one
    run (D35). When they all pass, each ingest's result and data-docs page are exactly what
    its own gate gives; one ingest's finding, even one only a night on its own shows (an id
    repeated within one night's merchants, a night without products), sends every ingest to
    Night: a copy of the shared published root, made in tests/conftest.py (published_root).
    its own gate."""
    from expectations.gates import (
        quarantine_gate,
        raw_gate,
        screen_quarantine_gates,
        screen_raw_gates,
        screened_quarantine_gate,
        screened_raw_gate,
    )

    layout = Layout(scratch_root)
    days = [FIRST + dt.timedelta(days=k) for k in range((NEXT - FIRST).days + 1)]
    screened = screen_raw_gates(layout, days)
    assert screened is not None
    cleaned = days[:-1]  # NEXT is not cleaned in the published root
    shares = screen_quarantine_gates(layout, cleaned)
    assert shares is not None
    for D in days:
        exact, fast = (
            raw_gate(layout, D, f"exact-{D}"),
            screened_raw_gate(layout, D, f"together-{D}", screened),
        )
        assert exact.passed and not exact.findings and exact.evaluated > 30
        assert (fast.passed, fast.findings, fast.evaluated) == (True, [], exact.evaluated)
        if D in cleaned:
            exact_share = quarantine_gate(layout, D, f"exact-{D}")
            fast_share = screened_quarantine_gate(layout, D, f"together-{D}", shares)
            assert (fast_share.findings, fast_share.evaluated) == ([], exact_share.evaluated)
        assert _docs_entries(layout, f"together-{D}") == _docs_entries(layout, f"exact-{D}")

    merchants = scratch_root / "raw" / "merchants" / f"dt={days[2]}"
    table = pa.concat_tables([pq.read_table(f) for f in sorted(merchants.glob("*.parquet"))])
    for f in merchants.glob("*.parquet"):
        f.unlink()
    # one id twice
    pq.write_table(pa.concat_tables([table, table.slice(0, 1)]), merchants / "part-0.parquet")
    assert screen_raw_gates(layout, days) is None
    assert (
        raw_gate(layout, days[2], "repeated")
        .reason()
        .startswith(f"raw gate: merchants dt={days[2]}")
    )

    pq.write_table(table, merchants / "part-0.parquet")
    assert screen_raw_gates(layout, days) is not None
    products = scratch_root / "raw" / "products" / f"dt={days[3]}"
    first = sorted(products.glob("*.parquet"))[0]
    schema = pq.read_schema(first)
    for f in products.glob("*.parquet"):
        f.unlink()
    pq.write_table(schema.empty_table(), products / "part-0.parquet")  # no products that night
    assert screen_raw_gates(layout, days) is None
    assert not raw_gate(layout, days[3], "no-products").passed
