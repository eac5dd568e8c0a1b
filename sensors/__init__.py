"""Scout's automation: what runs by itself once the Dagster daemon is up (docs/operations.md).

- ``search_schedule`` (every 15 min), ``keyword_stats_schedule`` (02:00 UTC) and
  ``lead_export_schedule`` (06:00 UTC, every audience's new leads): the clocks.
- ``label_queue_sensor``: labels a (day, model) when a batch is full or its oldest unit waited.
- ``config_change_sensor`` + ``relabel_after_refresh_sensor``: keyword and audience edits.
- ``run_failure_sensor`` + ``run_retry_sensor``: failures recorded, retried or dead-lettered.
- ``labeler_refit_sensor``: refits an audience's local labeler when enough new reviews arrived.
- ``alert_*_sensor`` (``alerts.py``): failed runs, opened breakers, budgets at 80 %/100 % and
  freshness failures, posted to ``SCOUT_ALERT_WEBHOOK_URL`` (off while it is unset).

Everything starts RUNNING by default, so ``dagster dev`` runs it; each can be stopped in the
UI (or with ``dagster schedule stop`` / ``dagster sensor stop``). The code location adds the
two lists below to its ``Definitions``.
"""

from sensors.alerts import (
    alert_breaker_sensor,
    alert_budget_sensor,
    alert_freshness_sensor,
    alert_run_failure_sensor,
)
from sensors.config_changes import config_change_sensor
from sensors.label_queue import label_queue_sensor
from sensors.labeler_refit import labeler_refit_sensor
from sensors.relabel import relabel_after_refresh_sensor
from sensors.run_failures import run_failure_sensor
from sensors.run_retries import run_retry_sensor
from sensors.schedules import keyword_stats_schedule, lead_export_schedule, search_schedule

SCHEDULES = [search_schedule, keyword_stats_schedule, lead_export_schedule]
SENSORS = [
    label_queue_sensor,
    config_change_sensor,
    relabel_after_refresh_sensor,
    run_failure_sensor,
    run_retry_sensor,
    labeler_refit_sensor,
    alert_run_failure_sensor,
    alert_breaker_sensor,
    alert_budget_sensor,
    alert_freshness_sensor,
]

__all__ = [
    "SCHEDULES",
    "SENSORS",
    "alert_breaker_sensor",
    "alert_budget_sensor",
    "alert_freshness_sensor",
    "alert_run_failure_sensor",
    "config_change_sensor",
    "keyword_stats_schedule",
    "label_queue_sensor",
    "labeler_refit_sensor",
    "lead_export_schedule",
    "relabel_after_refresh_sensor",
    "run_failure_sensor",
    "run_retry_sensor",
    "search_schedule",
]
