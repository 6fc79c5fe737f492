"""Finance statements: final figures only, totals and checksums that match the warehouse."""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import subprocess
import sys
from decimal import Decimal

import duckdb
import pytest
from openpyxl import load_workbook

from fullsite.layout import Layout
from orchestration.reports import compensation_statement
from tests.runs import night
from tests.integration.conftest import PUBLISHED, copy_root
from tests.published import query

NEXT = PUBLISHED + dt.timedelta(days=1)


@pytest.fixture(scope="module")
def july_final(published_root, spark, tmp_path_factory):
    """Published through 2024-08-02: July's rebates are final."""
    root = copy_root(published_root, tmp_path_factory.mktemp("july") / "root")
    night(root, NEXT, NEXT)
    return root


def cli(*args):
    return subprocess.run([sys.executable, "-m", "orchestration.cli", *args], capture_output=True, text=True)


def test_rebate_statement_matches_the_warehouse(july_final, tmp_path):
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
    result = cli("report", "rebates", "--data-root", str(july_final), "--month", "2024-08")
    assert result.returncode == 2 and "not final yet" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_range_without_final_compensation_is_a_clear_error(july_final):
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


def test_compensation_statement_totals(tmp_path):
    """The statement writer on a warehouse with known final claims."""
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    con.execute("create schema finance")
    con.execute("""create table finance.compensation_claims as select * from (values
        ('A-v1','A','M1','P1',DATE '2024-07-01',DATE '2024-07-07',DATE '2024-07-01','final',1000.00::decimal(18,2),2100.00::decimal(18,2),3.00::decimal(10,2),'tier_2','compensated',222.22::decimal(18,2)),
        ('B-v1','B','M1','P2',DATE '2024-07-02',DATE '2024-07-08',DATE '2024-07-01','final',300.00::decimal(18,2),100.00::decimal(18,2),2.00::decimal(10,2),'tier_1','compensated',244.44::decimal(18,2)),
        ('C-v1','C','M2','P3',DATE '2024-07-02',DATE '2024-07-08',DATE '2024-07-01','final',300.00::decimal(18,2),900.00::decimal(18,2),2.00::decimal(10,2),'tier_1','target_met',0.00::decimal(18,2)),
        ('D-v1','D','M2','P4',DATE '2024-07-02',NULL,DATE '2024-07-01','void',300.00::decimal(18,2),0.00::decimal(18,2),2.00::decimal(10,2),'tier_1','void_settings_changed',0.00::decimal(18,2))
        ) t(campaign_version_id, campaign_id, merchant_id, product_id, start_date, close_date, settlement_month, status, spend, gmv, target_roi, roi_choice, reason, compensation_amount)""")
    con.close()
    (tmp_path / "raw").mkdir()
    out, manifest = compensation_statement(Layout(tmp_path), dt.date(2024, 7, 1), dt.date(2024, 7, 31))
    assert manifest["rows"] == 2 and manifest["totals"]["compensation_amount"] == "466.66"
    lines = list(csv.reader(open(out / "compensation-2024-07-01-2024-07-31.csv")))
    assert [r[0] for r in lines[1:]] == ["A-v1", "B-v1", "TOTAL"] and lines[-1][-1] == "466.66"
