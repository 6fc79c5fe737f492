"""The gate runner: Great Expectations suites over pandas frames, with severities.

Each gate is a list of ``Check``s: a frame (the data, or a small frame of computed
comparisons) and the expectations it must meet. GX validates them; every finding is then
said in words (table, file, column, expected, found, rows) and written to the data docs
of our own (``expectations/docs_site.py``): one page per run, one index across runs,
offline. Expectations carry a severity in their ``meta``: ``error`` (default) blocks the
run, ``warn`` is recorded and shown.

No orchestrator imports: orchestration wraps ``GateResult`` into blocking checks.

Why pandas: GX 1.24 cannot read DuckDB through SQLAlchemy (it reads results after the
pooled connection closed and sees nothing), so DuckDB tables are validated as pandas
frames fetched through DuckDB's own client (see docs/decisions.md).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

import great_expectations as gx  # noqa: E402
import pandas as pd  # noqa: E402
from great_expectations.data_context.types.base import ProgressBarsConfig  # noqa: E402

from expectations import docs_site  # noqa: E402

ERROR, WARN = "error", "warn"

# A check's sentence for a failed expectation, from the check's frame: comparison frames
# (duplicate keys, tie-outs) know which rows are wrong and what they should have been.
Explain = Callable[[pd.DataFrame], "str | tuple[str, list[str]]"]  # sentence (, every line)


def warn(expectation):
    """Mark an expectation as warning-level: recorded, never blocking."""
    expectation.meta = {**(expectation.meta or {}), "severity": WARN}
    return expectation


def named(name: str, expectation):
    """Give an expectation a name its check's ``explain`` refers to it by: a sentence stays
    with its expectation wherever the list puts it."""
    expectation.meta = {**(expectation.meta or {}), "name": name}
    return expectation


def name_of(expectation) -> str | None:
    return (expectation.meta or {}).get("name")


@dataclass
class Check:
    name: str
    frame: pd.DataFrame
    expectations: list
    # what the sentence is about, e.g. "products dt=2024-08-02 part-0.parquet"
    where: str | None = None
    # expectation name (``named``) → its sentence
    explain: Mapping[str, Explain] = field(default_factory=dict)

    def __post_init__(self):
        names = [name_of(e) for e in self.expectations if name_of(e)]
        if len(names) != len(set(names)) or set(self.explain) - set(names):
            raise ValueError(
                f"check {self.name}: explanations {sorted(self.explain)} must name distinct "
                f"expectations of the check (named: {names})"
            )


@dataclass
class Finding:
    check: str
    expectation: str
    severity: str
    unexpected_count: int | None
    summary: str
    examples: list[str] = field(default_factory=list)

    def line(self) -> str:
        return self.summary


@dataclass
class GateResult:
    gate: str
    findings: list[Finding] = field(default_factory=list)  # failed expectations only
    docs: str | None = None
    evaluated: int = 0

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == WARN]

    @property
    def passed(self) -> bool:
        return not self.errors

    def reason(self) -> str:
        """One line for the operator."""
        if self.passed:
            return (
                f"{self.gate} gate passed ({self.evaluated} checks, {len(self.warnings)} warnings)"
            )
        first = self.errors[0].line()
        more = f" (+{len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
        return f"{self.gate} gate: {first}{more}"


def _context():
    """An in-memory context: no GX files on disk, no GX site (ours renders offline)."""
    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    return ctx


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9_]+", "_", text.lower()).strip("_")


def readable(value, width: int = 60) -> str:
    """One unexpected value as a person reads it: quoted text, control characters shown,
    long values cut."""
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def examples(values, most: int = 5) -> list[str]:
    values = list(values or [])
    return [readable(v) for v in values[:most]] + (
        [f"+{len(values) - most} more"] if len(values) > most else []
    )


def _set_text(values) -> str:
    return "{" + ", ".join(readable(v) for v in values) + "}"


def _describe(result, where: str) -> str:
    """GX's result of one expectation as a sentence: where, column, expected, found, rows."""
    cfg, res = result.expectation_config, (result.result or {})
    kw, kind = cfg.kwargs, cfg.type
    col, n = kw.get("column"), res.get("unexpected_count")
    found = ", ".join(examples(res.get("partial_unexpected_list")))
    found = f" (found {found})" if found else ""
    rows = f"{n} row{'s' if n != 1 else ''}"
    if kind == "expect_column_values_to_not_be_null":
        return f"{where}: column {col} is empty in {rows}"
    if kind == "expect_column_values_to_be_unique":
        return f"{where}: column {col} repeats a value in {rows}{found}"
    if kind == "expect_column_values_to_be_in_set":
        allowed = _set_text(kw.get("value_set", []))
        return f"{where}: column {col} is not one of {allowed} in {rows}{found}"
    if kind == "expect_column_values_to_be_between":
        low, high = kw.get("min_value"), kw.get("max_value")
        bound = " and ".join(
            b
            for b in (
                f"{'>' if kw.get('strict_min') else '≥'} {low}" if low is not None else "",
                f"{'<' if kw.get('strict_max') else '≤'} {high}" if high is not None else "",
            )
            if b
        )
        return f"{where}: column {col} is not {bound} in {rows}{found}"
    if kind == "expect_table_row_count_to_be_between":
        return f"{where}: {res.get('observed_value')} rows, expected at least {kw.get('min_value')}"
    if kind == "expect_table_row_count_to_equal":
        return f"{where}: {res.get('observed_value')} rows, expected {kw.get('value')}"
    if kind == "expect_column_pair_values_to_be_equal":
        return f"{where}: {kw.get('column_A')} differs from {kw.get('column_B')} in {rows}"
    return f"{where}: {kind.replace('expect_', '').replace('_', ' ')} failed"


_FRAMES = None  # the batch definition every check's frame is validated through (_frames)
_FRAMES_LOCK = threading.Lock()


def _frames():
    """One in-memory context, data source, dataframe asset and batch definition per process,
    through which every check validates its own frame. Adding a data source or an asset makes
    GX serialise its whole project configuration: done once, not once per check (about a
    tenth of a gate's time)."""
    global _FRAMES
    if _FRAMES is None:
        source = _context().data_sources.add_pandas(name="gates")
        _FRAMES = source.add_dataframe_asset(name="frame").add_batch_definition_whole_dataframe(
            name="frame"
        )
    return _FRAMES


def run_gate(gate: str, run_key: str, checks: list[Check], docs_root: Path) -> GateResult:
    """Validate every check (each validates its own frame), say each finding in words, and
    add this gate run to the run's data-docs page."""
    out, entries = validate(gate, checks)
    out.docs = str(docs_site.record(Path(docs_root), run_key, gate, entries))
    return out


def validate(gate: str, checks: list[Check]) -> tuple[GateResult, list[dict]]:
    """GX's verdict on every check, and the data-docs entry of each expectation."""
    out = GateResult(gate=gate)
    entries = []
    with _FRAMES_LOCK:  # one GX context for the process: one gate at a time
        frames = _frames()
        for check in checks:
            name = _slug(f"{gate}_{check.name}")
            for i, expectation in enumerate(check.expectations):  # results in the check's order
                expectation.meta = {**(expectation.meta or {}), "position": i}
            # The batch validates the suite directly: no checkpoint or validation definition to
            # store (their stores serialise the whole context each time, the bulk of a gate's cost).
            batch = frames.get_batch(batch_parameters={"dataframe": check.frame})
            result = batch.validate(
                gx.ExpectationSuite(name=name, expectations=check.expectations),
                result_format="SUMMARY",
            )
            # In the order the check lists its expectations (GX groups its results by column).
            for r in sorted(
                result.results, key=lambda r: (r.expectation_config.meta or {}).get("position", 0)
            ):
                out.evaluated += 1
                entries.append(_entry(check, r, out))
    return out, entries


def _entry(check: Check, r, out: GateResult) -> dict:
    """One evaluated expectation for the data docs; a failed one becomes a Finding too."""
    cfg = r.expectation_config
    severity = (cfg.meta or {}).get("severity", ERROR)
    where = check.where or check.name
    res = r.result or {}
    found = examples(res.get("partial_unexpected_list"))
    summary = ""
    if not r.success:
        name = (cfg.meta or {}).get("name")
        explain = check.explain.get(name) if name else None
        said = explain(check.frame) if explain else _describe(r, where)
        summary, found = (said, found) if isinstance(said, str) else said
        out.findings.append(
            Finding(
                check=check.name,
                expectation=cfg.type,
                severity=severity,
                unexpected_count=res.get("unexpected_count"),
                summary=summary,
                examples=found,
            )
        )
    return docs_entry(
        check,
        cfg,
        severity,
        success=bool(r.success),
        summary=summary,
        unexpected_count=res.get("unexpected_count"),
        observed=res.get("observed_value"),
        examples=found,
    )


def docs_entry(
    check: Check,
    cfg,
    severity: str,
    *,
    success: bool,
    summary: str,
    unexpected_count,
    observed,
    examples: list[str],
) -> dict:
    """The data-docs record of one evaluated expectation (``cfg``: its configuration)."""
    return {
        "check": check.name,
        "where": check.where or check.name,
        "expectation": cfg.type.replace("expect_", "").replace("_", " "),
        "arguments": {
            k: readable(v, 120)
            for k, v in cfg.kwargs.items()
            if k not in ("batch_id", "result_format")
        },
        "severity": severity,
        "success": success,
        "summary": summary,
        "unexpected_count": unexpected_count,
        "observed": readable(observed, 120) if observed is not None else None,
        "examples": examples,
    }
