"""The environment knobs of Scout's schedules and sensors, read and checked in one place.

Every knob has a default that suits the embedded deployment, so ``dagster dev`` needs none of
them. A bad value fails loudly with the variable's name and what it should look like: a typo
in a deployment's environment must not silently turn automation off or make it run wild.

Cron strings are read when the code location loads (a schedule's cadence is part of its
definition); the other knobs are read on every tick, so they apply from the next tick after
the code location reloads with the new environment.
"""

from __future__ import annotations

import os
from datetime import timedelta

SEARCH_CRON_ENV = "SCOUT_SEARCH_CRON"
STATS_CRON_ENV = "SCOUT_STATS_CRON"
LABEL_MAX_WAIT_ENV = "SCOUT_LABEL_MAX_WAIT_MINUTES"
LABEL_LOOKBACK_ENV = "SCOUT_LABEL_LOOKBACK_DAYS"
RELABEL_DAYS_ENV = "SCOUT_RELABEL_DAYS"

DEFAULT_SEARCH_CRON = "*/15 * * * *"  # the predecessor searched every 15 minutes
DEFAULT_STATS_CRON = "0 2 * * *"  # and computed the previous day's keyword stats at 02:00 UTC
DEFAULT_LABEL_MAX_WAIT_MINUTES = 60
DEFAULT_LABEL_LOOKBACK_DAYS = 1  # today and yesterday: late units of yesterday still get labeled
DEFAULT_RELABEL_DAYS = 7

# Every schedule and sensor reads and reports time in UTC, whatever the host's zone is.
TIMEZONE = "UTC"

# How often the daemon evaluates each sensor (seconds); the label queue is cheap SQL.
LABEL_QUEUE_INTERVAL_S = 60
CONFIG_CHANGE_INTERVAL_S = 30
RUN_RETRY_INTERVAL_S = 30

# Run-failure handling: a run is tried at most this many times in all (the first run included);
# the wait before attempt N+1 is 2**N minutes. A (job, partition) whose runs failed with a
# poison error this many times in a row dead-letters its still-pending labeling units.
MAX_RUN_ATTEMPTS = 3
POISON_FAILURES_TO_DEAD_LETTER = 2


class AutomationSettingsError(ValueError):
    """An automation knob in the environment that cannot be used; names the variable."""


def cron_from_env(name: str, default: str) -> str:
    """A five-field cron string from ``name`` (default when unset or empty)."""
    value = (os.environ.get(name) or "").strip() or default
    if len(value.split()) != 5:
        raise AutomationSettingsError(
            f"{name}={value!r} is not a cron string: expected 5 fields "
            f"(minute hour day-of-month month day-of-week), e.g. {default!r}"
        )
    return value


def search_cron() -> str:
    return cron_from_env(SEARCH_CRON_ENV, DEFAULT_SEARCH_CRON)


def stats_cron() -> str:
    return cron_from_env(STATS_CRON_ENV, DEFAULT_STATS_CRON)


def int_from_env(name: str, default: int, *, minimum: int) -> int:
    """An integer knob ``>= minimum`` from ``name`` (default when unset or empty)."""
    raw = (os.environ.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise AutomationSettingsError(f"{name}={raw!r} is not an integer (default {default})") from None
    if value < minimum:
        raise AutomationSettingsError(f"{name}={value} must be >= {minimum} (default {default})")
    return value


def label_max_wait() -> timedelta:
    """How long a pending unit may wait before its partition is labeled even without a full batch."""
    return timedelta(minutes=int_from_env(LABEL_MAX_WAIT_ENV, DEFAULT_LABEL_MAX_WAIT_MINUTES, minimum=1))


def label_lookback_days() -> int:
    """How many days before today the label sensor still watches (0: today only)."""
    return int_from_env(LABEL_LOOKBACK_ENV, DEFAULT_LABEL_LOOKBACK_DAYS, minimum=0)


def relabel_days() -> int:
    """How many recent days (today included) a newly activated audience version relabels."""
    return int_from_env(RELABEL_DAYS_ENV, DEFAULT_RELABEL_DAYS, minimum=1)


def retry_backoff(attempt: int) -> timedelta:
    """The wait after failed attempt ``attempt`` (1-based) before the next one: 2**attempt minutes."""
    return timedelta(minutes=2**attempt)
