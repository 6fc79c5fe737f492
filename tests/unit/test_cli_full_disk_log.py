"""A log handler that cannot write (dbt's file log on a full disk) prints no traceback of its
own: the one error line stays the last thing an operator reads (issue 44, seen in CI)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

# /dev/full answers every write with ENOSPC, as a full data root does.
SCRIPT = textwrap.dedent(
    """
    import logging, sys
    from orchestration import cli

    handler = logging.StreamHandler(open("/dev/full", "w"))
    logging.getLogger("dbt").addHandler(handler)

    def night(*args, **kwargs):
        logging.getLogger("dbt").error("writing the manifest")
        raise cli.PipelineFailed("run failed: the disk is full")

    cli.app = night
    cli.main()
    """
)


def test_a_log_handler_on_a_full_disk_prints_no_traceback():
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True)
    assert done.returncode == 1
    assert "Logging error" not in done.stderr and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == ["error: run failed: the disk is full"]
