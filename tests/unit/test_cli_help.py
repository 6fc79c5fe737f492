"""The command list reads as sentences: each command's summary is one line of help that the
terminal wraps, however its docstring is wrapped in the code."""

from __future__ import annotations

import os
import subprocess
import sys


def test_a_summary_wrapped_in_the_code_is_one_line_of_help():
    env = {**os.environ, "COLUMNS": "100", "TERM": "dumb"}
    listing = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "report", "--help"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    # report compensation's docstring breaks after "(final windows": the help does not.
    compensation = listing[listing.index("compensation") : listing.index("adjustments")]
    assert "(final windows only)" in " ".join(
        line.strip("│ ") for line in compensation.splitlines()
    )
    assert "windows\n" not in "\n".join(line.rstrip("│ ") for line in compensation.splitlines())
