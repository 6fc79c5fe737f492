"""Hadoop's local file system without a forked ``chmod`` per file (``java/…/LocalFileSystem.java``).

Without Hadoop's native library (pip's pyspark has none), ``RawLocalFileSystem`` sets the
permissions of every file and folder a write creates by starting a ``chmod`` process: a
fork of the driver JVM each time. A 30-day backfill creates some 15 000 of them, which
measured as a third of the CPU time of cleaning on two cores. The subclass sets the same
permissions through ``java.nio``.

    python -m spark_runtime.localfs    # make setup: compile the class into the venv (javac)

The jar is keyed on its source and the Hadoop jar it compiles against; without ``javac``
(a JRE only) setup says so and Spark uses ``RawLocalFileSystem`` as before — slower, the
same files.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import pyspark

from spark_runtime.artifact import build_once, last_line

SOURCE = Path(__file__).with_name("java") / "fullsite" / "spark" / "LocalFileSystem.java"
CLASS = "fullsite.spark.LocalFileSystem"
FALLBACK = "org.apache.hadoop.fs.RawLocalFileSystem"


def _hadoop_jar() -> Path | None:
    jars = sorted((Path(pyspark.__file__).parent / "jars").glob("hadoop-client-api-*.jar"))
    return jars[-1] if jars else None


def jar_path() -> Path | None:
    """Where this environment's jar lives (None when pyspark ships no Hadoop client)."""
    hadoop = _hadoop_jar()
    if hadoop is None:
        return None
    key = hashlib.sha256(SOURCE.read_bytes() + hadoop.name.encode()).hexdigest()[:16]
    return Path(sys.prefix) / f"fullsite-localfs-{key}.jar"


def built_jar() -> Path | None:
    """The jar when ``make setup`` built it, else None (Spark then uses the fallback)."""
    path = jar_path()
    return path if path is not None and path.exists() else None


def _compile(hadoop: Path, javac: str, jar: str):
    def build(tmp: Path) -> tuple[Path | None, str]:
        done = subprocess.run(
            [javac, "--release", "17", "-nowarn", "-cp", str(hadoop), "-d", str(tmp), str(SOURCE)],
            capture_output=True,
            text=True,
        )
        if done.returncode == 0:
            built = tmp / "localfs.jar"
            done = subprocess.run(
                [jar, "cf", str(built), "-C", str(tmp), "fullsite"], capture_output=True, text=True
            )
        return (built if done.returncode == 0 else None), last_line(done.stderr)

    return build


def main() -> int:
    hadoop = _hadoop_jar()
    if hadoop is None:
        print("pyspark ships no Hadoop client jar: the local file system class is skipped")
        return 0
    javac, jar = shutil.which("javac"), shutil.which("jar")
    if not javac or not jar:  # only a speed-up: setup goes on without it
        if built_jar() is None:
            print(
                "no javac (a JDK) found: Spark writes local files with Hadoop's forked chmod "
                "(slower)"
            )
        return 0
    path = jar_path()
    if path is not None:
        build_once(path, _compile(hadoop, javac, jar), "the local file system class")
    return 0


if __name__ == "__main__":
    sys.exit(main())
