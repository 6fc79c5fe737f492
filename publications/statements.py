"""Finance statements: CSV + XLSX + manifest.json, final figures only, for sign-off.

* **Safe.** Text from upstream (merchant names, ids) never becomes a formula: in the CSV a
  value starting with ``= + - @``, tab or carriage return is prefixed with ``'`` (OWASP's
  CSV-injection guidance); in the XLSX every such cell is typed as a string, and characters
  a worksheet cannot hold are written as ``\\xNN``. The statement contains no formula at all.
* **Reproducible.** The same published warehouse gives the same bytes: fixed zip entry times
  and order, document properties from the warehouse's build time, no "now" anywhere in the
  files (the manifest's ``generated_at`` is the one exception, outside the hashed files).
* **Signed off against an as-of**: the warehouse build, the last published ingest and run,
  a hash of the rule parameters and rate table in force, the code version.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import importlib.metadata
import io
import json
import re
import subprocess
import zipfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from fullsite.layout import Layout
from fullsite.rules import REPO_ROOT
from publications.published import NotPublished, build, connect, has_table, param


class NothingFinal(Exception):
    """The period has no final figures (yet): a clear error, never an empty statement."""


MONEY, RATE, RATIO, PERCENT, DATE = "#,##0.00", "0.00%", "0.00", "0.0%", "yyyy-mm-dd"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


@dataclass
class Statement:
    kind: str                     # rebates | compensation
    period: str                   # 2024-07 | 2024-07-01..2024-07-31
    stem: str                     # file names
    sheet: str                    # ≤ 31 characters, both ends of the period
    columns: list[str]
    rows: list[tuple]
    formats: dict[str, str]       # column → Excel number format
    money: list[str]              # columns with a control total
    label: str                    # the column that says TOTAL
    notes: list[tuple[str, str]]  # (heading, line) for the Notes sheet


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _connect(layout: Layout):
    try:
        return connect(layout)
    except NotPublished as exc:
        raise NothingFinal(str(exc)) from None


def _fetch(con, sql: str, params: list | None = None) -> tuple[list[str], list[tuple]]:
    cur = con.execute(sql, params or [])
    return [d[0] for d in cur.description], cur.fetchall()


# ------------------------------------------------------------------------------ as-of

def _code_version() -> dict:
    try:
        version = importlib.metadata.version("fullsite")
    except importlib.metadata.PackageNotFoundError:
        version = None
    try:
        commit = subprocess.run(["git", "-C", str(REPO_ROOT), "rev-parse", "HEAD"], capture_output=True,
                                text=True, timeout=10).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        commit = None
    return {"package": version, "git_commit": commit}


def as_of(con) -> dict:
    """What a statement was drawn from, read from the same connection as its rows: the
    warehouse build (its content's fingerprint), the data through date, the run that
    published it, the rules in force and the code."""
    try:
        made = build(con)
    except NotPublished as exc:
        raise NothingFinal(str(exc)) from None
    digest = hashlib.sha256()
    for table in ("params.rule_parameters", "params.rebate_rates", "params.lifecycle_thresholds"):
        if has_table(con, table):
            digest.update(table.encode() + repr(con.execute(f"select * from {table} order by all").fetchall()).encode())
    return {
        "warehouse_fingerprint": made.content_fingerprint,
        "warehouse_built_at": made.built_at.isoformat(),
        "dbt_project_fingerprint": made.project_fingerprint,
        "last_published_ingest_date": made.data_through.isoformat(),
        "last_run_id": made.run_id,
        "rules_sha256": digest.hexdigest(),
        "code": _code_version(),
    }


# ------------------------------------------------------------------------------ cells

def csv_text(value: str) -> str:
    """A text cell of the CSV, never read as a formula by a spreadsheet."""
    return "'" + value if value.startswith(FORMULA_START) else value


def _csv(statement: Statement, total: tuple) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(statement.columns)
    for row in [*statement.rows, total]:
        writer.writerow(["" if v is None else csv_text(v) if isinstance(v, str) else
                         v.isoformat() if isinstance(v, dt.date) else str(v) for v in row])
    return buf.getvalue().encode("utf-8")


def _cell(ws, row: int, col: int, value, fmt: str | None = None, bold: bool = False):
    from openpyxl.styles import Font

    cell = ws.cell(row=row, column=col)
    if isinstance(value, str):
        cell.value = ILLEGAL.sub(lambda m: f"\\x{ord(m.group()):02x}", value)
        cell.data_type = "s"  # typed as text: openpyxl would make '=…' a formula
    elif isinstance(value, Decimal):
        cell.value = float(value)
    else:
        cell.value = value
    if fmt:
        cell.number_format = fmt
    if bold:
        cell.font = Font(bold=True)
    return cell


def _xlsx(statement: Statement, total: tuple, built_at: dt.datetime | None) -> bytes:
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = statement.sheet
    for j, name in enumerate(statement.columns, start=1):
        _cell(ws, 1, j, name, bold=True)
    for i, row in enumerate([*statement.rows, total], start=2):
        last = i == len(statement.rows) + 2
        for j, (name, value) in enumerate(zip(statement.columns, row, strict=True), start=1):
            fmt = statement.formats.get(name) or (DATE if isinstance(value, dt.date) else None)
            _cell(ws, i, j, value, fmt, bold=last)
    ws.freeze_panes = "A2"
    ws.print_title_rows = "1:1"  # printed: the header on every page, all columns on one page wide
    ws.page_setup.orientation = "landscape"
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.auto_filter.ref = f"A1:{get_column_letter(len(statement.columns))}{len(statement.rows) + 1}"
    for j, name in enumerate(statement.columns, start=1):
        longest = max([len(name)] + [len(_shown(r[j - 1])) for r in [*statement.rows, total]])
        ws.column_dimensions[get_column_letter(j)].width = min(60, longest + 2)

    notes = wb.create_sheet("Notes")
    notes.column_dimensions["A"].width = 28
    notes.column_dimensions["B"].width = 110
    notes.page_setup.orientation = "landscape"
    notes.sheet_properties.pageSetUpPr.fitToPage = True
    notes.page_setup.fitToWidth, notes.page_setup.fitToHeight = 1, 0
    for i, (heading, line) in enumerate(statement.notes, start=1):
        _cell(notes, i, 1, heading, bold=True)
        _cell(notes, i, 2, line)
    stamp = (built_at or dt.datetime(2000, 1, 1)).replace(tzinfo=None, microsecond=0)
    wb.properties.creator = wb.properties.lastModifiedBy = "fullsite"
    wb.properties.created = stamp
    buf = io.BytesIO()
    wb.save(buf)
    return _stable_zip(buf.getvalue(), stamp)


def _shown(value) -> str:
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    if isinstance(value, float):
        return f"{value:.2f}"
    return "" if value is None else str(value)


def _stable_zip(data: bytes, stamp: dt.datetime) -> bytes:
    """The same workbook as the same bytes: entries in name order at one fixed time, and the
    document's modified time (openpyxl writes "now") set to the warehouse's build time."""
    iso = stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in sorted(src.namelist()):
            body = src.read(name)
            if name == "docProps/core.xml":
                body = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)", rb"\g<1>" + iso.encode() + rb"\g<2>", body)
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type, info.external_attr = zipfile.ZIP_DEFLATED, 0o600 << 16
            dst.writestr(info, body)
    return out.getvalue()


# ------------------------------------------------------------------------------ write

def _write(layout: Layout, statement: Statement, out: Path, check_sql: str, check_params: list) -> dict:
    con = _connect(layout)
    try:
        asof = as_of(con)
        warehouse_totals = con.execute(check_sql, check_params).fetchone()
    finally:
        con.close()
    totals = {m: sum((r[statement.columns.index(m)] or Decimal("0.00") for r in statement.rows), Decimal("0.00"))
              for m in statement.money}
    for m, expected in zip(statement.money, warehouse_totals, strict=True):  # the control: Σ statement = Σ warehouse
        if totals[m] != (expected or Decimal("0.00")):
            raise RuntimeError(f"statement total of {m} {totals[m]} differs from the warehouse's {expected}")
    total = tuple("TOTAL" if c == statement.label else totals.get(c) for c in statement.columns)
    built = dt.datetime.fromisoformat(asof["warehouse_built_at"]) if asof["warehouse_built_at"] else None
    statement.notes += [
        ("As of", f"warehouse built {asof['warehouse_built_at'] or 'unknown'} "
                  f"(fingerprint {(asof['warehouse_fingerprint'] or 'unknown')[:12]}…), last published ingest "
                  f"{asof['last_published_ingest_date']}, run {asof['last_run_id']}"),
        ("Control", "Σ of every money column here equals the same sum in the published warehouse "
                    "(checked when the statement was written): " + ", ".join(f"{m} {totals[m]:,.2f}" for m in statement.money)),
    ]
    files = {f"{statement.stem}.csv": _csv(statement, total), f"{statement.stem}.xlsx": _xlsx(statement, total, built)}
    out.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (out / name).write_bytes(data)
    manifest = {
        "statement": statement.kind,
        "period": statement.period,
        "rows": len(statement.rows),
        "totals": {m: f"{totals[m]:.2f}" for m in statement.money},
        "files": {name: {"sha256": _sha256(data), "bytes": len(data)} for name, data in files.items()},
        "as_of": asof,
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),  # not in the files
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def rebates_statement(layout: Layout, month: dt.date, out: Path | None = None) -> tuple[Path, dict]:
    con = _connect(layout)
    try:
        cols, rows = _fetch(con, """
            select merchant_id, merchant_name, merchant_tier, month, spend, compensation, rebate_base,
                   rebate_rate, rebate_amount
            from finance.merchant_rebates_monthly
            where month = ? and status = 'final' order by merchant_id""", [month])
        if not rows:
            if con.execute("select count(*) from finance.merchant_rebates_monthly where month = ?", [month]).fetchone()[0]:
                raise NothingFinal(f"rebates for {month:%Y-%m} are not final yet (final once the run of the month's last day + 2 is published)")
            raise NothingFinal(f"no rebates for {month:%Y-%m} in the published warehouse")
        notes = [("Statement", f"Monthly tiered rebates for {month:%Y-%m}: final figures only (the month is closed)."),
                 ("Rule", "rebate_base = max(0, spend − compensation settled in the month); the whole base earns the "
                          "rate of the highest bracket it reaches for the merchant's tier; rebate = round2(base × rate).")]
        if has_table(con, "params.rebate_rates"):
            for tier, brackets in con.execute("""
                    with inforce as (select *, max(effective_from) over (partition by merchant_tier) as newest
                                     from params.rebate_rates where effective_from <= ?)
                    select merchant_tier, string_agg(format('≥ {:,.0f}: {:.1f} %', min_base, rebate_rate * 100), '; '
                                                     order by min_base desc)
                    from inforce where effective_from = newest group by 1 order by 1""", [month]).fetchall():
                notes.append((f"Rates in force: {tier}", brackets))
        if has_table(con, "marts.fct_campaign_daily"):
            merchant, version = con.execute("""
                select (select sum(spend) from finance.merchant_rebates_monthly where month = ? and status = 'final'),
                       (select sum(spend) from marts.fct_campaign_daily where date_trunc('month', business_date) = ?)""",
                                            [month, month]).fetchone()
            notes.append(("Spend tie-out", f"merchant spend {merchant or 0:,.2f} vs campaign-version spend {version or 0:,.2f}: "
                                           f"gap {(merchant or 0) - (version or 0):,.2f} CNY = paid clicks outside every "
                                           "campaign version (before create or after end): real spend that earns rebate "
                                           "but that no 7-day window sees."))
    finally:
        con.close()
    formats = {"spend": MONEY, "compensation": MONEY, "rebate_base": MONEY, "rebate_amount": MONEY,
               "rebate_rate": RATE, "month": DATE}
    statement = Statement("rebates", f"{month:%Y-%m}", f"rebates-{month:%Y-%m}", f"rebates {month:%Y-%m}", cols, rows,
                          formats, ["spend", "compensation", "rebate_base", "rebate_amount"], "merchant_id", notes)
    out = out or layout.reports / statement.stem
    return out, _write(layout, statement, out, """
        select sum(spend), sum(compensation), sum(rebate_base), sum(rebate_amount)
        from finance.merchant_rebates_monthly where month = ? and status = 'final'""", [month])


def compensation_statement(layout: Layout, first: dt.date, last: dt.date, out: Path | None = None) -> tuple[Path, dict]:
    con = _connect(layout)
    try:
        names = "left join marts.dim_merchant m using (merchant_id)" if has_table(con, "marts.dim_merchant") else \
            "left join (select null::varchar as merchant_id, null::varchar as merchant_name) m using (merchant_id)"
        cols, rows = _fetch(con, f"""
            select c.campaign_version_id, c.campaign_id, c.merchant_id, m.merchant_name, c.product_id,
                   c.roi_choice, c.start_date, c.close_date, c.settlement_month, c.spend, c.gmv, c.target_roi,
                   c.roi, c.roi / c.target_roi as achievement, c.reason, c.compensation_amount
            from finance.compensation_claims c {names}
            where c.status = 'final' and c.compensation_amount > 0 and c.close_date between ? and ?
            order by c.close_date, c.campaign_version_id""", [first, last])
        if not rows:
            raise NothingFinal(f"no final compensation with close_date between {first} and {last}")
        trigger, minimum = param(con, "protection_trigger"), param(con, "min_protected_spend")
    finally:
        con.close()
    notes = [
        ("Statement", f"Cost-protection compensation of final 7-day windows closed {first} … {last}; only windows "
                      "with an amount above 0 are listed."),
        ("Window", "from start_date to close_date: the 7th day with spend, or start_date + 14 if earlier; "
                   "spend and GMV (full-site: paid and natural) over the window."),
        ("Eligible", f"a tagged product, a recommended target (tier_1, tier_2, tier_3; not custom), window spend ≥ {minimum}."),
        ("Trigger", f"GMV < {trigger} × target_roi × spend (achievement = ROI / target below {trigger})."),
        ("Amount", f"round2(spend − GMV / ({trigger} × target_roi)): the cost above what a {trigger} achievement "
                   "would have cost; zero exactly at the trigger."),
    ]
    formats = {"spend": MONEY, "gmv": MONEY, "compensation_amount": MONEY, "target_roi": RATIO, "roi": RATIO,
               "achievement": PERCENT}
    statement = Statement("compensation", f"{first}..{last}", f"compensation-{first}-{last}",
                          f"comp {first}..{last}"[:31], cols, rows, formats, ["spend", "gmv", "compensation_amount"],
                          "campaign_version_id", notes)
    out = out or layout.reports / statement.stem
    return out, _write(layout, statement, out, """
        select sum(spend), sum(gmv), sum(compensation_amount) from finance.compensation_claims
        where status = 'final' and compensation_amount > 0 and close_date between ? and ?""", [first, last])
