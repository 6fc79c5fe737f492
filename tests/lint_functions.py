"""make lint: every function of the product reads in one screen (issue 45, D48).

    python -m tests.lint_functions [PACKAGE ...]   (default: pyproject's import contract's)

A function's length is its lines from the first statement after its docstring to its last:
at most ``MAX_LINES``. ruff holds the rest (PLR0915: statements, C901: branches); this holds
what they do not count, long literals and SQL inside a function included.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

from tests.packages import FIRST_PARTY

MAX_LINES = 50


def _body_start(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    first = node.body[0]
    docstring = (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    )
    if docstring and len(node.body) > 1:
        return node.body[1].lineno
    return first.lineno


def too_long(path: Path, max_lines: int = MAX_LINES) -> Iterator[str]:
    """``path:line: name`` of each function longer than ``max_lines``, with its length."""
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = (node.end_lineno or node.lineno) - _body_start(node) + 1
            if length > max_lines:
                yield (
                    f"{path}:{node.lineno}: {node.name} is {length} lines long "
                    f"(at most {max_lines}, its docstring not counted)"
                )


def main(roots: list[str]) -> int:
    """The packages named, or every first-party package but the tests (tests/packages.py)."""
    roots = roots or [p for p in FIRST_PARTY if p != "tests"]
    found = [
        line
        for root in roots
        for path in sorted(Path(root).rglob("*.py"))
        for line in too_long(path)
    ]
    for line in found:
        print(line)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
