"""A Spark standalone cluster on 127.0.0.1 from the pip package, for tests and benchmarks.

pyspark ships no ``start-master.sh``, but ``bin/spark-class`` runs the master and worker
daemons. The cluster is a context manager: it yields the master URL and the environment
``spark-submit`` needs, and stops every daemon on the way out, also on errors.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pyspark

SPARK_HOME = Path(pyspark.__file__).parent


class ClusterDidNotStart(RuntimeError):
    pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _alive_workers(ui_port: int) -> int:
    try:
        state = json.load(urllib.request.urlopen(f"http://127.0.0.1:{ui_port}/json", timeout=2))
    except OSError:
        return 0
    return sum(1 for w in state.get("workers", []) if w.get("state") == "ALIVE")


@contextlib.contextmanager
def standalone_cluster(
    work: Path, workers: int = 1, cores: int = 2, memory: str = "2g", timeout: float = 90
):
    """Master plus ``workers`` workers (each with ``cores`` cores and ``memory``)."""
    work = Path(work)
    work.mkdir(parents=True, exist_ok=True)
    port, master_ui = _free_port(), _free_port()
    env = {
        **os.environ,
        "SPARK_HOME": str(SPARK_HOME),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_LOG_DIR": str(work),
        "PYSPARK_PYTHON": sys.executable,
    }
    url = f"spark://127.0.0.1:{port}"
    with open(work / "cluster.log", "w") as log:

        def daemon(*args: str) -> subprocess.Popen:
            command = [str(SPARK_HOME / "bin" / "spark-class"), *args]
            return subprocess.Popen(command, env=env, stdout=log, stderr=log)

        master = ("org.apache.spark.deploy.master.Master", "--host", "127.0.0.1")
        procs = [daemon(*master, "--port", str(port), "--webui-port", str(master_ui))]
        try:
            for k in range(workers):
                procs.append(daemon(*_worker_args(url, cores, memory, work / f"worker-{k}")))
            _wait_for_workers(procs, master_ui, workers, timeout, log, work)
            yield url, env
        finally:
            _stop(procs)


def _worker_args(url: str, cores: int, memory: str, folder: Path) -> list[str]:
    return [
        "org.apache.spark.deploy.worker.Worker",
        url,
        *("--host", "127.0.0.1", "--cores", str(cores), "--memory", memory),
        *("--webui-port", str(_free_port()), "--work-dir", str(folder)),
    ]


def _wait_for_workers(procs, master_ui: int, workers: int, timeout: float, log, work: Path):
    deadline = time.time() + timeout
    while _alive_workers(master_ui) < workers:
        if time.time() > deadline or any(p.poll() is not None for p in procs):
            log.flush()
            tail = (work / "cluster.log").read_text()[-2000:]
            raise ClusterDidNotStart(f"standalone cluster did not start: {tail}")
        time.sleep(1)


def _stop(procs: list[subprocess.Popen]) -> None:
    for proc in reversed(procs):
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
