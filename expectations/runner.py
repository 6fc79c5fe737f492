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
import shutil
from dataclasses import dataclass, field
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


def _context(docs_dir: Path):
    """A fresh in-memory context per gate run whose data-docs site is this run's folder:
    the docs of one night never re-render the history of all others."""
    ctx = gx.get_context(mode="ephemeral")
    from great_expectations.data_context.types.base import ProgressBarsConfig
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    for site in list(ctx.list_data_docs_sites()):
        ctx.delete_data_docs_site(site)
    ctx.add_data_docs_site(site_name="gate", site_config={
        "class_name": "SiteBuilder",
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
    })
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


def run_gate(gate: str, run_key: str, checks: list[Check], docs_root: Path, always_docs: bool = False) -> GateResult:
    """Validate every check (one checkpoint each: each validates its own frame) and
    render the data docs of this gate run under ``docs_root/<run_key>/<gate>`` when
    something failed or warned (or ``always_docs``)."""
    docs_dir = Path(docs_root) / _slug(run_key) / _slug(gate)
    ctx = _context(docs_dir)
    out = GateResult(gate=gate)
    for check in checks:
        name = _slug(f"{gate}_{check.name}")
        batch = ctx.data_sources.add_pandas(name=name).add_dataframe_asset(name=name) \
            .add_batch_definition_whole_dataframe(name=name)
        suite = ctx.suites.add(gx.ExpectationSuite(name=name, expectations=check.expectations))
        vd = ctx.validation_definitions.add(gx.ValidationDefinition(name=name, data=batch, suite=suite))
        checkpoint = ctx.checkpoints.add(gx.Checkpoint(name=name, validation_definitions=[vd],
                                                       result_format={"result_format": "SUMMARY"}))
        run = checkpoint.run(batch_parameters={"dataframe": check.frame},
                             run_id=gx.core.run_identifier.RunIdentifier(run_name=run_key))
        for result in run.run_results.values():
            for r in result.results:
                out.evaluated += 1
                if r.success:
                    continue
                severity = (r.expectation_config.meta or {}).get("severity", ERROR)
                count = (r.result or {}).get("unexpected_count")
                out.findings.append(Finding(check.name, r.expectation_config.type, severity, count, _describe(r)))
    if out.findings or always_docs:
        ctx.build_data_docs()
        _share_static(Path(docs_root), docs_dir)
        out.docs = str(docs_dir / "index.html")
    return out


def _share_static(docs_root: Path, site: Path) -> None:
    """Every site carries the same 4 MB of CSS/JS: keep one copy, link it from each site."""
    shared, static = docs_root / "_static", site / "static"
    if not static.is_dir() or static.is_symlink():
        return
    if shared.exists():
        shutil.rmtree(static)
    else:
        static.rename(shared)
    static.symlink_to(os.path.relpath(shared, site))
