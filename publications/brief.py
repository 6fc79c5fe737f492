"""The nightly brief: one page of how the business and the data did on an ingest date.

    <data-root>/reports/brief/<ingest date>.html, latest.html, assets/plotly-<version>.min.js

The brief is a function of the published warehouse and nothing else, so ``fullsite brief``
draws it again any time (D26). Every business figure on it is a metric of the semantic
layer, asked by name (publications/metrics.py, D40): the page defines no figure of its own.
The charts are Plotly's, drawn by the one copy of plotly.js in ``assets/`` that every page
of the folder references by relative path, so a page weighs kilobytes and still opens from
disk, offline, wherever the ``reports/`` folder is copied (D41).

The page is a Jinja2 template with autoescaping (``templates/brief.html.j2``): upstream
strings (merchant names, categories, ids) are escaped wherever they land; the charts carry
dates, numbers and our own enumerations.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd
import plotly.offline

from fullsite.contract import TIERS
from fullsite.files import write_text_atomic
from fullsite.layout import Layout
from fullsite.pages import render as render_page
from publications import adjustments, charts, claims, metrics
from publications.published import NotPublished, build, connect, param

TRAILING_DAYS = 30
TOP_N = 10


class BriefFailed(Exception):
    """The brief cannot be made (no published warehouse, a date it does not cover)."""


@dataclass
class Brief:
    date: dt.date  # the ingest date the brief is about
    published_through: dt.date  # the last ingest the warehouse holds
    build_id: str  # the warehouse build it was drawn from
    headline: dict = field(default_factory=dict)  # card → value (each a metric, tested)
    frames: dict = field(default_factory=dict)  # name → DataFrame behind a chart or table
    params: dict = field(default_factory=dict)
    scorecard: list = field(default_factory=list)
    adjustments: list = field(default_factory=list)  # open adjustments to closed statements (D46)


# ----------------------------------------------------------------------------- figures


def figures(con: duckdb.DuckDBPyConnection, D: dt.date) -> Brief:
    """Every figure of the page, from the published warehouse (``con`` is read only)."""
    made = build(con)
    if D > made.data_through:
        raise BriefFailed(
            f"the warehouse is published through {made.data_through}; there is no brief for {D} yet"
        )
    b = Brief(D, made.data_through, made.build_id)
    b.params = {
        "protection_trigger": float(param(con, "protection_trigger")),
        "late_days": int(param(con, "late_days")),
    }
    b.headline = _headline(con, D)
    b.frames.update(_trends(con, D))
    b.frames.update(_tops(con, D))
    b.frames.update(_distributions(con, D, made.dagster_run_id))
    b.scorecard = claims.scorecard(con, D)
    b.adjustments = adjustments.open_adjustments(con) if D == made.data_through else []
    return b


def _periods(D: dt.date) -> tuple[dt.date, dt.date, dt.date]:
    """The first day of the trailing charts, of the week and of the month that end on D."""
    return D - dt.timedelta(days=TRAILING_DAYS - 1), D - dt.timedelta(days=6), D.replace(day=1)


def _headline(con: duckdb.DuckDBPyConnection, D: dt.date) -> dict:
    _, week, month = _periods(D)
    one = lambda name, start, end=D: metrics.value(con, name, start=start, end=end)  # noqa: E731
    return {
        "gmv": one("gmv", D),
        "natural_share": one("natural_share", D),
        "spend": one("spend", D),
        "full_site_roi": one("full_site_roi", D),
        "full_site_roi_7d": one("full_site_roi", week),
        "gmv_7d": one("gmv", week),
        "spend_7d": one("spend", week),
        "windows_closed_7d": one("windows_closed", week),
        "windows_below_protection_line_7d": one("windows_below_protection_line", week),
        "compensation_mtd": one("compensation", month),
        "rebates_mtd": one("rebates", month),
        "median_gmv_uplift": one("median_gmv_uplift", None),
        "final_versions": one("final_uplift_versions", None),
        "rows_in": one("rows_in", D),
        "accepted_rows": one("accepted_rows", D),
        "duplicate_rows": one("duplicate_rows", D),
        "quarantined_rows": one("quarantined_rows", D),
    }


def _trends(con: duckdb.DuckDBPyConnection, D: dt.date) -> dict[str, pd.DataFrame]:
    """The trailing days, day by day: money, lifecycle stages, rows and quarantine."""
    first, _, _ = _periods(D)
    by_day = lambda names, *by: metrics.ask(  # noqa: E731
        con, names, ["metric_time__day", *by], start=first, end=D, order_by=["metric_time__day"]
    )
    return {
        "trend": by_day(["gmv", "paid_attributed_gmv", "natural_gmv", "spend", "full_site_roi"]),
        "stages": by_day(["listed_products"], "product_lifecycle_day__stage"),
        "rows": by_day(["accepted_rows", "duplicate_rows", "quarantined_rows"]),
        "quarantine": by_day(["quarantined_rows_by_reason"], "table_ingest_reason__reason"),
        "quarantine_today": metrics.ask(
            con,
            ["quarantined_rows_by_reason"],
            ["table_ingest_reason__quarantined_table", "table_ingest_reason__reason"],
            start=D,
            end=D,
            order_by=[
                "-quarantined_rows_by_reason",
                "table_ingest_reason__quarantined_table",
                "table_ingest_reason__reason",
            ],
        ),
    }


def _tops(con: duckdb.DuckDBPyConnection, D: dt.date) -> dict[str, pd.DataFrame]:
    """The month's money by tier, and the week's top merchants and products."""
    _, week, month = _periods(D)
    ask = lambda names, by, start, **kw: metrics.ask(con, names, by, start=start, end=D, **kw)  # noqa: E731
    money = ask(["compensation", "compensated_windows"], ["merchant__merchant_tier"], month)
    rebates = ask(["rebates"], ["merchant__merchant_tier", "merchant_month__rebate_status"], month)
    top_merchants = ask(
        ["gmv", "natural_gmv", "spend", "merchant_gmv_per_spend", "orders"],
        ["merchant", "merchant__merchant_name", "merchant__merchant_tier"],
        week,
        order_by=["-gmv", "merchant"],
        limit=TOP_N,
    )
    top_products = ask(
        ["gmv", "orders", "spend"], ["product"], week, order_by=["-gmv", "product"], limit=TOP_N
    )
    return {
        "money_by_tier": _by_tier(money, rebates),
        "top_merchants": top_merchants,
        "top_products": _with_product_names(con, top_products, D),
    }


def _distributions(
    con: duckdb.DuckDBPyConnection, D: dt.date, made_by: str | None
) -> dict[str, pd.DataFrame]:
    """One row per window or version: the shape behind a metric, not a figure; and the
    night's runs and gates. The run that made the published build is drawing this page (its
    records say how it ended only once Dagster's run is over, orchestration/outcome.py): it
    shows as 'published', the same before and after, so the page is a function of the
    warehouse."""
    _, week, _ = _periods(D)
    q = lambda sql, **p: con.execute(sql, p).df()  # noqa: E731
    latest_gates = q(
        """select gates from dq.run_log
            where ingest_date = $d and (status = 'success' or dagster_run_id = $made)
            order by started_at desc limit 1""",
        d=D,
        made=made_by,
    )
    return {
        "achievement": q(
            """select achievement from marts.campaign_roi_7d
            where close_date between $week and $d and status in ('final', 'provisional') and
                achievement is not null""",
            week=week,
            d=D,
        ),
        "uplift": q(
            "select gmv_uplift from marts.campaign_uplift "
            "where is_final and gmv_uplift is not null and start_date <= $d",
            d=D,
        ),
        "runs": q(
            """select run_id, ingest_date,
                      if(dagster_run_id = $made, 'published', status) as status,
                      message, started_at
                 from dq.run_log
                where ingest_date <= $d order by started_at desc limit 10""",
            d=D,
            made=made_by,
        ),
        "gates": _gates_of(latest_gates),
    }


def _by_tier(money: pd.DataFrame, rebates: pd.DataFrame) -> pd.DataFrame:
    """Compensation and rebates of the month per merchant tier, every tier in its order."""
    reb = rebates.groupby("merchant__merchant_tier").agg(
        rebates=("rebates", lambda s: sum(s)),
        status=("merchant_month__rebate_status", lambda s: ", ".join(sorted(set(s)))),
    )
    frame = pd.DataFrame({"merchant_tier": list(TIERS)})
    comp = money.set_index("merchant__merchant_tier")
    frame["compensation"] = [comp.compensation.get(t) for t in TIERS]
    frame["compensated_windows"] = [comp.compensated_windows.get(t) for t in TIERS]
    frame["rebates"] = [reb.rebates.get(t) for t in TIERS]
    frame["status"] = [reb.status.get(t) for t in TIERS]
    return frame


def _with_product_names(con, top: pd.DataFrame, D: dt.date) -> pd.DataFrame:
    """The top products with their merchant's name, category and stage on D (attributes)."""
    if not len(top):
        return top.assign(merchant_name=[], category=[], stage=[])
    names = con.execute(
        """select p.product_id, p.merchant_name, p.category, l.stage
                           from marts.dim_product p
                           left join marts.product_lifecycle_daily l on l.product_id =
                               p.product_id and l.business_date = ?
                           where p.product_id in (select unnest(?))""",
        [D, list(top["product"])],
    ).df()
    return top.merge(names, how="left", left_on="product", right_on="product_id").drop(
        columns="product_id"
    )


def _gates_of(frame: pd.DataFrame) -> list[dict]:
    if not len(frame) or not frame.gates.iloc[0]:
        return []
    return [
        {
            "gate": gate,
            "passed": g.get("passed"),
            "evaluated": g.get("evaluated"),
            "findings": (g.get("errors") or []) + (g.get("warnings") or []),
            "status": ("passed" if not g.get("warnings") else "warned")
            if g.get("passed")
            else "failed",
        }
        for gate, g in json.loads(frame.gates.iloc[0]).items()
    ]


# ----------------------------------------------------------------------------- page


def plotly_asset(layout: Layout) -> Path:
    """The one copy of plotly.js of a brief folder (written once per version): pages load it
    by relative path, so the folder opens from disk wherever it is copied."""
    asset = layout.briefs / "assets" / f"plotly-{plotly.offline.get_plotlyjs_version()}.min.js"
    if not asset.exists():
        asset.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(asset, plotly.offline.get_plotlyjs())
    return asset


def render(b: Brief, script: str = "assets/plotly.min.js") -> str:
    """The page (HTML) of a brief; ``script`` is plotly.js's path relative to the page."""
    h = b.headline
    return render_page(
        "publications",
        "brief.html.j2",
        b=b,
        h=h,
        charts=charts.charts(b),
        script=script,
        week_start=b.date - dt.timedelta(days=6),
        trailing_days=TRAILING_DAYS,
    )


def write_brief(layout: Layout, date: dt.date | None = None) -> Path:
    """Draw the brief of ``date`` (default: the last published ingest) from the published
    warehouse; write ``<date>.html`` and, for the last published date, ``latest.html``."""
    try:
        con = connect(layout)
    except NotPublished as exc:
        raise BriefFailed(str(exc)) from None
    try:
        try:
            D = date or build(con).data_through
            b = figures(con, D)
        except NotPublished as exc:
            raise BriefFailed(str(exc)) from None
        asset = plotly_asset(layout)
        page = render(b, f"{asset.parent.name}/{asset.name}")
    finally:
        con.close()
    target = layout.brief(D)
    write_text_atomic(target, page)
    if D == b.published_through:
        write_text_atomic(layout.brief(), page)
    return target


def owed_briefs(layout: Layout) -> list[dt.date]:
    """The nights whose brief is owed: the last night of every successful run (a backfill's
    last date) without its page — a drawing that was killed or failed — and the night the
    warehouse is published through, always (latest.html follows it)."""
    con = connect(layout)
    try:
        through = build(con).data_through
        ends = [
            r[0]
            for r in con.execute("""select max(ingest_date) from dq.run_log where status = 'success'
                                             group by coalesce(dagster_run_id, run_id) order by
                                                 1""").fetchall()
        ]
    finally:
        con.close()
    return sorted({d for d in ends if d < through and not layout.brief(d).exists()} | {through})


def draw_briefs(layout: Layout) -> dict[dt.date, Path]:
    """Draw every owed brief (``owed_briefs``); the pages by date."""
    return {D: write_brief(layout, D) for D in owed_briefs(layout)}
