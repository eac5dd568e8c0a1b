"""The knobs of Scout's schedules and sensors: fixed cadences here, deployment knobs from settings.

The deployment knobs (cron strings, label wait, relabel window) are variables of
``scout_contract.settings.ScoutSettings``, read through the resource binding like every other
variable: a bad value fails loudly with the variable's name (``SettingsError``). Cron strings
are read when the code location loads (a schedule's cadence is part of its definition); the
other knobs on every tick, so they apply from the next tick after the code location reloads
with the new environment.
"""

from __future__ import annotations

from datetime import timedelta

from scout_assets.resources_binding import current_settings
from scout_contract.settings import ScoutSettings

SEARCH_CRON_ENV = ScoutSettings.ENV_NAMES["search_cron"]
STATS_CRON_ENV = ScoutSettings.ENV_NAMES["stats_cron"]
EXPORT_CRON_ENV = ScoutSettings.ENV_NAMES["export_cron"]
LABEL_MAX_WAIT_ENV = ScoutSettings.ENV_NAMES["label_max_wait_minutes"]
RELABEL_DAYS_ENV = ScoutSettings.ENV_NAMES["relabel_days"]

# Every schedule and sensor reads and reports time in UTC, whatever the host's zone is.
TIMEZONE = "UTC"

# How often the daemon evaluates each sensor (seconds); the label queue is cheap SQL.
LABEL_QUEUE_INTERVAL_S = 60
# The labeling cycle (seconds): the predecessor drew its models once per 15 minutes. Every tick of
# one cycle sees the same draw, and a model the draw bounds labels at most one batch per cycle
# (docs/labeling.md "The cycle draw"). A constant, not a deployment knob: the probabilities and
# batch sizes of models.yaml are per 15-minute cycle, so another length would change what they mean.
LABEL_CYCLE_S = 900
CONFIG_CHANGE_INTERVAL_S = 30
# The alert sensors: a minute is soon enough for a person, and bounds a down webhook to one
# attempt per sensor a minute (the sensors are the layer that retries an undelivered alert).
ALERT_INTERVAL_S = 60
RUN_RETRY_INTERVAL_S = 30

# Run-failure handling: a run is tried at most this many times in all (the first run included);
# the wait before attempt N+1 is 2**N minutes. A (job, partition) whose runs failed with a
# poison error this many times in a row dead-letters its still-pending labeling units.
MAX_RUN_ATTEMPTS = 3
POISON_FAILURES_TO_DEAD_LETTER = 2


def search_cron() -> str:
    return current_settings().search_cron


def stats_cron() -> str:
    return current_settings().stats_cron


def export_cron() -> str:
    return current_settings().export_cron


def label_max_wait() -> timedelta:
    """How long a pending unit may wait before its partition is labeled even without a full batch."""
    return timedelta(minutes=current_settings().label_max_wait_minutes)


def relabel_days() -> int:
    """How many recent days (today included) a newly activated audience version relabels."""
    return current_settings().relabel_days


def retry_backoff(attempt: int) -> timedelta:
    """The wait after failed attempt ``attempt`` (1-based) before the next one: 2**attempt minutes."""
    return timedelta(minutes=2**attempt)
