"""Rows of the cost ledgers: every platform request priced, every model call attempt costed.

Why a ledger of its own for model calls: ``llm_labels`` holds one row per *label*, so a call
whose answer was malformed, a call the provider refused, a retried attempt, or the calls that
ended in a dead letter leave no label to carry their cost. ``model_calls`` holds one row per
attempt whatever came of it, and is what cost per label, per new profile and per confirmed
label are computed from (the marts), and what the dollar caps count.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import date
from typing import TYPE_CHECKING

import polars as pl

from scout_contract.labels import CallAttempt
from scout_contract.tables import MODEL_CALL_PROFILES, MODEL_CALLS, polars_schema

if TYPE_CHECKING:
    from resources.models.registry import ModelSpec


def model_calls_frame(
    attempts: Sequence[CallAttempt] | Iterable[CallAttempt],
    batch_id: str,
    run_id: str,
    alias: str,
    spec: ModelSpec,
    audience: str,
    platform: str,
    day: date,
    profiles: int,
) -> pl.DataFrame:
    """The ``model_calls`` rows of one batch's attempts (empty for a local labeler, which calls nothing)."""
    rows = [
        {
            "call_id": str(uuid.uuid4()),
            "batch_id": batch_id,
            "run_id": run_id,
            "model": alias,
            "model_id": spec.litellm_model,
            "provider": spec.provider,
            "audience": audience,
            "platform": platform,
            "partition_date": day,
            "attempt": attempt.attempt,
            "profiles": profiles,
            "labels": attempt.labels,
            "failures": attempt.failures,
            "input_tokens": attempt.input_tokens,
            "output_tokens": attempt.output_tokens,
            "cost_usd": attempt.cost_usd,
            "cost_basis": attempt.cost_basis,
            "outcome": attempt.outcome,
            "error_kind": attempt.error_kind,
            "error": attempt.error,
            "latency_ms": attempt.latency_ms,
            "called_at": attempt.called_at,
        }
        for attempt in attempts
    ]
    return pl.DataFrame(rows, schema=polars_schema(MODEL_CALLS.columns))


def batch_profiles_frame(
    batch_id: str, alias: str, audience: str, day: date, profiles: Iterable[tuple[str, str]]
) -> pl.DataFrame:
    """The ``model_call_profiles`` rows of one batch: (platform, platform_id) of every profile sent."""
    rows = [
        {
            "batch_id": batch_id,
            "platform": platform,
            "platform_id": platform_id,
            "model": alias,
            "audience": audience,
            "partition_date": day,
        }
        for platform, platform_id in dict.fromkeys(profiles)
    ]
    return pl.DataFrame(rows, schema=polars_schema(MODEL_CALL_PROFILES.columns))


# Per profile of the day's sightings ($1) and an audience list ($2...): what LLM calls cost it, every
# attempt counted: each batch's attempts shared equally by the profiles it carried. Labels stored
# before the ledger existed (no model_calls row of their run and model) keep their own cost_usd.
PROFILE_COST_SQL = """
select b.platform, b.platform_id, c.cost_usd / c.profiles as cost_usd
from model_call_profiles b
join (select batch_id, sum(cost_usd) as cost_usd, max(profiles) as profiles
      from model_calls group by batch_id) c on c.batch_id = b.batch_id
where b.audience in ({audiences})
  and exists (select 1 from profile_sightings s where s.platform = b.platform
              and s.platform_id = b.platform_id and s.partition_date = $1)
union all
select l.platform, l.platform_id, l.cost_usd
from llm_labels l
where l.audience in ({audiences})
  and exists (select 1 from profile_sightings s where s.platform = l.platform
              and s.platform_id = l.platform_id and s.partition_date = $1)
  and not exists (select 1 from model_calls m where m.run_id = l.run_id and m.model = l.model)
"""
