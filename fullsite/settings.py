"""Every setting an operator can give fullsite, in one place: its environment variable, its
default and what it does (README, "Settings"). Modules read a setting through ``get``, never
``os.environ`` directly, and a test holds that no other ``FULLSITE_*`` name is read.

The Dagster definitions configure their resource from these same variables (``dg.EnvVar``):
what the UI shows as the run's configuration is what the run used.

Not settings: the variables the pipeline hands its own dbt build (``INTERNAL``), and
``fullsite.toml``'s ``[alerts]``, which the alert variables override.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Setting:
    name: str
    default: str | None
    about: str


SETTINGS = {
    s.name: s
    for s in (
        Setting("FULLSITE_DATA_ROOT", "data/demo", "the data root `dagster dev` runs on"),
        Setting("FULLSITE_SPARK_MASTER", None, "a Spark master URL; local[2] without it"),
        Setting("FULLSITE_DRIVER_MEMORY", "4g", "spark.driver.memory"),
        Setting("FULLSITE_EXECUTOR_MEMORY", None, "spark.executor.memory (a cluster's)"),
        Setting("FULLSITE_SHUFFLE_PARTITIONS", "4", "spark.sql.shuffle.partitions"),
        Setting(
            "FULLSITE_DRIVER_JAVA_OPTIONS",
            "-XX:+UseParallelGC",
            "the driver JVM's collector options (a space: the JVM's own; D20)",
        ),
        Setting("FULLSITE_SPARK_LOG_LEVEL", "ERROR", "the Spark driver's log level"),
        Setting("FULLSITE_ALERT_SMTP", None, "host:port of the SMTP relay for alerts"),
        Setting("FULLSITE_ALERT_EMAIL_FROM", None, "the alerts' sender"),
        Setting("FULLSITE_ALERT_EMAIL_TO", None, "the alerts' recipients, comma-separated"),
        Setting("FULLSITE_ALERT_WEBHOOK_URL", None, "a webhook that receives each alert (JSON)"),
        Setting("FULLSITE_DOCS_URL", None, "where the data root's pages are served, for links"),
        Setting(
            "FULLSITE_KEEP_RECENT_BUILDS",
            "1",
            "how many of the newest published builds are kept (at least 1: the published one)",
        ),
        Setting(
            "FULLSITE_KEEP_MONTH_END_BUILDS",
            "24",
            "for how many of the newest data months the month's last build is kept (0: none)",
        ),
        Setting("FULLSITE_DBT_PROJECT", None, "another copy of the dbt project (a rule tried)"),
        Setting("FULLSITE_DBT_TARGET", None, "dbt's target folder (the project's target/)"),
        Setting(
            "FULLSITE_CRASH_AT",
            None,
            "drills: kill the run at before-publish, after-publish or during-brief",
        ),
    )
}

# The dbt project's inputs (profiles.yml, the models) for a `dbt` process — one fullsite
# starts (the docs site, the parse `fullsite metrics` reads) or a developer's by hand; the
# nightly build passes them as dbt vars instead — and the generator's CDS training run: set
# by fullsite itself, never by an operator.
INTERNAL = frozenset(
    {
        "FULLSITE_DBT_DB",
        "FULLSITE_RUN_DATE",
        "FULLSITE_RUN_ID",
        "FULLSITE_REBUILD_FROM",
        "FULLSITE_PREVIOUS_BUILD_AT",
        "FULLSITE_CDS_DUMP",
    }
)


def get(name: str, env: Mapping[str, str] | None = None) -> str | None:
    """The setting's value from the environment (an empty value counts as unset), else its
    default. An unknown name is a programming error: every setting is listed above."""
    setting = SETTINGS[name]
    value = (os.environ if env is None else env).get(name)
    return value if value else setting.default


def given(name: str) -> str:
    """The value of a setting that has a default: never None."""
    value = get(name)
    if value is None:
        raise KeyError(f"{name} has no default")
    return value
