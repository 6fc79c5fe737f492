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
import tempfile
from pathlib import Path

SOURCE = Path(__file__).with_name("java") / "fullsite" / "spark" / "LocalFileSystem.java"
CLASS = "fullsite.spark.LocalFileSystem"
FALLBACK = "org.apache.hadoop.fs.RawLocalFileSystem"


def _hadoop_jar() -> Path | None:
    import pyspark

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


def main() -> int:
    path, hadoop = jar_path(), _hadoop_jar()
    if path is None or hadoop is None:
        print("pyspark ships no Hadoop client jar: the local file system class is skipped")
        return 0
    if path.exists():
        return 0
    javac, jar = shutil.which("javac"), shutil.which("jar")
    if not javac or not jar:  # only a speed-up: setup goes on without it
        print("no javac (a JDK) found: Spark writes local files with Hadoop's forked chmod (slower)")
        return 0
    for stale in path.parent.glob("fullsite-localfs-*.jar"):
        stale.unlink()
    with tempfile.TemporaryDirectory(prefix="fullsite-localfs-") as tmp:
        done = subprocess.run([javac, "--release", "17", "-nowarn", "-cp", str(hadoop), "-d", tmp, str(SOURCE)],
                              capture_output=True, text=True)
        if done.returncode == 0:
            built = Path(tmp) / "localfs.jar"
            done = subprocess.run([jar, "cf", str(built), "-C", tmp, "fullsite"], capture_output=True, text=True)
        if done.returncode != 0:
            print(f"the local file system class was not built: {(done.stderr.strip().splitlines() or [''])[-1]}")
            return 0
        shutil.move(str(built), path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
