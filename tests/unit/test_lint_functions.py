"""Functions read in one screen, and imports sit at the top (issue 45, D48): a long function,
a tangled one or an import inside a function, planted in a file, fails lint."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.lint_functions import MAX_LINES, main, too_long
from tests.packages import PRODUCT

REPO = Path(__file__).resolve().parents[2]


def _function(lines: int) -> str:
    body = "".join(f"    x{k} = {k}\n" for k in range(lines - 1))
    return f'def planted():\n    """Its docstring is not counted."""\n{body}    return 0\n'


def test_a_function_over_the_limit_is_named_and_one_at_it_passes(tmp_path):
    (tmp_path / "at.py").write_text(_function(MAX_LINES))
    (tmp_path / "over.py").write_text(_function(MAX_LINES + 1))

    found = [line for path in sorted(tmp_path.glob("*.py")) for line in too_long(path)]

    assert found == [
        f"{tmp_path / 'over.py'}:1: planted is {MAX_LINES + 1} lines long "
        f"(at most {MAX_LINES}, its docstring not counted)"
    ]
    assert main([str(tmp_path)]) == 1


def test_ruff_holds_statements_branches_and_imports_in_the_product(tmp_path):
    branches = "".join(f"    if x == {k}:\n        return {k}\n" for k in range(12))
    planted = tmp_path / "orchestration" / "planted.py"
    planted.parent.mkdir()
    planted.write_text(
        f"def tangled(x):\n{branches}    return -1\n\n\n"
        "def late():\n    import json\n\n    return json\n"
    )
    ruff = Path(sys.executable).parent / "ruff"
    done = subprocess.run(
        [
            str(ruff),
            "check",
            "--config",
            str(REPO / "pyproject.toml"),
            "--output-format",
            "concise",
            str(planted),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 1
    assert "C901" in done.stdout
    assert "PLC0415" in done.stdout


def test_the_product_passes_as_make_lint_runs_it():
    assert main([str(REPO / p) for p in (*PRODUCT, "benchmarks")]) == 0
