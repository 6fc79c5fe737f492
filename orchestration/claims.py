"""The launch article's claims against the warehouse (issue 23): the brief's scorecard.

Each figure is a query on the published tables that issue 23 added (product_tag_diagnostics,
roi_choice_effect, category_roi_benchmark, campaign_roi_vs_category) or on campaign_uplift.
"""
from __future__ import annotations

import html

# What the article promises (seed-article.txt).
ARTICLE_GMV_UPLIFT = 0.65          # "+65 % GMV in 7 days"
ARTICLE_TRAFFIC_BOOST = 0.40       # "up to 40 % extra traffic boost" with the recommended ROI
ARTICLE_ROI_VS_AVERAGE = 4.0       # "exceeds the industry average by 300 %": 4 × the average


def scorecard(con) -> list[dict]:
    one = lambda sql: con.execute(sql).fetchone()  # noqa: E731
    uplift, versions = one("select median(gmv_uplift), count(*) from marts.campaign_uplift where is_final and gmv_uplift is not null")
    boost, groups, tier_versions = one("""
        select sum(natural_uplift_vs_custom * versions) / sum(versions), count(*), sum(versions)
        from marts.roi_choice_effect where natural_uplift_vs_custom is not null""")
    above, ratio, windows = one("""
        select avg(cast(above_category_median as integer)), median(roi_vs_category_median), count(*)
        from marts.campaign_roi_vs_category where above_category_median is not null""")
    return [
        {"claim": "GMV in the 7 days after launch", "article": f"{ARTICLE_GMV_UPLIFT:+.0%}",
         "measured": uplift, "shown": _pct(uplift, signed=True), "target": ARTICLE_GMV_UPLIFT,
         "basis": f"median gmv_uplift of {versions:,} final campaign versions (marts.campaign_uplift)"},
        {"claim": "Extra natural traffic with a recommended ROI", "article": f"up to {ARTICLE_TRAFFIC_BOOST:+.0%}",
         "measured": boost, "shown": _pct(boost, signed=True, points=True), "target": ARTICLE_TRAFFIC_BOOST,
         "basis": f"recommended tiers' median natural-traffic uplift minus custom's, weighted by versions, over "
                  f"{groups or 0:,} month × category × tier groups ({int(tier_versions or 0):,} versions; marts.roi_choice_effect)"},
        {"claim": "ROI against the category", "article": f"{ARTICLE_ROI_VS_AVERAGE:.0f}× the average",
         "measured": ratio, "shown": "—" if ratio is None else f"{ratio:.2f}×", "target": ARTICLE_ROI_VS_AVERAGE,
         "basis": f"median of each final window's ROI over its category's median on its close date; "
                  f"{_pct(above)} of {windows or 0:,} windows are above their category median (marts.campaign_roi_vs_category)"},
    ]


def _pct(value, signed: bool = False, points: bool = False) -> str:
    if value is None:
        return "—"
    text = f"{value:+.0%}" if signed else f"{value:.0%}"
    return text.replace("%", " points") if points else text


def verdict(row: dict) -> str:
    if row["measured"] is None:
        return "not measurable yet"
    return "met" if row["measured"] >= row["target"] else "not met"


def scorecard_section(con, D) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(r['claim'])}</td><td class=num>{html.escape(r['article'])}</td>"
        f"<td class=num>{html.escape(r['shown'])}</td><td class=verdict>"
        f"<span class='badge {'passed' if verdict(r) == 'met' else 'warned'}'>{html.escape(verdict(r))}</span></td>"
        f"<td class=note>{html.escape(r['basis'])}</td></tr>" for r in scorecard(con))
    return ("<section class=score><h2>Launch claims scorecard</h2><table><thead><tr><th>claim</th><th>article</th>"
            f"<th>measured</th><th>verdict</th><th>how it is measured</th></tr></thead><tbody>{rows}</tbody></table>"
            "<p class=note>The article's numbers are the platform's launch promises; the measured figures are "
            "this warehouse's final rows to date.</p></section>")
