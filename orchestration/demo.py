"""The figures `make demo` prints: what a reader should look at first."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import duckdb


def _bin(name: str) -> str:
    """A command of this environment, spelt so that it runs from the current folder without
    activating the venv (``.venv/bin/duckdb`` from the repository)."""
    path = Path(sys.executable).parent / name
    rel = os.path.relpath(path)
    return rel if not rel.startswith("..") else str(path)


def headline(root: Path) -> str:
    wh = root / "warehouse.duckdb"
    con = duckdb.connect(str(wh), read_only=True)
    try:
        one = lambda sql: con.execute(sql).fetchone()  # noqa: E731
        month = one("select max(month) from finance.merchant_rebates_monthly where status = 'final'")[0]
        reb = one(f"select count(*), coalesce(sum(rebate_amount), 0), coalesce(sum(spend), 0) from finance.merchant_rebates_monthly where month = DATE '{month}' and status = 'final'") if month else (0, 0, 0)
        comp = one("select count(*) filter (where compensation_amount > 0), coalesce(sum(compensation_amount), 0), count(*) filter (where status = 'void') from finance.compensation_claims")
        last = one("select max(business_date) from marts.product_lifecycle_daily")[0]
        stages = con.execute(f"select stage, count(*) from marts.product_lifecycle_daily where business_date = DATE '{last}' group by 1 order by 1").fetchall()
        uplift = one("select median(gmv_uplift), count(*) from marts.campaign_uplift where is_final and gmv_uplift is not null")
        tags = one(f"select count(*) from marts.product_tags_daily where business_date = DATE '{last}'")[0]
    finally:
        con.close()
    lines = [
        "",
        "fullsite demo — headline figures",
        f"  rebates {month:%Y-%m} (final):     {reb[0]} merchants, spend {reb[2]:,.2f}, rebates {reb[1]:,.2f} CNY" if month else "  rebates: no final month yet",
        f"  compensation (final windows): {comp[0]} compensated, {comp[1]:,.2f} CNY; {comp[2]} void windows",
        f"  lifecycle stages on {last}:   " + ", ".join(f"{s} {n}" for s, n in stages),
        f"  tagged products on {last}:    {tags}",
        f"  median 7-day GMV uplift:      {uplift[0]:+.0%} over {uplift[1]} final versions" if uplift[0] is not None else "  uplift: none final yet",
        "",
        "where to look (commands work as written from here)",
        f"  nightly brief (charts):     {root / 'reports' / 'brief' / 'latest.html'}   (opens from disk; fullsite brief re-draws it)",
        f"  warehouse (read-only SQL):  {_bin('duckdb')} -readonly {wh}",
        f"  statements:                 {_bin('fullsite')} report rebates --data-root {root} --month {month:%Y-%m}" if month else None,
        f"                              {_bin('fullsite')} report compensation --data-root {root} --from 2024-07-01 --to 2024-08-31",
        f"  tables and columns (docs):  {root / 'docs' / 'index.html'}   (opens from disk; queries: docs/queries.md)",
        f"  data docs (gate findings):  {root / 'data_docs' / 'index.html'}   (every run, newest first)",
        f"  run status:                 {_bin('fullsite')} status --data-root {root}",
        f"  Dagster UI:                 FULLSITE_DATA_ROOT={root} DAGSTER_HOME={(root / 'dagster').resolve()} {_bin('dagster')} dev -m orchestration.definitions",
    ]
    return "\n".join(line for line in lines if line is not None)
