"""The charts next to BENCHMARKS.md: time and peak memory of a night against its size, and a
night's cost against history and the publish path against the published warehouse's size.

A plain SVG written by hand (no plotting package, no fonts or scripts to fetch): it opens
in any browser and renders on the repository's web page. Log scale on the size axis (the
scales grow ×10, ×3.3, ×3), linear on the time and memory axes.
"""

from __future__ import annotations

import math
from html import escape

W, H = 860, 376
PANEL = 380  # width of one panel
LEFT, TOP, BOTTOM = 60, 40, 76
COLORS = {
    "whole run": "#1f77b4",
    "whole night": "#1f77b4",
    "publish path": "#1f77b4",
    "Spark stage": "#d62728",
    "staging started": "#d62728",
    "DuckDB yardstick": "#2ca02c",
    "dbt": "#2ca02c",
    "fingerprint and record": "#2ca02c",
    "run (process tree)": "#1f77b4",
    "DuckDB": "#2ca02c",
    "publish": "#9467bd",
    "publication": "#9467bd",
}


def _events(n: float) -> str:
    return f"{n / 1e6:g} M events"


def _nice_max(value: float) -> float:
    step = 10 ** math.floor(math.log10(value)) if value > 0 else 1
    for k in (1, 2, 2.5, 5, 10):
        if k * step >= value:
            return k * step
    return 10 * step


def _panel(
    x0: int,
    title: str,
    unit: str,
    sizes: list[tuple[str, int]],
    series: dict[str, list[float]],
    note=_events,
) -> list[str]:
    """One panel: ``series`` against ``sizes`` (log scale), ``note(size)`` under each label."""
    inner_w, inner_h = PANEL - LEFT - 10, H - TOP - BOTTOM
    top = _nice_max(max(v for vals in series.values() for v in vals))
    lo, hi = math.log10(sizes[0][1]), math.log10(sizes[-1][1])
    px = lambda n: x0 + LEFT + (math.log10(n) - lo) / (hi - lo) * inner_w  # noqa: E731
    py = lambda v: TOP + inner_h - v / top * inner_h  # noqa: E731
    out = [
        f'<text x="{x0 + LEFT}" y="{TOP - 16}" font-size="14" '
        f'font-weight="bold">{escape(title)}</text>'
    ]
    for k in range(5):
        v = top * k / 4
        out.append(
            f'<line x1="{x0 + LEFT}" x2="{x0 + LEFT + inner_w}" y1="{py(v):.1f}" y2="{py(v):.1f}" '
            f'stroke="#ddd"/>'
        )
        out.append(
            f'<text x="{x0 + LEFT - 6}" y="{py(v) + 4:.1f}" font-size="11" '
            f'text-anchor="end">{v:g}</text>'
        )
    out.append(
        f'<text x="{x0 + 14}" y="{TOP + inner_h / 2:.0f}" font-size="11" '
        f'transform="rotate(-90 {x0 + 14} {TOP + inner_h / 2:.0f})" '
        f'text-anchor="middle">{escape(unit)}</text>'
    )
    for name, n in sizes:
        out.append(
            f'<text x="{px(n):.1f}" y="{TOP + inner_h + 16}" font-size="11" '
            f'text-anchor="middle">{escape(name)}</text>'
        )
        out.append(
            f'<text x="{px(n):.1f}" y="{TOP + inner_h + 30}" font-size="10" fill="#666" '
            f'text-anchor="middle">{escape(note(n))}</text>'
        )
    for k, (label, values) in enumerate(series.items()):
        points = [(px(n), py(v)) for (_, n), v in zip(sizes, values, strict=True)]
        legend = (x0 + LEFT + (k % 2) * 150, TOP + inner_h + 46 + (k // 2) * 16)
        out += _series(label, points, *legend)
    return out


def _series(label: str, points: list[tuple[float, float]], lx: float, ly: float) -> list[str]:
    """One line of the chart, its points, and its legend entry at (``lx``, ``ly``)."""
    color = COLORS.get(label, "#555")
    drawn = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    return [
        f'<polyline points="{drawn}" fill="none" stroke="{color}" stroke-width="2"/>',
        *(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}"/>' for x, y in points),
        f'<line x1="{lx}" x2="{lx + 16}" y1="{ly - 4}" y2="{ly - 4}" stroke="{color}" '
        'stroke-width="2"/>',
        f'<text x="{lx + 20}" y="{ly}" font-size="11">{escape(label)}</text>',
    ]


def scaling_svg(nightly: list[dict]) -> str:
    """``nightly``: the benchmark's per-scale results, smallest first."""
    sizes = [(n["scale"], n["events"]) for n in nightly]
    times = {
        "whole run": [n["wall"] for n in nightly],
        "Spark stage": [n["seconds"]["spark"] for n in nightly],
        "DuckDB yardstick": [n["duckdb_seconds"] for n in nightly],
    }
    memory = {
        "run (process tree)": [n["peak_memory_total"] / 2**30 for n in nightly],
        "DuckDB": [n["duckdb_peak_memory"] / 2**30 for n in nightly],
    }
    body = _panel(0, "Time of one night", "seconds", sizes, times) + _panel(
        PANEL + 60, "Peak memory of one night", "GiB (PSS)", sizes, memory
    )
    return _svg(body)


def _svg(body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
        'font-family="sans-serif">\n<rect width="100%" height="100%" fill="white"/>\n'
        + "\n".join(body)
        + "\n</svg>\n"
    )


def _history_panel(h: dict) -> list[str]:
    """A night's time by stage after 4, 29 and 365 nights of history."""
    nights = [5, 30, h["late_night"]]
    stages = [h["day5_seconds"], h["day30_seconds"], h["late_seconds"]]
    series = {
        "whole night": [h["day5_wall"], h["day30_wall"], h["late_wall"]],
        "Spark stage": [s["spark"] for s in stages],
        "dbt": [s["dbt"] for s in stages],
        "publish": [s["publish"] for s in stages],
    }
    sizes = [(f"night {n}", n) for n in nights]
    return _panel(0, "A small night against history", "seconds", sizes, series, _history)


def _history(n: float) -> str:
    return f"{n - 1:g} nights before"


def _gib(n: float) -> str:
    return f"{n / 2**30:.2g} GiB published" if n >= 2**30 else f"{n / 2**20:.0f} MiB published"


def _publish_panel(p: dict) -> list[str]:
    """The publish path's steps for the synthetic warehouses, against their size."""
    runs = list(p["sizes"].values())
    sizes = [(name, r["bytes"]) for name, r in p["sizes"].items()]
    series = {
        "publish path": [r["total"] for r in runs],
        "staging started": [r["prepare"] for r in runs],
        "fingerprint and record": [r["finalize"] for r in runs],
        "publication": [r["publish"] for r in runs],
    }
    title = "Publish path against the warehouse"
    return _panel(PANEL + 60, title, "seconds", sizes, series, _gib)


def history_svg(history: dict | None, publish: dict | None) -> str | None:
    """A night's cost against history, and the publish path against the published
    warehouse's size: the two ways a night could grow with what came before (issue 46)."""
    if not history and not publish:
        return None
    body = (_history_panel(history) if history else []) + (
        _publish_panel(publish) if publish else []
    )
    return _svg(body)
