"""The repository's commit-msg hook (CONTRIBUTING.md): subjects of at most 72 characters,
then a blank line before the body."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

HOOK = Path(__file__).resolve().parents[2] / ".githooks" / "commit-msg"


@pytest.mark.parametrize(
    "message, accepted",
    [
        ("Close periods: issued lines never change\n\nWhy: finance pays from them.\n", True),
        ("x" * 72 + "\n", True),
        ("x" * 73 + "\n", False),
        ("A subject\nwith the body glued to it\n", False),
        ("\n\nno subject\n", False),
        (
            "Merge branch 'x' of somewhere far away with a very long name that goes on and on\n",
            True,
        ),
    ],
)
def test_the_hook_holds_subjects_to_72_characters(tmp_path, message, accepted):
    path = tmp_path / "COMMIT_EDITMSG"
    path.write_text(message)
    done = subprocess.run(["sh", str(HOOK), str(path)], capture_output=True, text=True)
    assert (done.returncode == 0) == accepted, done.stderr
