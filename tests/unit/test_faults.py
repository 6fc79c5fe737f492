"""Machine faults are told in words (orchestration/faults.py), not as exception names."""

import errno

from orchestration.faults import describe


def test_os_errors_become_sentences_with_their_path():
    assert (
        describe(OSError(errno.ENOSPC, "No space left on device", "/d/staging/x"))
        == "the disk is full: no space left to write /d/staging/x"
    )
    assert (
        describe(NotADirectoryError(errno.ENOTDIR, "Not a directory", "/d/curated"))
        == "a file stands where a folder should be: /d/curated"
    )
    assert (
        describe(PermissionError(errno.EACCES, "Permission denied", "/d"))
        == "permission denied: this user cannot write /d"
    )


def test_the_jvms_wording_of_the_same_faults_is_recognised():
    spark = RuntimeError(
        "An error occurred while calling o12.parquet.\n: java.io.IOException: No space left on "
        "device"
    )
    assert describe(spark).startswith("the disk is full")


def test_anything_else_keeps_its_first_line():
    assert describe(ValueError("bad thing\nmore")) == "ValueError: bad thing"


def test_dagsters_storage_on_a_full_disk_and_a_missing_java_are_said_in_words(monkeypatch):
    sqlite = RuntimeError(
        '(sqlite3.OperationalError) disk I/O error\n[SQL: PRAGMA main.table_xinfo("runs")]'
    )
    assert describe(sqlite).startswith("the disk is full or failing: the Dagster instance")
    monkeypatch.setenv("JAVA_HOME", "/nowhere/java")
    java = RuntimeError(
        "[JAVA_GATEWAY_EXITED] Java gateway process exited before sending its port number."
    )
    assert describe(java).startswith("Java could not be started") and "/nowhere/java" in describe(
        java
    )
