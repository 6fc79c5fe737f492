"""The nightly brief: one self-contained HTML page of how the business and the data did.

    <data-root>/reports/brief/<ingest date>.html   and   latest.html

The brief is a function of the published warehouse (every figure is a query on it, read
only) and of nothing else, so `fullsite brief` re-renders it any time. Charts are Plotly
(D26): its whole JavaScript bundle is written into the page, with inline styles and
system fonts, so the page opens from disk on a machine that reaches no network.

Upstream strings (merchant names, categories, ids) only ever appear in HTML-escaped table
cells; the charts carry dates, numbers and our own enumerations (stages, tiers, reasons).
"""
from __future__ import annotations

import datetime as dt
import html
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from fullsite.contract import TIERS
from fullsite.files import write_text_atomic

TRAILING_DAYS = 30
TOP_N = 10
COLORS = {"paid": "#2e90fa", "natural": "#12b76a", "spend": "#f79009", "roi": "#7a5af8", "line": "#d92d20"}
STAGE_COLORS = {"cold_start": "#98a2b3", "growth": "#32d583", "burst": "#f79009", "steady": "#2e90fa"}  # rules §6


class BriefFailed(Exception):
    """The brief cannot be made (no published warehouse, a date it does not cover)."""


@dataclass
class Brief:
    date: dt.date                                    # the ingest date the brief is about
    published_through: dt.date                       # the last ingest the warehouse holds
    headline: dict = field(default_factory=dict)     # name → number (tied to SQL by the tests)
    frames: dict = field(default_factory=dict)       # name → DataFrame behind a chart or table
    params: dict = field(default_factory=dict)


# ----------------------------------------------------------------------------- figures

def _param(con, name: str) -> float:
    row = con.execute("select value from params.rule_parameters where parameter = ?", [name]).fetchone()
    if row is None:
        raise BriefFailed(f"the warehouse has no rule parameter {name}")
    return float(row[0])


def last_published(con) -> dt.date | None:
    return con.execute("select max(ingest_date) from dq.run_log where status = 'success'").fetchone()[0]


def figures(con, D: dt.date) -> Brief:
    """Every figure of the page, from the published warehouse (``con`` is read only)."""
    through = last_published(con)
    if through is None:
        raise BriefFailed("nothing is published yet: run `fullsite run` first")
    if D > through:
        raise BriefFailed(f"the warehouse is published through {through}; there is no brief for {D} yet")
    b = Brief(D, through)
    first, week = D - dt.timedelta(days=TRAILING_DAYS - 1), D - dt.timedelta(days=6)
    month = D.replace(day=1)
    args = {"d": D, "first": first, "week": week, "month": month}
    def q(sql: str) -> pd.DataFrame:  # named parameters ($d, $first …): DuckDB wants exactly those used
        return con.execute(sql, {k: args[k] for k in set(re.findall(r"\$(\w+)", sql))}).df()
    b.params = {"protection_trigger": _param(con, "protection_trigger"), "late_days": int(_param(con, "late_days"))}

    b.frames["trend"] = q("""
        with p as (select business_date, sum(gmv) gmv, sum(paid_attributed_gmv) paid_gmv, sum(natural_gmv) natural_gmv,
                          sum(spend) spend
                   from marts.fct_product_daily where business_date between $first and $d group by 1),
             c as (select business_date, sum(gmv) campaign_gmv, sum(spend) campaign_spend
                   from marts.fct_campaign_daily where business_date between $first and $d group by 1)
        select p.*, c.campaign_gmv / nullif(c.campaign_spend, 0) as full_site_roi
        from p left join c using (business_date) order by business_date""")
    day = b.frames["trend"][b.frames["trend"].business_date == pd.Timestamp(D)]
    week_rows = b.frames["trend"][b.frames["trend"].business_date >= pd.Timestamp(week)]
    cw = q("select sum(gmv) g, sum(spend) s from marts.fct_campaign_daily where business_date between $week and $d"
           ).iloc[0].tolist()
    b.headline.update({
        "gmv": float(day.gmv.sum()), "paid_gmv": float(day.paid_gmv.sum()), "natural_gmv": float(day.natural_gmv.sum()),
        "spend": float(day.spend.sum()), "full_site_roi": _num(day.full_site_roi.iloc[0]) if len(day) else None,
        "gmv_7d": float(week_rows.gmv.sum()), "spend_7d": float(week_rows.spend.sum()),
        "full_site_roi_7d": float(cw[0]) / float(cw[1]) if cw[1] else None,
    })

    b.frames["achievement"] = q("""
        select campaign_version_id, close_date, status, achievement from marts.campaign_roi_7d
        where close_date between $week and $d and status in ('final', 'provisional') and achievement is not null""")
    ach = b.frames["achievement"].achievement
    b.headline.update({"windows_closed_7d": int(len(ach)),
                       "windows_below_trigger_7d": int((ach < b.params["protection_trigger"]).sum())})

    b.frames["stages"] = q("""select business_date, stage, count(*) as products from marts.product_lifecycle_daily
                              where business_date between $first and $d group by all order by 1, 2""")

    b.frames["money_by_tier"] = q("""
        with comp as (select m.merchant_tier, sum(c.compensation_amount) as compensation,
                             count(*) filter (where c.compensation_amount > 0) as compensated_windows
                      from finance.compensation_claims c join marts.dim_merchant m using (merchant_id)
                      where c.settlement_month = $month and c.close_date <= $d group by 1),
             reb as (select merchant_tier, sum(rebate_amount) as rebates, count(*) as merchants, any_value(status) as status
                     from finance.merchant_rebates_monthly where month = $month group by 1)
        select coalesce(comp.merchant_tier, reb.merchant_tier) as merchant_tier,
               coalesce(compensation, 0) as compensation, coalesce(compensated_windows, 0) as compensated_windows,
               coalesce(rebates, 0) as rebates, coalesce(merchants, 0) as merchants, status
        from comp full join reb using (merchant_tier) order by 1""")
    mt = b.frames["money_by_tier"]
    b.headline.update({"compensation_mtd": float(mt.compensation.sum()), "rebates_mtd": float(mt.rebates.sum())})

    b.frames["uplift"] = q("""select u.campaign_version_id, u.start_date, u.gmv_uplift, u.natural_traffic_uplift
                              from marts.campaign_uplift u where u.is_final and u.gmv_uplift is not null""")
    up = b.frames["uplift"]
    b.headline.update({"median_gmv_uplift": _num(up.gmv_uplift.median()) if len(up) else None,
                       "final_versions": int(len(up))})

    b.frames["top_merchants"] = q(f"""
        select m.merchant_name, d.merchant_id, m.merchant_tier, sum(d.gmv) gmv, sum(d.natural_gmv) natural_gmv,
               sum(d.spend) spend, sum(d.gmv) / nullif(sum(d.spend), 0) roi, sum(d.orders) orders
        from marts.merchant_daily d left join marts.dim_merchant m using (merchant_id)
        where d.business_date between $week and $d group by all order by gmv desc, merchant_id limit {TOP_N}""")
    b.frames["top_products"] = q(f"""
        select f.product_id, p.merchant_name, f.category, l.stage, sum(f.gmv) gmv, sum(f.orders) orders,
               sum(f.spend) spend, sum(f.gmv) / nullif(sum(f.spend), 0) roi
        from marts.fct_product_daily f left join marts.dim_product p using (product_id)
        left join marts.product_lifecycle_daily l on l.product_id = f.product_id and l.business_date = $d
        where f.business_date between $week and $d group by all order by gmv desc, f.product_id limit {TOP_N}""")

    b.frames["rows"] = q("""select ingest_date, sum(rows_in) rows_in, sum(accepted) accepted, sum(duplicates) duplicates,
                                   sum(quarantined) quarantined
                            from dq.ingest_reconciliation where ingest_date between $first and $d group by 1 order by 1""")
    b.frames["quarantine"] = q("""select ingest_date, reason, sum(rows) as rows from dq.quarantine_summary
                                  where ingest_date between $first and $d group by all order by 1, 2""")
    b.frames["quarantine_today"] = q("""select table_name, reason, rows from dq.quarantine_summary
                                        where ingest_date = $d order by rows desc, table_name, reason""")
    r = b.frames["rows"][b.frames["rows"].ingest_date == pd.Timestamp(D)]
    b.headline.update({"rows_in": int(r.rows_in.sum()), "accepted": int(r.accepted.sum()),
                       "duplicates": int(r.duplicates.sum()), "quarantined": int(r.quarantined.sum())})
    b.frames["runs"] = q("""select run_id, ingest_date, status, failed_gate, message, gates, data_docs, started_at
                            from dq.run_log where ingest_date <= $d order by started_at desc limit 10""")
    b.frames["gates"] = _gates_of(q("""select gates from dq.run_log where ingest_date = $d and status = 'success'
                                       order by started_at desc limit 1"""))
    return b


def _num(value):
    return None if value is None or pd.isna(value) else float(value)


def _gates_of(frame: pd.DataFrame) -> pd.DataFrame:
    rows = []
    if len(frame) and frame.gates.iloc[0]:
        for gate, g in json.loads(frame.gates.iloc[0]).items():
            rows.append({"gate": gate, "passed": g.get("passed"), "evaluated": g.get("evaluated"),
                         "errors": g.get("errors") or [], "warnings": g.get("warnings") or []})
    return pd.DataFrame(rows, columns=["gate", "passed", "evaluated", "errors", "warnings"])


# ----------------------------------------------------------------------------- charts

def _layout(fig, title: str, height: int = 340):
    fig.update_layout(meta={"title": title}, height=height, margin={"l": 50, "r": 20, "t": 16, "b": 40}, template="plotly_white",
                      legend={"orientation": "h", "y": -0.18}, font={"family": "-apple-system, Segoe UI, Roboto, Arial, sans-serif"},
                      hovermode="x unified")
    return fig


def _charts(b: Brief) -> dict[str, str]:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    out = {}
    t = b.frames["trend"]
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_bar(x=t.business_date, y=t.paid_gmv.astype(float), name="paid GMV", marker_color=COLORS["paid"])
    fig.add_bar(x=t.business_date, y=t.natural_gmv.astype(float), name="natural GMV", marker_color=COLORS["natural"])
    fig.add_scatter(x=t.business_date, y=t.spend.astype(float), name="spend", mode="lines+markers",
                    line={"color": COLORS["spend"], "width": 2})
    fig.add_scatter(x=t.business_date, y=t.full_site_roi.astype(float), name="full-site ROI (right axis)",
                    mode="lines", line={"color": COLORS["roi"], "width": 2, "dash": "dot"}, secondary_y=True)
    fig.update_layout(barmode="stack")
    fig.update_yaxes(title_text="CNY", secondary_y=False)
    fig.update_yaxes(title_text="ROI", secondary_y=True, showgrid=False, tickformat=".2f")
    out["trend"] = _layout(fig, f"GMV (paid + natural), spend and full-site ROI, {TRAILING_DAYS} days", 380)

    a = b.frames["achievement"]
    fig = go.Figure()
    fig.add_histogram(x=a.achievement.astype(float).clip(upper=3), xbins={"start": 0, "size": 0.1},
                      marker_color=COLORS["paid"], name="windows")
    trig = b.params["protection_trigger"]
    fig.add_vline(x=trig, line={"color": COLORS["line"], "dash": "dash", "width": 2},
                  annotation_text=f"protection line {trig:.0%} of target", annotation_position="top right")
    fig.update_xaxes(title_text="achievement = 7-day ROI ÷ target ROI (above 300 % shown at 300 %)", tickformat=".0%")
    fig.update_yaxes(title_text="windows")
    out["achievement"] = _layout(fig, "7-day ROI achievement of the windows closed in the last 7 days")

    s = b.frames["stages"]
    fig = go.Figure()
    for stage in [x for x in STAGE_COLORS if x in set(s.stage)] + sorted(set(s.stage) - set(STAGE_COLORS)):
        part = s[s.stage == stage]
        fig.add_scatter(x=part.business_date, y=part.products, name=stage, stackgroup="stages", mode="lines",
                        line={"width": 0.5, "color": STAGE_COLORS.get(stage)})
    fig.update_yaxes(title_text="products")
    out["stages"] = _layout(fig, "Lifecycle stage mix")

    m = b.frames["money_by_tier"].set_index("merchant_tier").reindex(list(TIERS)).fillna(0).reset_index()
    fig = go.Figure()
    fig.add_bar(x=m.merchant_tier, y=m.compensation.astype(float), name="compensation", marker_color=COLORS["line"])
    fig.add_bar(x=m.merchant_tier, y=m.rebates.astype(float), name="rebates", marker_color=COLORS["paid"])
    fig.update_layout(barmode="group", hovermode="closest")
    fig.update_yaxes(title_text="CNY")
    out["money"] = _layout(fig, f"Compensation and rebates accrued in {b.date:%B %Y} by merchant tier")

    u = b.frames["uplift"]
    fig = go.Figure()
    fig.add_histogram(x=u.gmv_uplift.astype(float).clip(-1, 5), xbins={"size": 0.25}, marker_color=COLORS["natural"],
                      name="final versions")
    if b.headline["median_gmv_uplift"] is not None:
        fig.add_vline(x=b.headline["median_gmv_uplift"], line={"color": "#101828", "dash": "dash"},
                      annotation_text=f"median {b.headline['median_gmv_uplift']:+.0%}")
    fig.update_xaxes(title_text="7-day GMV uplift (values above +500 % shown at +500 %)", tickformat="+.0%")
    fig.update_yaxes(title_text="campaign versions")
    out["uplift"] = _layout(fig, "GMV uplift of final campaign versions (7 days after start vs 7 days before)")

    r = b.frames["rows"]
    fig = go.Figure()
    for col, color in (("accepted", COLORS["natural"]), ("duplicates", "#98a2b3"), ("quarantined", COLORS["line"])):
        fig.add_bar(x=r.ingest_date, y=r[col], name=col, marker_color=color)
    fig.update_layout(barmode="stack")
    fig.update_yaxes(title_text="rows")
    out["rows"] = _layout(fig, "Event rows per ingest: accepted, duplicate, quarantined")

    qr = b.frames["quarantine"]
    fig = go.Figure()
    for reason in sorted(set(qr.reason)):
        part = qr[qr.reason == reason]
        fig.add_bar(x=part.ingest_date, y=part.rows, name=reason)
    fig.update_layout(barmode="stack")
    fig.update_yaxes(title_text="rows")
    out["quarantine"] = _layout(fig, "Quarantined rows by reason")
    config = {"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": ["lasso2d", "select2d"]}
    # The title is HTML (a heading like every section's), not drawn inside the chart.
    # Fixed element ids: the same warehouse draws the same bytes.
    return {k: f"<h2>{_e(f.layout.meta['title'])}</h2>" + f.to_html(full_html=False, include_plotlyjs=False, config=config,
                                                                     div_id=f"chart-{k}")
            for k, f in out.items()}


# ----------------------------------------------------------------------------- page

def _e(text) -> str:
    return html.escape("" if text is None else str(text), quote=True)


def money(value) -> str:
    return "—" if value is None or pd.isna(value) else f"{float(value):,.2f}"


def ratio(value, fmt: str = "{:.2f}") -> str:
    return "—" if value is None or pd.isna(value) else fmt.format(float(value))


def _table(frame: pd.DataFrame, columns: list[tuple[str, str, callable]]) -> str:
    head = "".join(f"<th>{_e(label)}</th>" for _, label, _ in columns)
    body = "".join("<tr>" + "".join(
        f"<td class={'num' if fmt in (money, ratio, _int) else 'txt'}>{_e(fmt(row[col]) if fmt else row[col])}</td>"
        for col, _, fmt in columns) + "</tr>" for _, row in frame.iterrows())
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _day(value) -> str:
    return "" if value is None or pd.isna(value) else f"{pd.Timestamp(value):%Y-%m-%d}"


def _int(value) -> str:
    return "—" if value is None or pd.isna(value) else f"{int(value):,}"


def _quarantine_today(frame: pd.DataFrame, most: int = 12) -> str:
    """The night's quarantine by table and reason, largest first (the rest summed)."""
    if not len(frame):
        return "<p>none</p>"
    table = _table(frame.head(most), [("table_name", "table", None), ("reason", "reason", None), ("rows", "rows", _int)])
    rest = frame.iloc[most:]
    more = (f"<p class=note>+{len(rest)} more table × reason pairs, {int(rest.rows.sum()):,} rows "
            "(dq.quarantine_summary has them all)</p>") if len(rest) else ""
    return table + more


def _card(label: str, value: str, note: str = "") -> str:
    return f"<div class=card><div class=label>{_e(label)}</div><div class=value>{_e(value)}</div><div class=note>{_e(note)}</div></div>"


def render(b: Brief, extra_sections: str = "") -> str:
    import plotly.offline

    h, charts = b.headline, _charts(b)
    natural_share = h["natural_gmv"] / h["gmv"] if h["gmv"] else None
    cards = "".join([
        _card(f"GMV {b.date}", money(h["gmv"]), f"natural {ratio(natural_share, '{:.0%}')} · provisional for {b.params['late_days']} days"),
        _card("Spend", money(h["spend"]), "valid paid clicks"),
        _card("Full-site ROI", ratio(h["full_site_roi"]), f"7 days: {ratio(h['full_site_roi_7d'])}"),
        _card("GMV, last 7 days", money(h["gmv_7d"]), f"spend {money(h['spend_7d'])}"),
        _card("Windows closed, 7 days", _int(h["windows_closed_7d"]),
              f"{_int(h['windows_below_trigger_7d'])} below {b.params['protection_trigger']:.0%} of target"),
        _card(f"Compensation, {b.date:%b} to date", money(h["compensation_mtd"]), f"rebates {money(h['rebates_mtd'])}"),
        _card("Median GMV uplift", ratio(h["median_gmv_uplift"], "{:+.0%}"), f"{_int(h['final_versions'])} final versions"),
        _card("Rows in / quarantined", f"{h['rows_in']:,} / {h['quarantined']:,}",
              f"{h['accepted']:,} accepted · {h['duplicates']:,} duplicates"),
    ])
    gates = b.frames["gates"]
    gate_rows = "".join(
        f"<tr><td>{_e(g.gate)}</td><td><span class='badge {'passed' if g.passed and not g.warnings else ('warned' if g.passed else 'failed')}'>"
        f"{'passed' if g.passed else 'failed'}{' with warnings' if g.passed and g.warnings else ''}</span></td>"
        f"<td class=num>{_int(g.evaluated)}</td><td>{''.join(f'<div>{_e(x)}</div>' for x in g.errors + g.warnings) or '—'}</td></tr>"
        for g in gates.itertuples())
    runs = b.frames["runs"]
    run_rows = "".join(
        f"<tr><td class=mono>{_e(r.run_id)}</td><td class=nowrap>{_e(_day(r.ingest_date))}</td><td><span class='badge "
        f"{'passed' if r.status == 'success' else 'failed'}'>{_e(r.status)}</span></td><td>{_e(r.message or '')}</td></tr>"
        for r in runs.itertuples())
    mt = b.frames["money_by_tier"].copy()
    sections = f"""
<section class=cards>{cards}</section>
<section>{charts['trend']}<p class=note>Paid GMV is attributed to a valid paid click; natural GMV is the rest.
Full-site ROI counts the whole GMV of the promoted products on their campaign days over their spend (rules §1).</p></section>
<div class=grid>
<section>{charts['achievement']}<p class=note>{h['windows_closed_7d']:,} windows (final or provisional) closed
{b.date - dt.timedelta(days=6)} … {b.date}; {h['windows_below_trigger_7d']:,} are below the protection line.</p></section>
<section>{charts['stages']}</section>
<section>{charts['money']}{_table(mt, [("merchant_tier", "tier", None), ("compensation", "compensation", money),
                                       ("compensated_windows", "windows compensated", _int), ("rebates", "rebates", money),
                                       ("merchants", "merchants with rebate rows", _int), ("status", "rebate status", None)])}</section>
<section>{charts['uplift']}</section>
</div>
{extra_sections}
<div class=grid>
<section><h2>Top merchants, last 7 days</h2>{_table(b.frames['top_merchants'], [
        ("merchant_name", "merchant", None), ("merchant_id", "id", None), ("merchant_tier", "tier", None),
        ("gmv", "GMV", money), ("natural_gmv", "natural GMV", money), ("spend", "spend", money), ("roi", "ROI", ratio),
        ("orders", "orders", _int)])}</section>
<section><h2>Top products, last 7 days</h2>{_table(b.frames['top_products'], [
        ("product_id", "product", None), ("merchant_name", "merchant", None), ("category", "category", None),
        ("stage", f"stage on {b.date}", None), ("gmv", "GMV", money), ("orders", "orders", _int),
        ("spend", "spend", money), ("roi", "ROI", ratio)])}</section>
</div>
<h2 class=part>Data quality</h2>
<div class=grid>
<section>{charts['rows']}</section>
<section>{charts['quarantine']}</section>
<section><h2>Gates of the run that published {b.date}</h2><table><thead><tr><th>gate</th><th>result</th><th>checks</th>
<th>findings</th></tr></thead><tbody>{gate_rows or '<tr><td colspan=4>no gate record</td></tr>'}</tbody></table>
<h2 style="margin-top:16px">Quarantined on {b.date}</h2>{_quarantine_today(b.frames['quarantine_today'])}</section>
<section><h2>Recent runs</h2><table><thead><tr><th>run</th><th>ingest</th><th>status</th><th>message</th></tr></thead>
<tbody>{run_rows}</tbody></table></section>
</div>"""
    title = f"fullsite nightly brief · {b.date}"
    return (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{_e(title)}</title>"
            f"<meta name=viewport content='width=device-width, initial-scale=1'><style>{STYLE}</style>"
            f"<script>{plotly.offline.get_plotlyjs()}</script></head><body>"
            f"<header><h1>{_e(title)}</h1><p>Ingest {b.date}: every figure is read from the published warehouse "
            f"(published through ingest {b.published_through}). Amounts in CNY.</p></header>"
            f"<main>{sections}</main><script>{RESIZE}</script></body></html>")


# Charts drawn before the grid settled keep their first width: fit each to its box once laid out.
RESIZE = ("window.addEventListener('load', function () { document.querySelectorAll('.js-plotly-plot')"
          ".forEach(function (el) { Plotly.Plots.resize(el); }); });")

STYLE = """
* { box-sizing: border-box; }
body { margin: 0; background: #f9fafb; color: #101828; font: 14px/1.45 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
header { background: #fff; border-bottom: 1px solid #e4e7ec; padding: 16px 32px; }
header h1 { margin: 0 0 4px; font-size: 20px; }
header p { margin: 0; color: #667085; }
main { padding: 20px 32px; max-width: 1600px; }
section { background: #fff; border: 1px solid #e4e7ec; border-radius: 8px; padding: 12px 16px; margin-bottom: 16px;
          overflow-x: auto; min-width: 0; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(560px, 100%), 1fr)); gap: 0 16px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(160px, 1fr)); gap: 12px; background: none; border: 0; padding: 0; }
.card { background: #fff; border: 1px solid #e4e7ec; border-radius: 8px; padding: 12px 14px; }
.card .label { color: #667085; font-size: 12.5px; }
.card .value { font-size: 22px; font-weight: 600; font-variant-numeric: tabular-nums; margin: 2px 0; }
.card .note, p.note { color: #667085; font-size: 12.5px; margin: 4px 0 0; }
h2 { font-size: 15px; margin: 4px 0 10px; }
h2.part { font-size: 17px; margin: 24px 0 12px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid #eaecf0; vertical-align: top; }
th { background: #f2f4f7; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.mono { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; }
.nowrap { white-space: nowrap; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; white-space: nowrap; }
.passed { color: #067647; background: #ecfdf3; } .warned { color: #a15c07; background: #fffaeb; } .failed { color: #b42318; background: #fef3f2; }
.score td.verdict { font-weight: 600; }
"""


def write_brief(root: Path, date: dt.date | None = None) -> Path:
    """Render the brief of ``date`` (default: the last published ingest) from the published
    warehouse; write ``<date>.html`` and, for the last published date, ``latest.html``."""
    warehouse = Path(root) / "warehouse.duckdb"
    if not warehouse.exists():
        raise BriefFailed(f"no published warehouse at {warehouse}: run `fullsite run` first")
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        D = date or last_published(con)
        if D is None:
            raise BriefFailed("nothing is published yet: run `fullsite run` first")
        b = figures(con, D)
        from orchestration.claims import scorecard_section
        page = render(b, scorecard_section(con, D))
    finally:
        con.close()
    out = Path(root) / "reports" / "brief"
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"{D}.html"
    write_text_atomic(target, page)
    if D == b.published_through:
        write_text_atomic(out / "latest.html", page)
    return target

