"""BENCHMARKS.md from the figures of ``benchmarks.run`` (and of ``benchmarks.cluster``).

The measured part is rewritten on every run; the analysis (``benchmarks/notes.md``, written
by people) follows it unchanged.
"""

from __future__ import annotations

from pathlib import Path

NOTES = Path(__file__).with_name("notes.md")
STAGE_NAMES = {
    "raw_gate": "raw gate",
    "spark": "Spark (clean + facts)",
    "curated_gate": "curated gate",
    "dbt": "dbt build",
    "marts_gate": "marts gate",
    "publish": "publish",
    "brief": "nightly brief",
}
CLUSTER_BEGIN, CLUSTER_END = "<!-- cluster:begin -->", "<!-- cluster:end -->"
CHART_NAME = "BENCHMARKS-scaling.svg"  # next to BENCHMARKS.md
DECISION_NOTES = (
    "\n# Measurements behind the decisions"  # where notes.md stops being about these figures
)


def _s(x: float) -> str:
    return f"{x:,.1f} s"


def _mib(b: int) -> str:
    return f"{b / 2**20:,.0f} MiB"


def _met(value: float, target: float) -> str:
    return "met" if value <= target else "**missed**"


def _machine(m: dict) -> list[str]:
    v = m["versions"]
    return [
        f"* {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB RAM; {m['os']}",
        f"* Python {m['python']}, {m['java']}",
        "* " + ", ".join(f"{k} {val}" for k, val in v.items()),
        "* Spark in local mode, `local[2]`, 4 shuffle partitions, AQE on, driver memory 4 GiB "
        '(the memory settings: `benchmarks/notes.md`, "Memory")',
    ]


def render(results: dict, cluster_section: str) -> str:
    from benchmarks.run import BACKFILL_BEFORE, STAGES, TARGETS

    lines = [
        "# Benchmarks",
        "",
        f"Measured {results['date']} with `make bench` (`benchmarks/run.py`). Every run is a fresh",
        "process, as a nightly run is; figures are medians (the number of runs is given with",
        "each). Peak memory is the proportional set size (PSS) of the whole process tree",
        "(Python, the Spark JVM and its Python workers, dbt), the maximum over the runs.",
        "",
        "## Machine",
        "",
        *_machine(results["machine"]),
        "",
    ]
    nightly = results.get("nightly", [])
    if nightly:
        lines += [
            "## One nightly run, stage by stage",
            "",
            "The first night of a fresh data root (one ingest; its late rows belong to the two "
            "dates",
            "before). Repeats re-run the same date.",
            "",
            "| stage | " + " | ".join(f"`{n['scale']}`" for n in nightly) + " |",
            "|---|" + "---:|" * len(nightly),
        ]
        for s in STAGES:
            lines.append(
                f"| {STAGE_NAMES[s]} | " + " | ".join(_s(n["seconds"][s]) for n in nightly) + " |"
            )
        lines.append(
            "| **whole run (process wall time)** | "
            + " | ".join(f"**{_s(n['wall'])}**" for n in nightly)
            + " |"
        )
        lines.append(
            "| peak memory of the run | "
            + " | ".join(_mib(n["peak_memory_total"]) for n in nightly)
            + " |"
        )
        lines += [
            "",
            "Spark split: "
            + "; ".join(
                f"{n['scale']}: clean {_s(n['spark_clean'])}, facts and lifecycle "
                f"{_s(n['spark_facts'])}"
                for n in nightly
            )
            + ". Runs per figure: "
            + ", ".join(f"{n['scale']} {n['repeats']}" for n in nightly)
            + ".",
            "",
        ]
        lines += [
            "## Time and memory against data size",
            "",
            "| scale | events a night | whole run | Spark stage | DuckDB yardstick | Spark / "
            "DuckDB "
            "| peak memory, run | peak memory, DuckDB |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        lines += [
            f"| `{n['scale']}` | {n['events'] / 1e6:g} M | {_s(n['wall'])} | "
            f"{_s(n['seconds']['spark'])} | "
            f"{_s(n['duckdb_seconds'])} | {n['duckdb_ratio']:.2f} | "
            f"{_mib(n['peak_memory_total'])} | "
            f"{_mib(n['duckdb_peak_memory'])} |"
            for n in nightly
        ]
        lines += [
            "",
            f"![Time and peak memory of one night against its size]({CHART_NAME})",
            "",
            "Spark's fixed cost (a JVM, plans, many small jobs) dominates the small nights: the",
            "Spark / DuckDB ratio falls as the night grows, and it is the slope between the two",
            "largest scales that tells what the next step up costs.",
            "",
        ]
    rows = []
    by_scale = {n["scale"]: n for n in nightly}
    for n in nightly:
        target = {
            "large": ("≤ 3 on `large` (issue 3)", TARGETS["duckdb_ratio_large"]),
            "xlarge": ("≤ 2.5 on `xlarge` (issue 22)", TARGETS["duckdb_ratio_xlarge"]),
        }.get(n["scale"])
        rows.append(
            (
                f"Spark stage / DuckDB query, `{n['scale']}` night",
                f"{n['duckdb_ratio']:.2f} ({_s(n['seconds']['spark'])} / "
                f"{_s(n['duckdb_seconds'])}, both daily fact tables; "
                f"results {_agreement(n['duckdb_differing_rows'])})",
                target[0] if target else "(for reference)",
                _met(n["duckdb_ratio"], target[1]) if target else "",
            )
        )
    if "large" in by_scale and "xlarge" in by_scale:
        large, xlarge = by_scale["large"], by_scale["xlarge"]
        grows = xlarge["wall"] / large["wall"]
        rows.append(
            (
                "Whole night, `xlarge` / `large` (3 × the events)",
                f"{grows:.2f} ({_s(xlarge['wall'])} / {_s(large['wall'])}; Spark stage "
                f"{xlarge['seconds']['spark'] / large['seconds']['spark']:.2f})",
                "≤ 2.5",
                _met(grows, TARGETS["xlarge_over_large"]),
            )
        )
    if nightly:
        peak = max(nightly, key=lambda n: n["peak_memory_total"])
        rows.append(
            (
                "Peak memory of a night (process tree)",
                f"{peak['peak_memory_total'] / 2**30:.1f} GiB (`{peak['scale']}`)",
                "≤ 12 GiB",
                _met(peak["peak_memory_total"] / 2**30, TARGETS["peak_gib"]),
            )
        )
    h = results.get("history")
    if h:
        rows.append(
            (
                "Nightly run, day 30 / day 5 (`small`)",
                f"{h['history_ratio']:.2f} ({_s(h['day30_wall'])} / {_s(h['day5_wall'])}; Spark "
                f"alone "
                f"{h['spark_ratio']:.2f})",
                "≤ 1.25",
                _met(h["history_ratio"], TARGETS["history_ratio"]),
            )
        )
        if "late_ratio" in h:
            state = h.get("state_bytes", {})
            kept = ", ".join(f"{k} {v / 2**20:,.0f} MiB" for k, v in state.items())
            rows.append(
                (
                    f"Nightly run after {h['late_night'] - 1} nights of history / after 4 "
                    f"(`small`)",
                    f"{h['late_ratio']:.2f} ({_s(h['late_wall'])} / {_s(h['day5_wall'])}; Spark "
                    f"alone "
                    f"{h['late_spark_ratio']:.2f})"
                    + (f"; the data root then keeps {kept}" if kept else ""),
                    "≤ 1.25",
                    _met(h["late_ratio"], TARGETS["history_ratio"]),
                )
            )
    b = results.get("backfill")
    if b:
        rows.append(
            (
                "Backfill of the 30-day `small` demo",
                f"{b['backfill_minutes']:.1f} min "
                f"(Spark clean {_s(b['spark_clean'])}, facts {_s(b['spark_facts'])}, "
                f"dbt {_s(b['seconds']['dbt'])}, gates {_s(_gates_s(b['seconds']))}); "
                f"before: {BACKFILL_BEFORE}",
                "≤ 2.5 min",
                _met(b["backfill_minutes"], TARGETS["backfill_minutes"]),
            )
        )
    if rows:
        lines += [
            "## Figures and targets",
            "",
            "| figure | measured | target | |",
            "|---|---|---|---|",
        ]
        lines += [f"| {a} | {m} | {t} | {ok} |" for a, m, t, ok in rows]
        reps = []
        if nightly:
            reps.append(
                "nightly figures: "
                + ", ".join(f"{n['scale']} {n['repeats']}" for n in nightly)
                + " run(s), DuckDB query after each"
            )
        if h:
            reps.append(
                f"nights 5, 30{', ' + str(h['late_night']) if 'late_night' in h else ''}: "
                f"{h['repeats']} runs each"
            )
        if b:
            reps.append(f"backfill: {b['repeats']} run(s)")
        lines += ["", "Medians of: " + "; ".join(reps) + ".", ""]
    lines += [
        CLUSTER_BEGIN,
        cluster_section.strip() or "_`make bench-cluster` has not been run yet._",
        CLUSTER_END,
        "",
    ]
    if NOTES.exists():
        # The analysis of the figures above; the measurements behind the decisions stay in
        # notes.md (linked from docs/decisions.md), not copied here.
        analysis = NOTES.read_text().split(DECISION_NOTES, 1)[0].rstrip()
        lines += [
            analysis,
            "",
            "The measurements behind the decisions are in "
            "[`benchmarks/notes.md`](benchmarks/notes.md#measurements-behind-the-decisions).",
            "",
        ]
    return "\n".join(lines)


def _cluster_section(output: Path) -> str:
    if not output.exists():
        return ""
    text = output.read_text()
    if CLUSTER_BEGIN in text and CLUSTER_END in text:
        return text.split(CLUSTER_BEGIN, 1)[1].split(CLUSTER_END, 1)[0]
    return ""


def write_report(results: dict, output: Path) -> None:
    output.write_text(render(results, _cluster_section(output)))
    if results.get("nightly"):
        from benchmarks.chart import scaling_svg

        output.with_name(CHART_NAME).write_text(scaling_svg(results["nightly"]))


def write_cluster_section(section: str, output: Path) -> None:
    """Replace only the cluster section (``make bench-cluster``)."""
    if output.exists() and CLUSTER_BEGIN in output.read_text():
        head, rest = output.read_text().split(CLUSTER_BEGIN, 1)
        tail = rest.split(CLUSTER_END, 1)[1]
        output.write_text(f"{head}{CLUSTER_BEGIN}\n{section.strip()}\n{CLUSTER_END}{tail}")
    else:
        output.write_text(f"# Benchmarks\n\n{CLUSTER_BEGIN}\n{section.strip()}\n{CLUSTER_END}\n")


def _agreement(differing: int) -> str:
    return "identical" if differing == 0 else f"{differing} rows differ"


def _gates_s(seconds: dict) -> float:
    return seconds["raw_gate"] + seconds["curated_gate"] + seconds["marts_gate"]
