"""`fullsite ui` runs Dagster's UI and daemon for a data root and stops when asked (issue
44: `dagster dev` ignored SIGINT and SIGTERM for over a minute)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.servers import free_port


def _up(port: int, deadline: float) -> bool:
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{port}/server_info", timeout=2
            ) as answer:
                return answer.status == 200
        except OSError:
            time.sleep(1)
    return False


@pytest.mark.slow
def test_the_ui_stops_on_sigint_with_everything_it_started(published_root):
    """Night: the shared published root, made in tests/conftest.py (published_root); read only."""
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "orchestration.cli",
            "ui",
            "--data-root",
            str(published_root),
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    try:
        assert _up(port, time.monotonic() + 180), "the UI did not come up"
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=120)
        output = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
        assert code == 0, output[-2000:]
        assert not _up(port, time.monotonic() + 1)  # nothing listens any more
        gone = subprocess.run(
            ["pgrep", "-f", f"-p {port}"], capture_output=True, text=True
        ).stdout.strip()
        assert gone == "", gone
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
