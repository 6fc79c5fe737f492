"""The nightly brief (issues 19, 35, 39): drawn after every publication from the published
warehouse alone, its figures the semantic layer's metrics, light (one shared plotly.js per
folder), offline wherever the folder is copied, and escaped; and the data docs across runs.
The night is the shared next night (tests/conftest.py next_night)."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import duckdb
import pandas as pd
from typer.testing import CliRunner

from fullsite.layout import Layout
from orchestration import runlog
from orchestration.cli import app
from publications import metrics
from publications.brief import figures, render
from publications.charts import REASON_COLORS, nice_ticks
from tests.conftest import NEXT

NETWORK = re.compile(
    r"""(?:src|href)\s*=\s*["']?(?:https?:)?//|@import|url\(\s*["']?https?:|<link""", re.I
)
SCRIPT_SRC = re.compile(r"""<script src="([^"]+)"></script>""")


def _fetches(html: str):
    """Anything the page would load from a network."""
    return NETWORK.search(re.sub(r"<script>.*?</script>", "<script></script>", html, flags=re.S))


def _brief(root: Path, day: dt.date | None = None) -> Path:
    return Layout(root).brief(day)


def test_every_publication_draws_a_light_brief_and_latest(next_night_root):
    """Night: the shared next night, made in tests/conftest.py (next_night)."""
    page = _brief(next_night_root, NEXT)
    assert page.exists() and _brief(next_night_root).read_bytes() == page.read_bytes()
    html = page.read_text()
    assert not _fetches(html), _fetches(html)
    assert html.count('data-chart="chart-') == 7 and "Plotly.newPlot" in html
    assert "Launch claims scorecard" in html and "Gates of the run that published" in html
    assert page.stat().st_size <= 300_000  # the charts' library is shared, not inlined
    (script,) = SCRIPT_SRC.findall(html)
    assert (
        re.fullmatch(r"assets/plotly-[0-9.]+\.min\.js", script)
        and (page.parent / script).stat().st_size > 1_000_000
    )


def test_a_copied_reports_folder_opens_offline(next_night_root, tmp_path):
    """The pages reference the one plotly.js by relative path: moved or copied whole, the
    Night: the shared next night, made in tests/conftest.py (next_night).
    folder still finds it (nothing is fetched from a network)."""
    moved = Path(
        shutil.copytree(Layout(next_night_root).reports, tmp_path / "elsewhere" / "reports")
    )
    for page in (moved / "brief").glob("*.html"):
        html = page.read_text()
        (script,) = SCRIPT_SRC.findall(html)
        assert (page.parent / script).is_file(), (page, script)
        assert not _fetches(html)


def test_the_headline_figures_are_the_metrics(next_night_root):
    """Night: the shared next night, made in tests/conftest.py (next_night)."""
    con = duckdb.connect(str(next_night_root / "warehouse.duckdb"), read_only=True)
    try:
        b = figures(con, NEXT)
        week, month = NEXT - dt.timedelta(days=6), NEXT.replace(day=1)
        m = lambda name, start: metrics.value(con, name, start=start, end=NEXT)  # noqa: E731
        expected = {
            "gmv": m("gmv", NEXT),
            "natural_share": m("natural_share", NEXT),
            "spend": m("spend", NEXT),
            "full_site_roi": m("full_site_roi", NEXT),
            "full_site_roi_7d": m("full_site_roi", week),
            "gmv_7d": m("gmv", week),
            "spend_7d": m("spend", week),
            "windows_closed_7d": m("windows_closed", week),
            "windows_below_protection_line_7d": m("windows_below_protection_line", week),
            "compensation_mtd": m("compensation", month),
            "rebates_mtd": m("rebates", month),
            "median_gmv_uplift": m("median_gmv_uplift", None),
            "final_versions": m("final_uplift_versions", None),
            "rows_in": m("rows_in", NEXT),
            "accepted_rows": m("accepted_rows", NEXT),
            "duplicate_rows": m("duplicate_rows", NEXT),
            "quarantined_rows": m("quarantined_rows", NEXT),
        }
        assert b.headline == expected
        # and the metrics are what the tables say (a few, by hand)
        one = lambda sql: con.execute(sql, [NEXT]).fetchone()  # noqa: E731
        assert (b.headline["gmv"], b.headline["spend"]) == one(
            "select sum(gmv), sum(spend) from marts.fct_product_daily where business_date = ?"
        )
        cg, cs = one(
            "select sum(gmv), sum(spend) from marts.fct_campaign_daily where business_date = ?"
        )
        assert b.headline["full_site_roi"] == float(cg) / float(cs)
        assert (
            b.headline["windows_below_protection_line_7d"]
            == one(
                """select count(*) filter (where below_protection_line) from marts.campaign_roi_7d
               where close_date between ? - 6 and ? and status in ('final',
                   'provisional')""".replace("?", "$1")
            )[0]
        )
        assert (
            b.headline["rows_in"]
            == one("select sum(rows_in) from dq.ingest_reconciliation where ingest_date = ?")[0]
        )
    finally:
        con.close()
    html = _brief(next_night_root, NEXT).read_text()
    for shown in (
        f"{b.headline['gmv']:,.2f}",
        f"{b.headline['spend']:,.2f}",
        f"{b.headline['full_site_roi']:.2f}",
        f"{b.headline['rows_in']:,} / {b.headline['quarantined_rows']:,}",
    ):
        assert shown in html, shown


def test_the_scorecard_ties_to_the_claim_tables(next_night_root):
    """Night: the shared next night, made in tests/conftest.py (next_night)."""
    from publications.claims import scorecard

    con = duckdb.connect(str(next_night_root / "warehouse.duckdb"), read_only=True)
    try:
        uplift, boost, ratio = (r["measured"] for r in scorecard(con))
        one = lambda sql: con.execute(sql).fetchone()[0]  # noqa: E731
        assert uplift == one(
            "select median(gmv_uplift) from marts.campaign_uplift where is_final and gmv_uplift "
            "is not null"
        )
        assert boost == one("""select sum(natural_uplift_vs_custom * versions) / sum(versions)
                                from marts.roi_choice_effect
                               where natural_uplift_vs_custom is not null""")
        assert ratio == one(
            "select median(roi_vs_category_median) from marts.campaign_roi_vs_category"
        )
    finally:
        con.close()


def test_the_brief_is_a_function_of_the_warehouse(next_night_root, tmp_path):
    """`fullsite brief` on a copy of the published file draws the very same bytes.
    Night: the shared next night, made in tests/conftest.py (next_night)."""
    copy = tmp_path / "root"
    (copy / "raw").mkdir(parents=True)  # a data root (nothing of it is read)
    shutil.copy(next_night_root / "warehouse.duckdb", copy / "warehouse.duckdb")
    result = CliRunner().invoke(app, ["brief", "--data-root", str(copy), "--date", str(NEXT)])
    assert result.exit_code == 0, result.output
    assert _brief(copy, NEXT).read_bytes() == _brief(next_night_root, NEXT).read_bytes()
    later = CliRunner().invoke(
        app, ["brief", "--data-root", str(copy), "--date", str(NEXT + dt.timedelta(days=1))]
    )
    assert later.exit_code != 0 and f"published through {NEXT}" in str(
        later.exception or later.output
    )


def test_upstream_text_is_escaped_in_the_brief(next_night_root):
    """Night: the shared next night, made in tests/conftest.py (next_night)."""
    con = duckdb.connect(str(next_night_root / "warehouse.duckdb"), read_only=True)
    try:
        b = figures(con, NEXT)
    finally:
        con.close()
    evil = "<img src=x onerror=alert(1)>"
    b.frames["top_merchants"] = pd.concat(
        [b.frames["top_merchants"].head(1).assign(merchant__merchant_name=evil)]
    )
    b.frames["top_products"] = (
        b.frames["top_products"].head(1).assign(category="</script><script>alert(2)</script>")
    )
    html = render(b)
    assert evil not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<script>alert(2)" not in html


def test_each_quarantine_reason_has_its_own_colour_and_ticks_are_round():
    assert len(set(REASON_COLORS.values())) == len(REASON_COLORS)
    assert nice_ticks(2.19, 3.71) == [2.0, 2.5, 3.0, 3.5, 4.0]
    assert nice_ticks(0.8, 1.05) == [0.8, 0.85, 0.9, 0.95, 1.0, 1.05]
    assert nice_ticks(0, 3, whole=True) == [0, 1, 2, 3]  # a count axis: no 0.5 windows
    assert nice_ticks(0, 23, whole=True) == [0, 5, 10, 15, 20, 25]


def test_the_data_docs_index_lists_every_run_and_shows_warnings_as_warnings(next_night_root):
    """Night: the shared next night, made in tests/conftest.py (next_night)."""
    docs = next_night_root / "data_docs"
    index = (docs / "index.html").read_text()
    runs = runlog.read_all(next_night_root)
    assert all(f"{r['run_id']}/index.html" in index for r in runs)
    order = [index.index(f"{r['run_id']}/index.html") for r in runs]
    assert order == sorted(order, reverse=True)  # newest first
    last = runs[-1]
    page = Path(last["data_docs"]).read_text()
    assert last["data_docs"] == str(docs / last["run_id"] / "index.html")
    assert (
        "passed with warnings" in page
        and f"clicks dt={NEXT} extra.dat: not a data file (*.parquet), ignored" in page
    )
    assert 'class="badge failed"' not in page
    assert not _fetches(index) and not _fetches(page)
