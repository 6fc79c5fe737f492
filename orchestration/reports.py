"""Finance statements: CSV + XLSX + manifest.json of control totals, final figures only."""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
from decimal import Decimal
from pathlib import Path

import duckdb

from fullsite.layout import Layout


class NothingFinal(Exception):
    """The period has no final figures (yet): a clear error, never an empty statement."""


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _query(layout: Layout, sql: str, params: list) -> tuple[list[str], list[tuple]]:
    if not layout.warehouse.exists():
        raise NothingFinal(f"no published warehouse at {layout.warehouse}: run the pipeline first")
    con = duckdb.connect(str(layout.warehouse), read_only=True)
    try:
        cur = con.execute(sql, params)
        return [d[0] for d in cur.description], cur.fetchall()
    finally:
        con.close()


def _write(out: Path, stem: str, columns: list[str], rows: list[tuple], money: list[str], label_col: str) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    totals = {m: sum((r[columns.index(m)] for r in rows), Decimal("0.00")) for m in money}
    total_row = tuple("TOTAL" if c == label_col else (totals[c] if c in totals else "") for c in columns)
    csv_path, xlsx_path = out / f"{stem}.csv", out / f"{stem}.xlsx"
    with open(csv_path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(columns)
        for r in rows + [total_row]:
            w.writerow(["" if v is None else str(v) for v in r])

    from openpyxl import Workbook
    wb = Workbook()
    ws = wb.active
    ws.title = stem[:31]
    ws.append(columns)
    for r in rows + [total_row]:
        ws.append([float(v) if isinstance(v, Decimal) else (v.isoformat() if isinstance(v, dt.date) else v) for v in r])
    for col_idx, c in enumerate(columns, start=1):
        if c in money:
            for cell in ws.iter_cols(min_col=col_idx, max_col=col_idx, min_row=2):
                for x in cell:
                    x.number_format = "#,##0.00"
    wb.properties.created = dt.datetime(2000, 1, 1)  # stable bytes for the same figures
    wb.save(xlsx_path)

    manifest = {
        "statement": stem,
        "rows": len(rows),
        "totals": {m: f"{totals[m]:.2f}" for m in money},
        "files": {p.name: {"sha256": _sha256(p), "bytes": p.stat().st_size} for p in (csv_path, xlsx_path)},
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def rebates_statement(layout: Layout, month: dt.date, out: Path | None = None) -> tuple[Path, dict]:
    cols, rows = _query(layout, """
        select merchant_id, merchant_name, merchant_tier, month, spend, compensation, rebate_base,
               rebate_rate, rebate_amount
        from finance.merchant_rebates_monthly
        where month = ? and status = 'final' order by merchant_id""", [month])
    if not rows:
        _, any_rows = _query(layout, "select count(*) from finance.merchant_rebates_monthly where month = ?", [month])
        if any_rows[0][0]:
            raise NothingFinal(f"rebates for {month:%Y-%m} are not final yet (final once the run of the month's last day + 2 is published)")
        raise NothingFinal(f"no rebates for {month:%Y-%m} in the published warehouse")
    out = out or layout.reports / f"rebates-{month:%Y-%m}"
    return out, _write(out, f"rebates-{month:%Y-%m}", cols, rows, ["spend", "compensation", "rebate_base", "rebate_amount"], "merchant_id")


def compensation_statement(layout: Layout, first: dt.date, last: dt.date, out: Path | None = None) -> tuple[Path, dict]:
    cols, rows = _query(layout, """
        select campaign_version_id, campaign_id, merchant_id, product_id, start_date, close_date, settlement_month,
               spend, gmv, target_roi, roi_choice, reason, compensation_amount
        from finance.compensation_claims
        where status = 'final' and compensation_amount > 0 and close_date between ? and ?
        order by close_date, campaign_version_id""", [first, last])
    if not rows:
        raise NothingFinal(f"no final compensation with close_date between {first} and {last}")
    out = out or layout.reports / f"compensation-{first}-{last}"
    return out, _write(out, f"compensation-{first}-{last}", cols, rows, ["spend", "gmv", "compensation_amount"], "campaign_version_id")
