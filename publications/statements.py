"""Finance statements: CSV + XLSX + a manifest named after the statement, for sign-off.

* **Only final figures** (D44). A month's rebates are issued once every row of the month is
  final; a compensation range only up to the last close date whose windows can be final
  (data through − late_days). Past that the statement is refused in one line naming the
  date — or, with ``--provisional``, issued marked PROVISIONAL on every page, in its name
  and in its manifest.
* **Coverage said.** Every statement's Notes and manifest carry the data-through date and
  the dates the data covers; a period that starts before the first ingest says "partial".
* **One build.** Rows, control totals and the as-of come from one connection to one build:
  a publication during the statement replaces the file under it and changes nothing it reads.
* **One manifest per statement**, ``<stem>.manifest.json``, written with its files into
  ``reports/statements/`` (or ``--out``); a re-issue replaces its own files atomically, never
  another statement's. Every issue is appended to the register (publications/register.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.metadata
import json
import subprocess
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from fullsite.duck import scalar
from fullsite.layout import Layout
from fullsite.rules import REPO_ROOT
from publications import closing, register
from publications.published import NotPublished, build, connect, has_table, param
from publications.workbook import (
    DATE,
    MONEY,
    MONTH,
    PERCENT,
    RATE,
    RATIO,
    Column,
    Statement,
    to_csv,
    to_xlsx,
)


class NothingFinal(Exception):
    """A period that cannot be issued (not final yet, nothing in it): one line for finance."""


def _connect(layout: Layout):
    try:
        return connect(layout)
    except NotPublished as exc:
        raise NothingFinal(str(exc)) from None


def _fetch(con, sql: str, params: list | None = None) -> list[tuple]:
    return con.execute(sql, params or []).fetchall()


# ------------------------------------------------------------------------------ as-of


def _code_version() -> dict:
    try:
        version = importlib.metadata.version("fullsite")
    except importlib.metadata.PackageNotFoundError:
        version = None
    try:
        commit = (
            subprocess.run(
                ["git", "-C", str(REPO_ROOT), "rev-parse", "HEAD"],
                capture_output=True,
                text=True,
                timeout=10,
            ).stdout.strip()
            or None
        )
    except (OSError, subprocess.SubprocessError):
        commit = None
    return {"package": version, "git_commit": commit}


def as_of(con) -> dict:
    """What a statement was drawn from, read from the same connection as its rows: the
    warehouse build (its content's fingerprint), the data-through date, the run that
    published it, the rules in force and the code."""
    try:
        made = build(con)
    except NotPublished as exc:
        raise NothingFinal(str(exc)) from None
    digest = hashlib.sha256()
    for table in ("params.rule_parameters", "params.rebate_rates", "params.lifecycle_thresholds"):
        if has_table(con, table):
            digest.update(
                table.encode()
                + repr(con.execute(f"select * from {table} order by all").fetchall()).encode()
            )
    return {
        "warehouse_fingerprint": made.content_fingerprint,
        "warehouse_built_at": made.built_at.isoformat(),
        "dbt_project_fingerprint": made.project_fingerprint,
        "last_published_ingest_date": made.data_through.isoformat(),
        "last_run_id": made.run_id,
        "rules_sha256": digest.hexdigest(),
        "code": _code_version(),
    }


@dataclass(frozen=True)
class Coverage:
    asked_from: dt.date
    asked_to: dt.date
    data_from: dt.date  # the first ingest the warehouse holds
    data_through: dt.date  # the last
    final_through: dt.date  # the last date whose figures of this kind are final

    @property
    def covered(self) -> tuple[dt.date, dt.date]:
        return max(self.asked_from, self.data_from), min(self.asked_to, self.data_through)

    @property
    def partial(self) -> str | None:
        """What of the period the data does not cover: "partial: data from 2024-07-05" for a
        month that starts before the first ingest (and "data through …" for one that ends after
        the last, only ever in a provisional statement)."""
        gaps = ([f"data from {self.data_from}"] if self.asked_from < self.data_from else []) + (
            [f"data through {self.data_through}"] if self.asked_to > self.data_through else []
        )
        return "partial: " + ", ".join(gaps) if gaps else None

    def said(self) -> str:
        a, b = self.covered
        text = f"the data covers {a} … {b} of the period {self.asked_from} … {self.asked_to}"
        text += f" ({self.partial})" if self.partial else " (all of it)"
        text += f"; data through {self.data_through}"
        if self.final_through < self.asked_to:
            text += f"; figures final through {self.final_through} only"
        return text + "."

    def manifest(self, provisional: bool) -> dict:
        a, b = self.covered
        return {
            "data_through": str(self.data_through),
            "data_from": str(self.data_from),
            "covered_from": str(a),
            "covered_to": str(b),
            "final_through": str(self.final_through),
            "partial": self.partial,
            "provisional": provisional,
        }


def _coverage(con, asked_from: dt.date, asked_to: dt.date, final_through: dt.date) -> Coverage:
    made = build(con)
    first = (
        scalar(con, "select min(ingest_date) from dq.ingest_reconciliation")
        if has_table(con, "dq.ingest_reconciliation")
        else None
    )
    return Coverage(
        asked_from=asked_from,
        asked_to=asked_to,
        data_from=first or asked_from,
        data_through=made.data_through,
        final_through=final_through,
    )


# ------------------------------------------------------------------------------ issue


def _control_totals(
    statement: Statement, con, check_sql: str, check_params: list
) -> dict[str, Decimal]:
    """Σ of each money column of the statement, checked against the same sums in the warehouse."""
    warehouse_totals = con.execute(check_sql, check_params).fetchone() or ()
    idx = {c: statement.names.index(c) for c in statement.money}
    totals = {
        m: sum((r[idx[m]] or Decimal("0.00") for r in statement.rows), Decimal("0.00"))
        for m in statement.money
    }
    for m, expected in zip(statement.money, warehouse_totals, strict=True):
        if totals[m] != (expected or Decimal("0.00")):
            raise NothingFinal(
                f"the statement's total of {m} ({totals[m]}) is not the warehouse's "
                f"({expected}): nothing was issued"
            )
    return totals


def _closing_notes(statement: Statement, coverage: Coverage, asof: dict, totals: dict) -> None:
    statement.notes[1:1] = [("Coverage", coverage.said())]  # right after what the statement is
    sums = "; ".join(f"{statement.label_of(m)} {totals[m]:,.2f}" for m in statement.money)
    statement.notes += [
        (
            "As of",
            f"warehouse build {asof['warehouse_fingerprint'][:12]} built "
            f"{asof['warehouse_built_at']}, data through {asof['last_published_ingest_date']}, "
            f"published by run {asof['last_run_id']}",
        ),
        (
            "Control",
            "Σ of every money column here equals the same sum in that warehouse build "
            f"(checked when the statement was issued): {sums}",
        ),
    ]
    if not statement.provisional:
        statement.notes.append(
            (
                "Closed",
                "Issuing this final statement closed its period: its "
                "lines are kept as issued and never change. A later difference "
                "is an adjustment line (fullsite report adjustments).",
            )
        )


def _issue(
    layout: Layout,
    statement: Statement,
    out: Path,
    con,
    coverage: Coverage,
    check_sql: str,
    check_params: list,
    period: tuple[dt.date, dt.date],
) -> closing.Issued:
    """Check the totals against the warehouse, draw the files and the manifest, and issue
    them into the ledger (a final statement closes its period; publications/closing.py)."""
    asof = as_of(con)
    totals = _control_totals(statement, con, check_sql, check_params)
    lines = [] if statement.provisional else closing.current_lines(con, statement.kind, period)
    if not statement.provisional:
        closing.check_lines(lines, totals)
    _closing_notes(statement, coverage, asof, totals)
    total_label = "TOTAL (PROVISIONAL)" if statement.provisional else "TOTAL"
    total = tuple(total_label if c == statement.label else totals.get(c) for c in statement.names)
    built = dt.datetime.fromisoformat(asof["warehouse_built_at"])
    files = {
        f"{statement.stem}.csv": to_csv(statement, total),
        f"{statement.stem}.xlsx": to_xlsx(statement, total, built),
    }
    signed = _SignOff(statement, coverage, asof, files, totals, register.now())
    draft = closing.Draft(
        kind=statement.kind,
        stem=statement.stem,
        period_said=statement.period_said,
        period=period,
        provisional=statement.provisional,
        files=files,
        manifest=signed.manifest(),
        row=signed.register_row(period, built),
        lines=lines,
    )
    return closing.issue(layout, draft, out)


@dataclass(frozen=True)
class _SignOff:
    """What a statement is signed off with: its manifest and its register row."""

    statement: Statement
    coverage: Coverage
    asof: dict
    files: dict[str, bytes]
    totals: dict[str, Decimal]
    issued_at: dt.datetime

    @property
    def hashes(self) -> dict[str, str]:
        return {name: hashlib.sha256(data).hexdigest() for name, data in self.files.items()}

    @property
    def sums(self) -> dict[str, str]:
        return {m: f"{self.totals[m]:.2f}" for m in self.statement.money}

    def manifest(self) -> dict:
        statement, hashes = self.statement, self.hashes
        return {
            "statement": statement.kind,
            "period": statement.period,
            "stem": statement.stem,
            "provisional": statement.provisional,
            "coverage": self.coverage.manifest(statement.provisional),
            "rows": len(statement.rows),
            "totals": self.sums,
            "files": {
                name: {"sha256": hashes[name], "bytes": len(data)}
                for name, data in self.files.items()
            },
            "as_of": self.asof,
            "generated_at": self.issued_at.isoformat(timespec="seconds"),  # not in the files
        }

    def register_row(self, period: tuple[dt.date, dt.date], built: dt.datetime) -> dict:
        statement = self.statement
        a, b = self.coverage.covered
        return {
            "statement": statement.kind,
            "period": statement.period,
            "stem": statement.stem,
            "provisional": statement.provisional,
            "files": json.dumps(self.hashes),
            "warehouse_fingerprint": self.asof["warehouse_fingerprint"],
            "data_through": self.coverage.data_through,
            "covered_from": a,
            "covered_to": b,
            "rows": len(statement.rows),
            "totals": json.dumps(self.sums),
            "issued_at": self.issued_at,
            "period_from": period[0],
            "period_to": period[1],
            "warehouse_built_at": built,
        }


# ------------------------------------------------------------------------------ the statements

REBATE_COLUMNS = [
    Column("merchant_id", "Merchant ID", width=9),
    Column("merchant_name", "Merchant", width=24, wrap=True),
    Column("merchant_tier", "Tier", width=12),
    Column("month", "Month", MONTH, width=8),
    Column("spend", "Spend (CNY)", MONEY, width=14),
    Column("compensation", "Compensation netted (CNY)", MONEY, width=14),
    Column("rebate_base", "Rebate base (CNY)", MONEY, width=14),
    Column("rebate_rate", "Rebate rate (%)", RATE, width=9),
    Column("rebate_amount", "Rebate (CNY)", MONEY, width=13),
]


def rebates_statement(
    layout: Layout, month: dt.date, out: Path | None = None, provisional: bool = False
) -> tuple[Path, closing.Issued]:
    con = _connect(layout)
    try:
        made = build(con)
        month_end = _month_end(month)
        statuses = _rebate_statuses(con, month, month_end, provisional)
        only_final = "" if provisional else "and status = 'final'"
        rows = _fetch(
            con,
            f"""
            select {", ".join(c.name for c in REBATE_COLUMNS)}
            from finance.merchant_rebates_monthly
            where month = ? {only_final} order by merchant_id""",
            [month],
        )
        provisional = provisional and bool(statuses.get("provisional"))
        coverage = _coverage(con, month, month_end, made.data_through if provisional else month_end)
        stem = f"rebates-{month:%Y-%m}" + ("-provisional" if provisional else "")
        statement = Statement(
            kind="rebates",
            title="Monthly rebates",
            period=f"{month:%Y-%m}",
            stem=stem,
            sheet=f"rebates {month:%Y-%m}",
            columns=REBATE_COLUMNS,
            rows=rows,
            money=["spend", "compensation", "rebate_base", "rebate_amount"],
            label="merchant_id",
            notes=_rebate_notes(con, month, provisional),
            provisional=provisional,
            as_of=f"build {made.build_id} · data through {made.data_through}",
        )
        check_sql = f"""
            select sum(spend), sum(compensation), sum(rebate_base), sum(rebate_amount)
            from finance.merchant_rebates_monthly where month = ?
                {only_final}"""
        out = out or layout.statements
        issued = _issue(
            layout, statement, out, con, coverage, check_sql, [month], (month, month_end)
        )
        return out, issued
    finally:
        con.close()


def _month_end(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)


def _rebate_statuses(con, month: dt.date, month_end: dt.date, provisional: bool) -> dict:
    """The month's rows by status; refused in one line when there are none, or when some
    are not final and ``provisional`` was not asked for."""
    made = build(con)
    statuses = dict(
        _fetch(
            con,
            "select status, count(*) from finance.merchant_rebates_monthly where month = ? "
            "group by 1",
            [month],
        )
    )
    if not statuses:
        raise NothingFinal(
            f"no rebates for {month:%Y-%m} in the published warehouse (data through "
            f"{made.data_through})"
        )
    if statuses.get("provisional") and not provisional:
        lag = int(param(con, "rebate_final_lag_days"))
        raise NothingFinal(
            f"rebates for {month:%Y-%m} are not final yet: final once the night of "
            f"{month_end + dt.timedelta(days=lag)} is published (data through "
            f"{made.data_through}); --provisional issues them marked PROVISIONAL"
        )
    return statuses


# The rate tables the month's rows were computed with (dbt picks them), per tier.
RATES_IN_FORCE_SQL = """
    select r.merchant_tier,
           string_agg(format('≥ {:,.0f}: {:.1f} %', r.min_base, r.rebate_rate * 100),
                      '; ' order by r.min_base desc)
    from params.rebate_rates r
    join (select distinct merchant_tier, rate_effective_from
          from finance.merchant_rebates_monthly where month = ?) m
      on m.merchant_tier = r.merchant_tier and m.rate_effective_from = r.effective_from
    group by 1 order by 1"""


def _rebate_notes(con, month: dt.date, provisional: bool) -> list[tuple[str, str]]:
    figures = (
        "PROVISIONAL figures: the month is not final yet."
        if provisional
        else "final figures only: every row of the month is final."
    )
    notes = [
        ("Statement", f"Monthly tiered rebates for {month:%Y-%m}: {figures}"),
        (
            "Rule",
            "rebate_base = max(0, spend − compensation settled in the month); the whole base "
            "earns the rate of the highest bracket it reaches for the merchant's tier; rebate "
            "= round2(base × rate).",
        ),
    ]
    for tier, brackets in con.execute(RATES_IN_FORCE_SQL, [month]).fetchall():
        notes.append((f"Rates in force: {tier}", brackets))
    if has_table(con, "marts.fct_campaign_daily"):
        notes.append(_spend_tie_out(con, month))
    return notes


def _spend_tie_out(con, month: dt.date) -> tuple[str, str]:
    merchant, version = con.execute(
        """
        select (select sum(spend) from finance.merchant_rebates_monthly where month = ?),
               (select sum(spend) from marts.fct_campaign_daily
                where date_trunc('month', business_date) = ?)""",
        [month, month],
    ).fetchone() or (None, None)
    gap = (merchant or 0) - (version or 0)
    return (
        "Spend tie-out",
        f"merchant spend {merchant or 0:,.2f} vs campaign-version spend "
        f"{version or 0:,.2f}: gap {gap:,.2f} CNY = paid clicks outside every campaign version "
        "(before create or after end): real spend that earns rebate but that no assessment "
        "window sees.",
    )


# Printed widths sum to 138 characters: 10 pt Arial on landscape A4 at 100 % (D44).
COMPENSATION_COLUMNS = [
    Column("campaign_version_id", "Campaign version", width=12),
    Column("campaign_id", "Campaign", printed=False),
    Column("merchant_id", "Merchant ID", width=9),
    Column("merchant_name", "Merchant", width=18, wrap=True),
    Column("product_id", "Product", width=8),
    Column("roi_choice", "ROI choice", width=7),
    Column("start_date", "Start date", DATE, width=11),
    Column("close_date", "Close date", DATE, width=11),
    Column("settlement_month", "Settlement month", MONTH, printed=False),
    Column("spend", "Window spend (CNY)", MONEY, width=12),
    Column("gmv", "Window GMV (CNY)", MONEY, width=12),
    Column("target_roi", "Target ROI", RATIO, width=7),
    Column("roi", "ROI", RATIO, width=6),
    Column("achievement", "Achievement (%)", PERCENT, width=12),
    Column("reason", "Reason", printed=False),
    Column("compensation_amount", "Compensation (CNY)", MONEY, width=13),
]


def last_final_close(con) -> dt.date:
    """The last close date whose windows can be final: data through − late_days (rules §3)."""
    return build(con).data_through - dt.timedelta(days=int(param(con, "late_days")))


def compensation_statement(
    layout: Layout,
    first: dt.date,
    last: dt.date,
    out: Path | None = None,
    provisional: bool = False,
) -> tuple[Path, closing.Issued]:
    con = _connect(layout)
    try:
        made = build(con)
        final_through = last_final_close(con)
        if last > final_through and not provisional:
            raise NothingFinal(
                f"close dates after {final_through} are not final yet (data through "
                f"{made.data_through}): --to must be {final_through} or earlier, or add "
                "--provisional"
            )
        rows = _compensation_rows(con, first, last)
        if not rows:
            raise NothingFinal(
                f"no final compensation with close_date between {first} and {last} "
                f"(data through {made.data_through})"
            )
        provisional = provisional and last > final_through
        stem = f"compensation-{first}-{last}" + ("-provisional" if provisional else "")
        statement = Statement(
            kind="compensation",
            title="Compensation by close date",
            period=f"{first}..{last}",
            stem=stem,
            sheet=f"comp {first}..{last}"[:31],
            columns=COMPENSATION_COLUMNS,
            rows=rows,
            money=["spend", "gmv", "compensation_amount"],
            label="campaign_version_id",
            notes=_compensation_notes(con, first, last, final_through if provisional else None),
            provisional=provisional,
            as_of=f"build {made.build_id} · data through {made.data_through}",
        )
        check_sql = """
            select sum(spend), sum(gmv), sum(compensation_amount) from finance.compensation_claims
            where status = 'final' and compensation_amount > 0 and close_date between ? and ?"""
        coverage = _coverage(con, first, last, final_through)
        out = out or layout.statements
        issued = _issue(
            layout, statement, out, con, coverage, check_sql, [first, last], (first, last)
        )
        return out, issued
    finally:
        con.close()


def _compensation_rows(con, first: dt.date, last: dt.date) -> list[tuple]:
    names = (
        "left join marts.dim_merchant m using (merchant_id)"
        if has_table(con, "marts.dim_merchant")
        else "left join (select null::varchar as merchant_id, null::varchar as merchant_name) "
        "m using (merchant_id)"
    )
    select = ", ".join(
        "c.roi / c.target_roi"
        if c.name == "achievement"
        else f"m.{c.name}"
        if c.name == "merchant_name"
        else f"c.{c.name}"
        for c in COMPENSATION_COLUMNS
    )
    return _fetch(
        con,
        f"""
        select {select}
        from finance.compensation_claims c {names}
        where c.status = 'final' and c.compensation_amount > 0 and c.close_date between ? and ?
        order by c.close_date, c.campaign_version_id""",
        [first, last],
    )


def _compensation_notes(
    con, first: dt.date, last: dt.date, provisional_after: dt.date | None
) -> list[tuple[str, str]]:
    """The rules behind the lines, with the parameters in force (``provisional_after``: the
    last final close date of a provisional statement)."""
    names = ("protection_trigger", "min_protected_spend", "window_spend_days", "window_max_days")
    p = {k: param(con, k) for k in names}
    trigger = p["protection_trigger"]
    statement = (
        f"Cost-protection compensation of final assessment windows closed {first} … {last}; "
        "only windows with an amount above 0 are listed, every one settled (reason: "
        "compensated)."
    )
    if provisional_after is not None:
        statement += (
            f" PROVISIONAL: windows closing after {provisional_after} are not final yet and "
            "may still be added or change."
        )
    return [
        ("Statement", statement),
        (
            "Window",
            f"from start_date to close_date: spend day number {p['window_spend_days']} of the "
            f"version, or calendar day number {p['window_max_days']} if earlier; spend and GMV "
            "(full-site: paid and natural) over the window.",
        ),
        (
            "Eligible",
            "a tagged product, a recommended target (tier_1, tier_2, tier_3; not custom), "
            f"window spend ≥ {p['min_protected_spend']} CNY.",
        ),
        (
            "Trigger",
            f"GMV < {trigger} × target ROI × spend (achievement = ROI ÷ target below "
            f"{trigger:.0%}).",
        ),
        (
            "Amount",
            f"round2(spend − GMV ÷ ({trigger} × target ROI)): the cost above what an "
            f"achievement of {trigger:.0%} would have cost; zero exactly at the trigger. "
            "Settled in the month of the close date.",
        ),
    ]
