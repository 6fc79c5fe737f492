"""The figures `make demo` prints: what a reader should look at first, and where to look
next. Every figure is a metric or a row of the published warehouse, read-only."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

from fullsite.duck import row
from fullsite.layout import Layout
from fullsite.quoting import glob_safe_dir
from publications import metrics
from publications.published import build, connect


def _bin(name: str) -> str:
    """A command of this environment, spelt so that it runs from the current folder without
    activating the venv (``.venv/bin/duckdb`` from the repository)."""
    path = Path(sys.executable).parent / name
    rel = os.path.relpath(path)
    return rel if not rel.startswith("..") else str(path)


def headline(layout: Layout) -> str:
    figures = _figures(layout)
    lines = ["", "fullsite demo — headline figures", *_figure_lines(figures)]
    lines += ["", "where to look (commands work as written from here)"]
    lines += _where_to_look(layout, figures["month"])
    return "\n".join(lines)


def _figures(layout: Layout) -> dict:
    con = connect(layout)
    try:
        last = build(con).data_through
        one = lambda sql, *p: row(con, sql, list(p))  # noqa: E731
        month = one(
            "select max(month) from finance.merchant_rebates_monthly where status = 'final'"
        )[0]
        uplift, versions = metrics.ask(con, ["median_gmv_uplift", "final_uplift_versions"]).iloc[0]
        (void,) = one("select count(*) from finance.compensation_claims where status = 'void'")
        return {
            "last": last,
            "month": month,
            "rebates": one(
                """select count(*), coalesce(sum(rebate_amount), 0), coalesce(sum(spend), 0)
                   from finance.merchant_rebates_monthly where month = ? and status = 'final'""",
                month,
            ),
            "compensation": metrics.ask(con, ["compensated_windows", "compensation"]).iloc[0],
            "void": void,
            "stages": metrics.ask(
                con,
                ["listed_products"],
                ["product_lifecycle_day__stage"],
                start=last,
                end=last,
                order_by=["product_lifecycle_day__stage"],
            ),
            "uplift": uplift,
            "versions": versions,
            "roi": metrics.value(con, "full_site_roi"),
            "tags": one(
                "select count(*) from marts.product_tags_daily where business_date = ?", last
            )[0],
        }
    finally:
        con.close()


def _figure_lines(f: dict) -> list[str]:
    month, reb, comp, last = f["month"], f["rebates"], f["compensation"], f["last"]
    uplift, roi = f["uplift"], f["roi"]
    stages = ", ".join(
        f"{r.product_lifecycle_day__stage} {r.listed_products}" for r in f["stages"].itertuples()
    )
    return [
        f"  rebates {month:%Y-%m} (final):     {reb[0]} merchants, spend {reb[2]:,.2f}, rebates "
        f"{reb[1]:,.2f} CNY"
        if month
        else "  rebates: no final month yet",
        f"  compensation (final windows): {int(comp.compensated_windows or 0)} compensated, "
        f"{comp.compensation or 0:,.2f} CNY; {f['void']} void windows",
        f"  full-site ROI, all days:      {roi:.2f}"
        if roi is not None
        else "  full-site ROI: no campaign spend yet",
        f"  lifecycle stages on {last}:   {stages}",
        f"  tagged products on {last}:    {f['tags']}",
        f"  median GMV uplift:            {uplift:+.0%} over {f['versions']} final versions"
        if uplift is not None and uplift == uplift
        else "  uplift: none final yet",
    ]


def _where_to_look(layout: Layout, month) -> list[str]:
    root, q, fullsite = layout.root, shlex.quote, _bin("fullsite")
    lines = [
        f"  nightly brief (charts):     {layout.brief()}   (opens from disk; fullsite brief "
        "re-draws it)",
        f"  metrics by name:            {fullsite} metrics --data-root {q(str(root))}   "
        "(every metric; README: For analysts)",
        f"  warehouse (read-only SQL):  {_bin('duckdb')} -readonly {q(str(layout.warehouse))}",
    ]
    if month:
        lines.append(
            f"  statements:                 {fullsite} report rebates --data-root "
            f"{q(str(root))} --month {month:%Y-%m}"
        )
    return lines + [
        f"  tables and columns (docs):  {layout.docs_site / 'index.html'}   (opens from disk; "
        "queries: docs/queries.md)",
        f"  data docs (gate findings):  {layout.data_docs / 'index.html'}   (every run, newest "
        "first)",
        f"  run status:                 {fullsite} status --data-root {q(str(root))}",
        f"  Dagster UI:                 FULLSITE_DATA_ROOT={q(str(root))} "
        f"DAGSTER_HOME={q(str(glob_safe_dir(layout.dagster_home)))} "
        f"{_bin('dagster')} dev -m orchestration.definitions",
    ]
