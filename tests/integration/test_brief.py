"""The nightly brief (issue 19): drawn by every publication, a function of the published
warehouse, self-contained, escaped; and the data docs across runs."""
from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import duckdb
import pandas as pd
from typer.testing import CliRunner

from fullsite import rules
from orchestration import runlog
from orchestration.brief import figures, render
from orchestration.cli import app
from tests.conftest import NEXT

NETWORK = re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//|@import|url\(\s*["']?https?:|<link|<script[^>]+src""", re.I)


def _fetches(html: str):
    """Anything the page would load from a network. Inline script bodies are left out: the
    Plotly bundle names URLs (its logo link, map tiles of trace types we never draw) that a
    page loads only when used."""
    return NETWORK.search(re.sub(r"<script>.*?</script>", "<script></script>", html, flags=re.S))


def _brief(root: Path, day: dt.date) -> Path:
    return root / "reports" / "brief" / f"{day}.html"


def test_every_publication_draws_the_brief_and_latest(next_night_root):
    page = _brief(next_night_root, NEXT)
    assert page.exists() and (page.parent / "latest.html").read_bytes() == page.read_bytes()
    html = page.read_text()
    assert not _fetches(html), _fetches(html)  # scripts, styles and fonts are in the page
    assert html.count('class="plotly-graph-div"') == 7 and "Plotly.newPlot" in html
    assert "Launch claims scorecard" in html and "Gates of the run that published" in html


def test_the_headline_figures_tie_to_sql(next_night_root):
    con = duckdb.connect(str(next_night_root / "warehouse.duckdb"), read_only=True)
    try:
        b = figures(con, NEXT)
        one = lambda sql: con.execute(sql).fetchone()  # noqa: E731
        gmv, paid, natural, spend = one(f"""select sum(gmv), sum(paid_attributed_gmv), sum(natural_gmv), sum(spend)
                                            from marts.fct_product_daily where business_date = DATE '{NEXT}'""")
        cg, cs = one(f"""select sum(gmv), sum(spend) from marts.fct_campaign_daily
                         where business_date between DATE '{NEXT}' - 6 and DATE '{NEXT}'""")
        trigger = rules.param("protection_trigger")
        closed, below = one(f"""select count(*), count(*) filter (where achievement < {trigger}) from marts.campaign_roi_7d
                                where close_date between DATE '{NEXT}' - 6 and DATE '{NEXT}'
                                  and status in ('final', 'provisional') and achievement is not null""")
        comp = one(f"""select coalesce(sum(compensation_amount), 0) from finance.compensation_claims
                       where settlement_month = DATE '{NEXT:%Y-%m-01}'""")[0]
        reb = one(f"select coalesce(sum(rebate_amount), 0) from finance.merchant_rebates_monthly where month = DATE '{NEXT:%Y-%m-01}'")[0]
        rows = one(f"select sum(rows_in), sum(quarantined) from dq.ingest_reconciliation where ingest_date = DATE '{NEXT}'")
        uplift = one("select median(gmv_uplift) from marts.campaign_uplift where is_final and gmv_uplift is not null")[0]
    finally:
        con.close()
    h = b.headline
    assert (h["gmv"], h["paid_gmv"], h["natural_gmv"], h["spend"]) == (float(gmv), float(paid), float(natural), float(spend))
    assert h["full_site_roi_7d"] == float(cg) / float(cs)
    assert (h["windows_closed_7d"], h["windows_below_trigger_7d"]) == (closed, below)
    assert (h["compensation_mtd"], h["rebates_mtd"]) == (float(comp), float(reb))
    assert (h["rows_in"], h["quarantined"]) == rows and h["median_gmv_uplift"] == uplift
    html = _brief(next_night_root, NEXT).read_text()
    for shown in (f"{float(gmv):,.2f}", f"{float(spend):,.2f}", f"{float(comp):,.2f}", f"{rows[0]:,} / {rows[1]:,}"):
        assert shown in html, shown


def test_the_scorecard_ties_to_the_claim_tables(next_night_root):
    from orchestration.claims import scorecard

    con = duckdb.connect(str(next_night_root / "warehouse.duckdb"), read_only=True)
    try:
        uplift, boost, ratio = (r["measured"] for r in scorecard(con))
        one = lambda sql: con.execute(sql).fetchone()[0]  # noqa: E731
        assert uplift == one("select median(gmv_uplift) from marts.campaign_uplift where is_final and gmv_uplift is not null")
        assert boost == one("""select sum(natural_uplift_vs_custom * versions) / sum(versions) from marts.roi_choice_effect
                               where natural_uplift_vs_custom is not null""")
        assert ratio == one("select median(roi / category_median_roi) from marts.campaign_roi_vs_category where category_median_roi > 0")
    finally:
        con.close()


def test_the_brief_is_a_function_of_the_warehouse(next_night_root, tmp_path):
    """`fullsite brief` on a copy of the published file draws the very same bytes."""
    copy = tmp_path / "root"
    (copy / "raw").mkdir(parents=True)  # a data root (nothing of it is read)
    shutil.copy(next_night_root / "warehouse.duckdb", copy / "warehouse.duckdb")
    result = CliRunner().invoke(app, ["brief", "--data-root", str(copy), "--date", str(NEXT)])
    assert result.exit_code == 0, result.output
    assert _brief(copy, NEXT).read_bytes() == _brief(next_night_root, NEXT).read_bytes()
    later = CliRunner().invoke(app, ["brief", "--data-root", str(copy), "--date", str(NEXT + dt.timedelta(days=1))])
    assert later.exit_code != 0 and f"published through {NEXT}" in str(later.exception or later.output)


def test_upstream_text_is_escaped_in_the_brief(next_night_root):
    con = duckdb.connect(str(next_night_root / "warehouse.duckdb"), read_only=True)
    try:
        b = figures(con, NEXT)
    finally:
        con.close()
    evil = "<img src=x onerror=alert(1)>"
    b.frames["top_merchants"] = pd.concat([b.frames["top_merchants"].head(1).assign(merchant_name=evil)])
    html = render(b)
    assert evil not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_the_data_docs_index_lists_every_run_and_shows_warnings_as_warnings(next_night_root):
    docs = next_night_root / "data_docs"
    index = (docs / "index.html").read_text()
    runs = runlog.read_all(next_night_root)
    assert all(f"{r['run_id']}/index.html" in index for r in runs)
    order = [index.index(f"{r['run_id']}/index.html") for r in runs]
    assert order == sorted(order, reverse=True)  # newest first
    last = runs[-1]
    page = Path(last["data_docs"]).read_text()
    assert last["data_docs"] == str(docs / last["run_id"] / "index.html")
    assert "passed with warnings" in page and f"clicks dt={NEXT} extra.dat: not a data file (*.parquet), ignored" in page
    assert 'class="badge failed"' not in page
    assert not _fetches(index) and not _fetches(page)
