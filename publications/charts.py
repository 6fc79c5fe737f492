"""The nightly brief's charts (publications/brief.py): one function per chart, each from the
frames the brief read from the published warehouse, as Plotly's JSON (data, layout) that
the page draws with the shared plotly.js (no network)."""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.subplots import make_subplots

from fullsite.contract import QUARANTINE_REASONS

if TYPE_CHECKING:  # the brief imports this module
    from publications.brief import Brief

COLORS = {
    "paid": "#2e90fa",
    "natural": "#12b76a",
    "spend": "#f79009",
    "roi": "#7a5af8",
    "line": "#d92d20",
    "duplicates": "#667085",
}
STAGE_COLORS = {  # the lifecycle stages of rules §6
    "cold_start": "#98a2b3",
    "growth": "#32d583",
    "burst": "#f79009",
    "steady": "#2e90fa",
}
# One colour per quarantine reason, fixed, so a reason looks the same on every night's page.
REASON_COLORS = dict(
    zip(
        QUARANTINE_REASONS,
        (
            "#1f77b4",
            "#ff7f0e",
            "#2ca02c",
            "#d62728",
            "#9467bd",
            "#8c564b",
            "#e377c2",
            "#7f7f7f",
            "#bcbd22",
            "#17becf",
            "#393b79",
            "#ad494a",
            "#637939",
            "#e7ba52",
        ),
        strict=True,
    )
)


def nice_ticks(low: float, high: float, most: int = 6, whole: bool = False) -> list[float]:
    """Round tick values covering [low, high]: steps of 1, 2, 2.5 or 5 times a power of ten;
    ``whole``: steps of at least 1 and never 2.5 (a count has no half windows)."""
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return []
    raw = (high - low) / max(most - 1, 1)
    if whole:
        raw = max(raw, 1.0)
    power = 10 ** math.floor(math.log10(raw))
    steps = (1, 2, 5, 10) if whole else (1, 2, 2.5, 5, 10)
    step = next(m * power for m in steps if m * power >= raw)
    start = math.floor(low / step) * step
    ticks = []
    k = 0
    while start + k * step <= high + step * 1e-9:
        ticks.append(round(start + k * step, 10))
        k += 1
    if ticks[-1] < high:
        ticks.append(round(start + k * step, 10))
    return ticks


def count_axis(fig, values, start: float, size: float) -> None:
    """Whole-number ticks on a histogram's count axis, from the same bins Plotly draws."""
    bins = np.floor((np.asarray(values, dtype=float) - start) / size)
    bins = bins[np.isfinite(bins)]
    most = int(np.unique(bins, return_counts=True)[1].max()) if len(bins) else 0
    ticks = nice_ticks(0, most, whole=True) or [0, 1]
    fig.update_yaxes(tickmode="array", tickvals=ticks, range=[0, ticks[-1]], tickformat=",d")


def _layout(fig, height: int = 340):
    # The top margin holds Plotly's toolbar, clear of ticks and annotations.
    fig.update_layout(
        height=height,
        margin={"l": 56, "r": 24, "t": 36, "b": 40},
        template="plotly_white",
        legend={"orientation": "h", "y": -0.18},
        hovermode="x unified",
        font={"family": "-apple-system, Segoe UI, Roboto, Arial, sans-serif"},
    )
    return fig


def trend(trend: pd.DataFrame):
    """GMV paid and natural (stacked bars), spend, and full-site ROI on a right axis."""
    day = trend.metric_time__day if len(trend) else []
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_bar(
        x=day,
        y=trend.paid_attributed_gmv.astype(float),
        name="paid GMV",
        marker_color=COLORS["paid"],
    )
    fig.add_bar(
        x=day, y=trend.natural_gmv.astype(float), name="natural GMV", marker_color=COLORS["natural"]
    )
    fig.add_scatter(
        x=day,
        y=trend.spend.astype(float),
        name="spend",
        mode="lines+markers",
        line={"color": COLORS["spend"], "width": 2},
    )
    roi = trend.full_site_roi.astype(float)
    fig.add_scatter(
        x=day,
        y=roi,
        name="full-site ROI (right axis)",
        mode="lines",
        line={"color": COLORS["roi"], "width": 2, "dash": "dot"},
        secondary_y=True,
    )
    fig.update_layout(barmode="stack")
    fig.update_yaxes(title_text="CNY", secondary_y=False, tickformat="~s")
    valid = roi.dropna()
    ticks = nice_ticks(float(valid.min()), float(valid.max())) if len(valid) else []
    fig.update_yaxes(
        title_text="full-site ROI",
        secondary_y=True,
        showgrid=False,
        tickmode="array" if ticks else "auto",
        tickvals=ticks or None,
        range=[ticks[0], ticks[-1]] if ticks else None,
        tickformat=".2~f",
    )
    return _layout(fig, 380)


def achievement(windows: pd.DataFrame, trigger: float):
    """Achievement of the windows closed in the last 7 days, with the protection line."""
    fig = go.Figure()
    achieved = windows.achievement.astype(float).clip(upper=3)
    fig.add_histogram(
        x=achieved, xbins={"start": 0, "size": 0.1}, marker_color=COLORS["paid"], name="windows"
    )
    count_axis(fig, achieved, 0, 0.1)
    fig.add_vline(
        x=trigger,
        line={"color": COLORS["line"], "dash": "dash", "width": 2},
        annotation_text=f"protection line {trigger:.0%} of target",
        annotation_position="top right",
    )
    fig.update_xaxes(
        title_text="achievement = window ROI ÷ target ROI (above 300 % shown at 300 %)",
        tickformat=".0%",
        dtick=0.25,
    )
    fig.update_yaxes(title_text="windows")
    return _layout(fig)


def stages(stages: pd.DataFrame):
    """The lifecycle stage mix of listed products, stacked, in the rules' order."""
    fig = go.Figure()
    present = set(stages.product_lifecycle_day__stage) if len(stages) else set()
    for stage in [x for x in STAGE_COLORS if x in present] + sorted(present - set(STAGE_COLORS)):
        part = stages[stages.product_lifecycle_day__stage == stage]
        fig.add_scatter(
            x=part.metric_time__day,
            y=part.listed_products,
            name=stage,
            stackgroup="stages",
            mode="lines",
            line={"width": 0.5, "color": STAGE_COLORS.get(stage)},
        )
    fig.update_yaxes(title_text="listed products")
    return _layout(fig)


def money(by_tier: pd.DataFrame):
    """Compensation and rebates accrued in the month, by merchant tier."""
    fig = go.Figure()
    fig.add_bar(
        x=by_tier.merchant_tier,
        y=[float(v or 0) for v in by_tier.compensation],
        name="compensation",
        marker_color=COLORS["line"],
    )
    fig.add_bar(
        x=by_tier.merchant_tier,
        y=[float(v or 0) for v in by_tier.rebates],
        name="rebates",
        marker_color=COLORS["paid"],
    )
    fig.update_layout(barmode="group")
    fig.update_yaxes(title_text="CNY", tickformat="~s")
    return _layout(fig).update_layout(hovermode="closest")


def uplift(versions: pd.DataFrame, median: float | None):
    """GMV uplift of final campaign versions, with the median."""
    fig = go.Figure()
    values = versions.gmv_uplift.astype(float).clip(-1, 5)
    fig.add_histogram(
        x=values,
        xbins={"start": -1, "size": 0.25},
        marker_color=COLORS["natural"],
        name="final versions",
    )
    count_axis(fig, values, -1, 0.25)
    if median is not None:
        fig.add_vline(
            x=median,
            line={"color": "#101828", "dash": "dash"},
            annotation_text=f"median {median:+.0%}",
        )
    fig.update_xaxes(
        title_text="GMV uplift (values above +500 % shown at +500 %)", tickformat="+.0%", dtick=1
    )
    fig.update_yaxes(title_text="campaign versions")
    return _layout(fig)


def rows(rows: pd.DataFrame):
    """Event rows per ingest: accepted, duplicate, quarantined."""
    fig = go.Figure()
    for col, name, color in (
        ("accepted_rows", "accepted", COLORS["natural"]),
        ("duplicate_rows", "duplicates", COLORS["duplicates"]),
        ("quarantined_rows", "quarantined", COLORS["line"]),
    ):
        fig.add_bar(
            x=rows.metric_time__day if len(rows) else [],
            y=rows[col].astype(float) if len(rows) else [],
            name=name,
            marker_color=color,
        )
    # Side by side on a log axis: a quarantine of a few hundred rows stays visible next to
    # 300 k accepted.
    fig.update_layout(barmode="group")
    fig.update_yaxes(title_text="rows (log scale)", type="log", dtick=1)
    return _layout(fig)


def quarantine(quarantined: pd.DataFrame):
    """Quarantined rows by reason, stacked, each reason its fixed colour."""
    fig = go.Figure()
    reasons = set(quarantined.table_ingest_reason__reason) if len(quarantined) else set()
    ordered = [x for x in QUARANTINE_REASONS if x in reasons]
    for reason in ordered + sorted(reasons - set(QUARANTINE_REASONS)):
        part = quarantined[quarantined.table_ingest_reason__reason == reason]
        fig.add_bar(
            x=part.metric_time__day,
            y=part.quarantined_rows_by_reason.astype(float),
            name=reason,
            marker_color=REASON_COLORS.get(reason, "#475467"),
        )
    fig.update_layout(barmode="stack")
    fig.update_yaxes(title_text="rows")
    return _layout(fig)


def charts(b: Brief) -> dict[str, dict]:
    """Each chart as Plotly's JSON (data, layout): the page draws them with the shared plotly.js."""
    frames = b.frames
    drawn = {
        "trend": trend(frames["trend"]),
        "achievement": achievement(frames["achievement"], b.params["protection_trigger"]),
        "stages": stages(frames["stages"]),
        "money": money(frames["money_by_tier"]),
        "uplift": uplift(frames["uplift"], b.headline["median_gmv_uplift"]),
        "rows": rows(frames["rows"]),
        "quarantine": quarantine(frames["quarantine"]),
    }
    return {name: json.loads(pio.to_json(fig, validate=False)) for name, fig in drawn.items()}
