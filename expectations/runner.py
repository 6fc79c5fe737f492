"""The gate runner: Great Expectations suites over pandas frames, with severities.

Each gate is a list of ``Check``s: a frame (the data, or a small frame of computed
comparisons) and the expectations it must meet. One checkpoint per gate validates them
all and updates the data docs under ``<data-root>/gx``. Expectations carry a severity in
their ``meta``: ``error`` (default) blocks the run, ``warn`` is recorded and shown.

No orchestrator imports: orchestration wraps ``GateResult`` into blocking checks.

Why pandas: GX 1.24 cannot read DuckDB through SQLAlchemy (it reads results after the
pooled connection closed and sees nothing), so DuckDB tables are validated as pandas
frames fetched through DuckDB's own client (see docs/decisions.md).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

import great_expectations as gx  # noqa: E402
import pandas as pd  # noqa: E402

ERROR, WARN = "error", "warn"


def warn(expectation):
    """Mark an expectation as warning-level: recorded, never blocking."""
    expectation.meta = {**(expectation.meta or {}), "severity": WARN}
    return expectation


@dataclass
class Check:
    name: str
    frame: pd.DataFrame
    expectations: list


@dataclass
class Finding:
    check: str
    expectation: str
    severity: str
    unexpected_count: int | None
    summary: str

    def line(self) -> str:
        rows = f" ({self.unexpected_count} rows)" if self.unexpected_count else ""
        return f"{self.check}: {self.summary}{rows}"


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
            return f"{self.gate} gate passed ({self.evaluated} checks, {len(self.warnings)} warnings)"
        first = self.errors[0].line()
        more = f" (+{len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
        return f"{self.gate} gate failed: {first}{more}"


@lru_cache(maxsize=4)
def _context(root: str):
    Path(root).mkdir(parents=True, exist_ok=True)
    ctx = gx.get_context(mode="file", project_root_dir=root)
    from great_expectations.data_context.types.base import ProgressBarsConfig
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    return ctx


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9_]+", "_", text.lower()).strip("_")


def _describe(result) -> str:
    cfg = result.expectation_config
    kwargs = {k: v for k, v in cfg.kwargs.items() if k not in ("batch_id", "result_format")}
    column = kwargs.pop("column", None) or kwargs.pop("column_list", None) or kwargs.pop("column_A", None)
    what = cfg.type.replace("expect_", "").replace("_", " ")
    detail = ", ".join(f"{k}={v}" for k, v in kwargs.items() if not isinstance(v, (list, dict)) or len(str(v)) < 60)
    head = f"{column} " if column else ""
    return f"{head}{what}" + (f" [{detail}]" if detail else "")


def run_gate(gate: str, run_key: str, checks: list[Check], gx_root: Path) -> GateResult:
    """Validate every check in one checkpoint; returns the structured result."""
    ctx = _context(str(gx_root))
    validations = []
    frames = {}
    for check in checks:
        name = _slug(f"{gate}_{check.name}")
        source = ctx.data_sources.add_or_update_pandas(name=name)
        asset = source.add_dataframe_asset(name=name)
        batch = asset.add_batch_definition_whole_dataframe(name=name)
        suite = ctx.suites.add_or_update(gx.ExpectationSuite(name=name, expectations=check.expectations))
        vd = ctx.validation_definitions.add_or_update(gx.ValidationDefinition(name=name, data=batch, suite=suite))
        validations.append(vd)
        frames[name] = check.frame
    out = GateResult(gate=gate)
    docs_action = gx.checkpoint.UpdateDataDocsAction(name="update_data_docs")
    for vd in validations:
        # Each check validates its own frame, so each gets a checkpoint of its own; their
        # data-docs action renders every result into the same site.
        checkpoint = ctx.checkpoints.add_or_update(gx.Checkpoint(
            name=vd.name, validation_definitions=[vd], actions=[docs_action],
            result_format={"result_format": "SUMMARY"}))
        run = checkpoint.run(batch_parameters={"dataframe": frames[vd.name]},
                             run_id=gx.core.run_identifier.RunIdentifier(run_name=run_key))
        check_name = vd.name[len(_slug(gate)) + 1:]
        for result in run.run_results.values():
            for r in result.results:
                out.evaluated += 1
                if r.success:
                    continue
                severity = (r.expectation_config.meta or {}).get("severity", ERROR)
                count = (r.result or {}).get("unexpected_count")
                out.findings.append(Finding(check_name, r.expectation_config.type, severity, count, _describe(r)))
    urls = ctx.get_docs_sites_urls()
    out.docs = urls[0]["site_url"] if urls else None
    return out
