"""The launch article's claims against the warehouse (issue 23): the brief's scorecard.

Each measured figure is a metric of the semantic layer (D39): the median GMV uplift of
final versions, the recommended tiers' extra natural traffic over custom, and each final
window's ROI over its category's median. Only the article's own numbers are written here:
they are quotations of the launch article (seed-article.txt), not rules.
"""

from __future__ import annotations

import datetime as dt

import duckdb

from publications import metrics

# What the article promises (seed-article.txt).
ARTICLE_GMV_UPLIFT = 0.65  # "+65 % GMV in 7 days"
ARTICLE_TRAFFIC_BOOST = 0.40  # "up to 40 % extra traffic boost" with the recommended ROI
ARTICLE_ROI_VS_AVERAGE = 4.0  # "exceeds the industry average by 300 %": 4 × the average

MEASURED = [
    "median_gmv_uplift",
    "final_uplift_versions",
    "natural_uplift_vs_custom",
    "versions_compared_with_custom",
    "median_roi_vs_category",
    "share_above_category_median",
    "windows_with_category_median",
]


def scorecard(con: duckdb.DuckDBPyConnection, D: dt.date | None = None) -> list[dict]:
    """The three claims, measured from the rows final up to ``D`` (default: all)."""
    found = metrics.ask(con, MEASURED, end=D)
    m = (
        {k: (None if v is None or v != v else v) for k, v in found.iloc[0].to_dict().items()}
        if len(found)
        else dict.fromkeys(MEASURED)
    )
    rows = [
        {
            "claim": "GMV in the 7 days after launch",
            "article": f"{ARTICLE_GMV_UPLIFT:+.0%}",
            "measured": m["median_gmv_uplift"],
            "shown": _pct(m["median_gmv_uplift"], signed=True),
            "target": ARTICLE_GMV_UPLIFT,
            "basis": f"metric median_gmv_uplift: the median over "
            f"{m['final_uplift_versions'] or 0:,} final campaign versions",
        },
        {
            "claim": "Extra natural traffic with a recommended ROI",
            "article": f"up to {ARTICLE_TRAFFIC_BOOST:+.0%}",
            "measured": m["natural_uplift_vs_custom"],
            "shown": _pct(m["natural_uplift_vs_custom"], signed=True, points=True),
            "target": ARTICLE_TRAFFIC_BOOST,
            "basis": f"metric natural_uplift_vs_custom: the recommended tiers' median "
            f"natural-traffic uplift minus custom's, "
            f"weighted by versions ({m['versions_compared_with_custom'] or 0:,} versions compared)",
        },
        {
            "claim": "ROI against the category",
            "article": f"{ARTICLE_ROI_VS_AVERAGE:.0f}× the average",
            "measured": m["median_roi_vs_category"],
            "shown": "—"
            if m["median_roi_vs_category"] is None
            else f"{m['median_roi_vs_category']:.2f}×",
            "target": ARTICLE_ROI_VS_AVERAGE,
            "basis": "metric median_roi_vs_category: the median of each final window's ROI over "
            f"its category's median; {_pct(m['share_above_category_median'])} of "
            f"{m['windows_with_category_median'] or 0:,} windows are above their category "
            "median (share_above_category_median, decided exactly)",
        },
    ]
    for row in rows:
        row["verdict"] = verdict(row)
    return rows


def _pct(value, signed: bool = False, points: bool = False) -> str:
    if value is None:
        return "—"
    text = f"{value:+.0%}" if signed else f"{value:.0%}"
    return text.replace("%", " points") if points else text


def verdict(row: dict) -> str:
    if row["measured"] is None:
        return "not measurable yet"
    return "met" if row["measured"] >= row["target"] else "not met"
