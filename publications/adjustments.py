"""Adjustment statements (issue 43, D46): the differences between what finance was issued
and what the warehouse now knows, issued as lines that each correct one closed line.

    fullsite report adjustments --data-root DIR [--through YYYY-MM-DD]

The differences are dbt's (finance.adjustments); this module only issues them, the same
way the statements are issued (CSV, XLSX, manifest; into the ledger, publications/closing.py).
Net effect, checked before anything is issued and stated in the Notes: for every corrected
statement and figure, issued + adjusted (+ whatever is still open after ``--through``) =
what the warehouse now knows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from fullsite import ledger
from fullsite.layout import Layout
from publications import closing, register
from publications.published import NotPublished, build, connect, has_table
from publications.statements import NothingFinal, as_of
from publications.workbook import DATE, MONEY, Column, Statement, to_csv, to_xlsx

# Printed widths sum to 141 characters: landscape, one page wide (D44).
ADJUSTMENT_COLUMNS = [
    Column("statement", "Statement corrected", width=16),
    Column("line_key", "Line", width=10),
    Column("merchant_id", "Merchant ID", width=8),
    Column("merchant_name", "Merchant", width=14, wrap=True),
    Column("money_column", "Figure", width=13),
    Column("issued_value", "As issued (CNY)", MONEY, width=11),
    Column("current_value", "As known (CNY)", MONEY, width=11),
    Column("delta", "Adjustment (CNY)", MONEY, width=11),
    Column("payable_delta", "Payable (CNY)", MONEY, width=11),
    Column("reason", "Reason", width=26, wrap=True),
    Column("first_seen_night", "First seen", DATE, width=10),
    Column("first_seen_run_id", "First seen in run", printed=False),
    Column("statement_seq", "Register row corrected", printed=False),
]

# Open adjustments of the published build that no adjustment issued since has settled: the
# figure finance holds for the line is still the one the build compared with.
OPEN_SQL = """
    with held as (
        select coalesce(corrects_seq, register_seq) as statement_seq, line_key, money_column,
               sum(value) as held
        from finance.issued_lines
        group by all
    )
    select a.*
    from finance.adjustments a
    left join held h using (statement_seq, line_key, money_column)
    where a.status = 'open' and a.issued_value = coalesce(h.held, 0)
"""


def open_adjustments(con, through: dt.date | None = None) -> list[dict]:
    """The adjustments open now (first seen on or before ``through``), in statement order."""
    if not has_table(con, "finance.adjustments"):
        return []
    sql = f"""select a.*, m.merchant_name
              from ({OPEN_SQL}) a left join marts.dim_merchant m using (merchant_id)
              where ? is null or a.first_seen_night <= ?
              order by a.statement_seq, a.line_key, a.money_column"""
    cursor = con.execute(sql, [through, through])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def _stem(layout: Layout, through: dt.date) -> str:
    taken = {e["stem"] for e in ledger.entries(layout)}
    stem, n = f"adjustments-{through}", 1
    while stem in taken:
        n += 1
        stem = f"adjustments-{through}-{n}"
    return stem


def _tie_out(con, rows: list[dict], later: list[dict]) -> list[tuple[str, str]]:
    """Per corrected statement and figure: held + adjusted (+ still open) = as known now.
    Returns the Notes' lines; refuses when any does not tie out."""
    adjusted: dict[tuple, Decimal] = defaultdict(Decimal)
    for r in rows:
        adjusted[(r["statement_seq"], r["money_column"])] += r["delta"]
    pending: dict[tuple, Decimal] = defaultdict(Decimal)
    for r in later:
        pending[(r["statement_seq"], r["money_column"])] += r["delta"]
    notes = []
    for (seq, column), delta in sorted(adjusted.items()):
        stem, held, known = _statement_totals(con, seq, column)
        if held + delta + pending[(seq, column)] != known:
            raise NothingFinal(
                f"{stem} {column}: issued {held} + adjustments {delta} "
                f"+ still open {pending[(seq, column)]} is not {known}: nothing was issued"
            )
        still = f" + {pending[(seq, column)]:,.2f} still open" if pending[(seq, column)] else ""
        notes.append(
            (
                f"{stem}",
                f"{column}: issued {held:,.2f} + adjusted here {delta:+,.2f}{still} "
                f"= {known:,.2f}, as known in this build",
            )
        )
    return notes


def _statement_totals(con, seq: int, column: str) -> tuple[str, Decimal, Decimal]:
    """A closed statement's stem, what finance holds of one figure, and what is known now."""
    stem, kind, first, last = con.execute(
        "select stem, statement, period_from, period_to from finance.statement_register where seq "
        "= ?",
        [seq],
    ).fetchone()
    held = con.execute(
        """select coalesce(sum(value), 0) from finance.issued_lines
                          where coalesce(corrects_seq, register_seq) = ? and money_column = ?""",
        [seq, column],
    ).fetchone()[0]
    known = con.execute(
        """select coalesce(sum(value), 0) from finance.statement_lines
                           where statement_kind = ? and money_column = ? and period_date between ?
                               and ?""",
        [kind, column, first, last],
    ).fetchone()[0]
    return stem, Decimal(held), Decimal(known)


def _notes(through: dt.date, asof: dict, tie_out: list[tuple[str, str]], total: Decimal) -> list:
    return [
        (
            "Statement",
            f"Adjustments to closed statements, first published on or before {through}: "
            "each line corrects one line finance was issued. Issued statements never "
            "change; these lines are how a later difference is paid or recovered.",
        ),
        (
            "Rule",
            "adjustment = as known − as issued, where as issued is the statement's figure plus "
            "the adjustments issued for it before. Payable is the adjustment of the figure a "
            "statement pays (rebate, compensation): positive is owed to the merchant, "
            "negative is recovered.",
        ),
        *[(f"Net: {stem}", line) for stem, line in tie_out],
        (
            "As of",
            f"warehouse build {asof['warehouse_fingerprint'][:12]} built "
            f"{asof['warehouse_built_at']}, data through {asof['last_published_ingest_date']}",
        ),
        (
            "Control",
            f"issued + adjusted = as known, line by line (each line here) and for every "
            f"figure of every statement corrected (above); payable total {total:,.2f} CNY.",
        ),
    ]


def _reissue_or_none(layout: Layout, stem: str, out: Path) -> closing.Issued:
    """No open adjustment: the same statement again, as issued (or nothing to issue)."""
    entry = next((e for e in ledger.entries(layout) if e["stem"] == stem), None)
    if entry is None:
        raise NothingFinal(
            f"no open adjustments first seen on or before {stem.split('-', 1)[1]}: "
            "every closed line agrees with the warehouse"
        )
    return closing.reissue(layout, entry, out)


def adjustments_statement(
    layout: Layout, through: dt.date | None = None, out: Path | None = None
) -> tuple[Path, closing.Issued]:
    out = out or layout.statements
    try:
        con = connect(layout)
    except NotPublished as exc:
        raise NothingFinal(str(exc)) from None
    try:
        made = build(con)
        through = through or made.data_through
        rows = open_adjustments(con, through)
        if not rows:
            return out, _reissue_or_none(layout, f"adjustments-{through}", out)
        later = [r for r in open_adjustments(con) if r["first_seen_night"] > through]
        draft = _draft(layout, con, rows, later, through)
    finally:
        con.close()
    return out, closing.issue(layout, draft, out)


def _draft(
    layout: Layout, con, rows: list[dict], later: list[dict], through: dt.date
) -> closing.Draft:
    asof = as_of(con)
    made = build(con)
    total = sum((r["payable_delta"] for r in rows), Decimal("0.00"))
    stem = _stem(layout, through)
    statement = Statement(
        kind="adjustments",
        title="Adjustments to closed statements",
        period=f"through {through}",
        stem=stem,
        sheet=f"adjustments {through}",
        columns=ADJUSTMENT_COLUMNS,
        rows=[tuple(r[c.name] for c in ADJUSTMENT_COLUMNS) for r in rows],
        money=["payable_delta"],
        label="statement",
        notes=_notes(through, asof, _tie_out(con, rows, later), total),
        as_of=f"build {made.build_id} · data through {made.data_through}",
    )
    summed = tuple(
        "TOTAL" if c.name == "statement" else total if c.name == "payable_delta" else None
        for c in ADJUSTMENT_COLUMNS
    )
    files = {
        f"{stem}.csv": to_csv(statement, summed),
        f"{stem}.xlsx": to_xlsx(statement, summed, made.built_at),
    }
    return _draft_of(statement, rows, files, asof, made, through)


def _draft_of(
    statement: Statement, rows: list[dict], files: dict, asof: dict, made, through: dt.date
) -> closing.Draft:
    issued_at, first = register.now(), min(r["first_seen_night"] for r in rows)
    hashes = {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}
    totals = {"payable_delta": f"{sum(r['payable_delta'] for r in rows):.2f}"}
    coverage = {
        "data_through": str(made.data_through),
        "first_seen_from": str(first),
        "first_seen_through": str(through),
        "partial": None,
        "provisional": False,
    }
    manifest = {
        "statement": "adjustments",
        "period": statement.period,
        "stem": statement.stem,
        "provisional": False,
        "rows": len(rows),
        "totals": totals,
        "coverage": coverage,
        "corrects": sorted({r["statement"] for r in rows}),
        "files": {name: {"sha256": hashes[name], "bytes": len(d)} for name, d in files.items()},
        "as_of": asof,
        "generated_at": issued_at.isoformat(timespec="seconds"),
    }
    row = {
        "statement": "adjustments",
        "period": statement.period,
        "stem": statement.stem,
        "provisional": False,
        "files": json.dumps(hashes),
        "warehouse_fingerprint": made.content_fingerprint,
        "data_through": made.data_through,
        "covered_from": first,
        "covered_to": through,
        "rows": len(rows),
        "totals": json.dumps(totals),
        "issued_at": issued_at,
        "warehouse_built_at": made.built_at,
    }
    return closing.Draft(
        kind="adjustments",
        stem=statement.stem,
        period_said=statement.period,
        period=(first, through),
        provisional=False,
        files=files,
        manifest=manifest,
        row=row,
        lines=[_adjustment_line(r) for r in rows],
        closes=False,
    )


def _adjustment_line(r: dict) -> dict:
    """An adjustment as the ledger keeps it: the line it corrects, by how much and why."""
    return {
        "line_key": r["line_key"],
        "merchant_id": r["merchant_id"],
        "money_column": r["money_column"],
        "value": r["delta"],
        "corrects_seq": r["statement_seq"],
        "corrects_statement": r["statement"],
        "was_value": r["issued_value"],
        "now_value": r["current_value"],
        "reason": r["reason"],
        "first_seen_night": r["first_seen_night"],
        "first_seen_run_id": r["first_seen_run_id"],
    }
