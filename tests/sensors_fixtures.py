"""Helpers for the schedule and sensor tests: queue rows in a real warehouse, stand-in failing runs.

Queue rows are written through the warehouse's own ``append``/``upsert`` with frames typed by
``schema.py``, so the sensors read exactly what the assets would have written.

Stand-in jobs: the failure sensors react to a failed run of a Scout job, by name and partition.
The real assets cannot fail fast on purpose (their ``RetryPolicy`` waits minutes between
tries), so these jobs carry the real job names and partitions definitions and one op that
raises the error under test. The runs, events and errors are real Dagster records in a real
(ephemeral) instance; only the work inside the run is a stand-in.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime

import dagster as dg
import polars as pl

from scout_assets.partitions import daily_model_partitions, daily_platform_partitions
from scout_contract.tables import (
    DEAD_LETTERS,
    LABEL_FAILURES,
    LLM_LABELS,
    PROFILE_COLUMNS,
    PROFILES,
    PROFILES_TO_SCORE,
    polars_schema,
)


def seed_queue(
    warehouse,
    day: date,
    ids: list[str],
    *,
    queued_at: datetime,
    platform: str = "twitter",
    has: float = 0.9,
    bio: str = "qualitative researcher",
) -> None:
    """Queue ``ids`` on ``day`` (profiles_to_score) with a labelable profile each."""
    queue = pl.DataFrame(
        [
            {
                "platform": platform,
                "platform_id": pid,
                "partition_date": day,
                "handle": f"user{pid}",
                "has": has,
                "likely_is": "person",
                "has_version": "test",
                "queued_at": queued_at,
            }
            for pid in ids
        ],
        schema=polars_schema(PROFILES_TO_SCORE.columns),
    )
    empty_profile = {name: None for name, _ in PROFILE_COLUMNS}
    profiles = pl.DataFrame(
        [
            {
                **empty_profile,
                "platform": platform,
                "platform_id": pid,
                "handle": f"user{pid}",
                "name": f"User {pid}",
                "bio": bio,
                "first_seen_at": queued_at,
                "last_seen_at": queued_at,
                "first_partition_date": day,
                "last_partition_date": day,
            }
            for pid in ids
        ],
        schema=polars_schema(PROFILES.columns),
    )
    with warehouse.transaction() as tx:
        tx.append("profiles_to_score", queue)
        tx.upsert("profiles", profiles)


def add_labels(
    warehouse,
    day: date,
    ids: list[str],
    model: str,
    audience: str,
    platform: str = "twitter",
    *,
    label: bool | None = True,
    deferred: bool | None = None,
    cost_usd: float = 0.0,
) -> None:
    """``model``'s labels of ``ids``; ``deferred`` as the local labeler would set it (null for LLMs)."""
    rows = [
        {
            "platform": platform,
            "platform_id": pid,
            "handle": f"user{pid}",
            "model": model,
            "model_id": f"test/{model}",
            "audience": audience,
            "audience_hash": "test",
            "partition_date": day,
            "label": label,
            "reason": "test",
            "prompt_version": "test",
            "input_tokens": 1,
            "output_tokens": 1,
            "cost_usd": cost_usd,
            "latency_ms": 1.0,
            "run_id": "test",
            "labeled_at": datetime(2026, 1, 1),
            "p_true": None,
            "deferred": deferred,
        }
        for pid in ids
    ]
    warehouse.append("llm_labels", pl.DataFrame(rows, schema=polars_schema(LLM_LABELS.columns)))


def add_label_failure(
    warehouse, day: date, pid: str, model: str, audience: str, platform: str = "twitter"
) -> None:
    row = {
        "attempt_id": str(uuid.uuid4()),
        "platform": platform,
        "platform_id": pid,
        "handle": f"user{pid}",
        "model": model,
        "audience": audience,
        "partition_date": day,
        "error": "test: invalid label",
        "run_id": "test",
        "attempted_at": datetime(2026, 1, 1),
    }
    warehouse.append("label_failures", pl.DataFrame([row], schema=polars_schema(LABEL_FAILURES.columns)))


def add_dead_letter(
    warehouse,
    pid: str,
    model: str,
    audience: str,
    *,
    requeued_at: datetime | None = None,
    platform: str = "twitter",
) -> None:
    row = {
        "platform": platform,
        "platform_id": pid,
        "handle": f"user{pid}",
        "model": model,
        "audience": audience,
        "failures": 3,
        "last_error": "test",
        "dead_at": datetime(2026, 1, 1),
        "requeued_at": requeued_at,
    }
    warehouse.upsert("dead_letters", pl.DataFrame([row], schema=polars_schema(DEAD_LETTERS.columns)))


def stand_in_job(
    name: str, raise_error: Callable[[], None] | None, *, retry_policy: dg.RetryPolicy | None = None
) -> dg.JobDefinition:
    """A job named like a Scout job, with its partitions, whose one op raises ``raise_error()``."""
    partitions = daily_model_partitions if name == "scout_label" else daily_platform_partitions

    @dg.op(name="work", retry_policy=retry_policy)
    def work() -> None:
        if raise_error is not None:
            raise_error()

    @dg.job(name=name, partitions_def=partitions)
    def job() -> None:
        work()

    return job


def stand_in_run(
    instance: dg.DagsterInstance,
    name: str,
    partition: str,
    raise_error: Callable[[], None] | None,
    *,
    tags: dict[str, str] | None = None,
    retry_policy: dg.RetryPolicy | None = None,
) -> dg.ExecuteInProcessResult:
    """Run a stand-in job once on ``instance``; its run ends failed unless ``raise_error`` is None."""
    job = stand_in_job(name, raise_error, retry_policy=retry_policy)
    return job.execute_in_process(
        instance=instance, partition_key=partition, tags=tags or {}, raise_on_error=False
    )
