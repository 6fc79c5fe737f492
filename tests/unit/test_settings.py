"""One settings object (issue 44): every FULLSITE_* variable the product reads is listed in
fullsite/settings.py with its default and meaning, read through it only, and named in the
README's settings table."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from fullsite import settings
from tests.packages import PRODUCT

REPO = Path(__file__).resolve().parents[2]
NAME = re.compile(r"FULLSITE_[A-Z_]*[A-Z]")


def _modules():
    for package in PRODUCT:
        for path in sorted((REPO / package).rglob("*.py")):
            if path != REPO / "fullsite" / "settings.py":
                yield path, ast.parse(path.read_text())


def _reads_environment_directly(node: ast.AST) -> str | None:
    """``os.environ.get("FULLSITE_…")``, ``os.getenv("FULLSITE_…")`` or
    ``os.environ["FULLSITE_…"]`` read outside fullsite/settings.py."""
    if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
        target = ast.unparse(node.func)
        if target in ("os.environ.get", "os.getenv", "environ.get"):
            return str(node.args[0].value)
    if isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ":
        return ast.unparse(node.slice)
    return None


def test_the_product_reads_fullsite_settings_only_through_the_settings_object():
    direct = [
        f"{path.relative_to(REPO)}:{node.lineno}: {name}"
        for path, tree in _modules()
        for node in ast.walk(tree)
        if (name := _reads_environment_directly(node)) and "FULLSITE_" in name
    ]
    assert direct == []


def test_every_fullsite_name_in_the_code_is_a_setting_or_an_internal_input():
    known = set(settings.SETTINGS) | settings.INTERNAL
    named = {
        match
        for path, _ in _modules()
        for match in NAME.findall(path.read_text())
        if not match.endswith("_ALERT")  # FULLSITE_ALERT_*, said of the alert settings
    }
    assert named - known == set()


def test_the_readme_lists_every_setting():
    readme = (REPO / "README.md").read_text()
    assert [n for n in settings.SETTINGS if f"`{n}`" not in readme] == []


def test_an_empty_value_is_unset_and_a_value_wins_over_the_default():
    assert settings.get("FULLSITE_DRIVER_MEMORY", {}) == "4g"
    assert settings.get("FULLSITE_DRIVER_MEMORY", {"FULLSITE_DRIVER_MEMORY": ""}) == "4g"
    assert settings.get("FULLSITE_DRIVER_MEMORY", {"FULLSITE_DRIVER_MEMORY": "6g"}) == "6g"
    assert settings.get("FULLSITE_SPARK_MASTER", {}) is None
