"""`fullsite ui`: Dagster's UI and daemon for one data root, that stops when asked (issue 44).

`dagster dev` started by hand kept running for over a minute after SIGINT or SIGTERM (a
background start even ignores SIGINT), and it needs two environment variables typed right.
Here it runs in a process group of its own, with the data root's settings; SIGINT or
SIGTERM to this process stops the whole group: politely, then for good.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from fullsite.quoting import glob_safe_dir
from orchestration.launch import dagster_home

GRACE_S = 10  # what Dagster's processes get to stop before they are killed


def _alive(proc: subprocess.Popen) -> bool:
    """Whether anything of the group is left (its leader reaped, so it does not linger)."""
    proc.poll()
    try:
        os.killpg(proc.pid, 0)
    except ProcessLookupError:
        return False
    return True


def _stop(proc: subprocess.Popen) -> None:
    """SIGINT to the whole group (Dagster's processes stop as on Ctrl-C), then SIGKILL to
    what is left after ``GRACE_S``."""
    try:
        os.killpg(proc.pid, signal.SIGINT)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + GRACE_S
    while _alive(proc) and time.monotonic() < deadline:
        time.sleep(0.2)
    if _alive(proc):
        os.killpg(proc.pid, signal.SIGKILL)


def serve(root: Path, port: int) -> int:
    """Run `dagster dev` for ``root`` until it ends or this process is told to stop."""
    env = {
        **os.environ,
        "FULLSITE_DATA_ROOT": str(root),
        "DAGSTER_HOME": str(glob_safe_dir(dagster_home(root))),
    }
    command = [
        str(Path(sys.executable).parent / "dagster"),
        "dev",
        "-m",
        "orchestration.definitions",
        "-h",
        "127.0.0.1",
        "-p",
        str(port),
    ]
    # SIGINT as it should be in Dagster's processes, even when this one was started in the
    # background (which makes a shell ignore it, and children inherit that).
    proc = subprocess.Popen(
        command,
        env=env,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    stopping = {"asked": False}

    def stop(signum, frame):
        stopping["asked"] = True
        _stop(proc)

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, stop)
    code = proc.wait()
    _stop(proc)  # whatever it left behind
    return 0 if stopping["asked"] else code
