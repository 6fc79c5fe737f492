"""The repository's first-party packages, read from the one place that lists them: the
import-linter contract in pyproject.toml (which `make lint` also holds every package to)."""

from __future__ import annotations

import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FIRST_PARTY: tuple[str, ...] = tuple(
    tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]["root_packages"]
)
# What ships: everything but the measurements and the tests, which nothing of it imports.
PRODUCT = tuple(p for p in FIRST_PARTY if p not in ("benchmarks", "tests"))
