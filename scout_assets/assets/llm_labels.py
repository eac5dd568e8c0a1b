"""``llm_labels``: trivalent labels of queued profiles by one model, against the active audiences.

The only asset that calls a model. A partition is (day, model): it works the units of that
day's queue still pending for the model, in batches serialized as TOON, and stores one row
per (profile, model, audience version) with the reason, prompt version, tokens and cost.
Invalid or partial model output keeps the valid labels; the rest is recorded in
``label_failures`` and stays pending, until ``max_failures`` sends the unit to
``dead_letters``. A model that stays unavailable through the labeler's own retries (the one
layer that retries a model call) fails the step, not retryable: there is no step retry policy. A re-run labels only what is still pending, so nothing is labeled twice;
``relabel: true`` (a backfill with a new model or prompt) replaces the day's labels instead.

The cascade (``labeling.yaml``, docs/labeling.md "The cascade") decides which units a model
gets: the local labeler (``resolve_local_labeler``: the best fit on people's reviews, else the
shipped fit, else zero-shot) labels every queued profile and stores its ``p_true`` and whether
it ``deferred``; the first LLM that can run here gets only the deferred profiles, with up to K
reviewed examples in its prompt; a later LLM only those on which the one before it said null or
disagreed with the local label. Every run reports the local labeler's source, the share of the
day's queued units sent to LLMs, the dollars LLMs spent on the day and the dollars saved
against sending every queued unit to each LLM that ran.

Budgets (``config/budgets.yaml``, docs/operations.md "Budgets and the cost ledger"): before each
batch the run estimates the batch's cost from the model's prices and stops, cleanly, before a
batch that would pass the model's dollar cap per run or per day: the labels stored stay, the
rest stays pending, and one ``budget_stops`` row says which cap and what was left. Every call
attempt, whatever its outcome (labeled, partial, invalid, failed, retried), is one costed row of
the ``model_calls`` ledger, written with the batch's labels; the run's ``budget`` metadata puts
its spend against each cap.
"""

import uuid
from datetime import UTC, datetime

import dagster as dg
import polars as pl

from resources.archive import RawArchive
from resources.models.litellm_labeler import TransientModelError
from resources.models.registry import model_aliases
from resources.models.resource import LabelModel, model_resource_key
from resources.warehouse import Warehouse
from scout_assets.assets.common import LABELING_GROUP, LABELS_FRESHNESS, OWNERS, counts_table
from scout_assets.breakers import provider_breaker
from scout_assets.labeling.cascade import cascade_day, choose_examples, review_examples, route_of
from scout_assets.labeling.labeler_store import resolve_local_labeler
from scout_assets.labeling.queue import Route, dead_letters_due, pending_units
from scout_assets.labeling.settings import LabelingSettings, load_labeling_settings
from scout_assets.partitions import daily_model_partitions, split_model_partition_key
from scout_assets.spend.budgets import BudgetsResource
from scout_assets.spend.enforce import ModelAllowance, Refusal, estimate_batch_usd, record_caps, record_stop
from scout_assets.spend.ledger import batch_profiles_frame, model_calls_frame
from scout_contract.audience import Audience, load_audiences
from scout_contract.labels import LabelBatchResult, ProfileForLabel
from scout_contract.tables import (
    DEAD_LETTERS,
    LABEL_FAILURES,
    LLM_LABELS,
    MODEL_CALL_PROFILES,
    MODEL_CALLS,
    polars_schema,
)
from scout_leads.exclusions import refresh_excluded_accounts

MODEL_ALIASES = model_aliases()


class LabelConfig(dg.Config):
    """Per-run knobs; the defaults come from config/labeling.yaml."""

    relabel: bool = False
    max_batches: int | None = None


@dg.asset(
    key="llm_labels",
    ins={
        "profiles_to_score": dg.AssetIn(
            partition_mapping=dg.MultiPartitionMapping(
                {"date": dg.DimensionPartitionMapping("date", dg.IdentityPartitionMapping())}
            ),
            dagster_type=dg.Nothing,
        )
    },
    partitions_def=daily_model_partitions,
    group_name=LABELING_GROUP,
    owners=OWNERS,
    freshness_policy=LABELS_FRESHNESS,
    kinds={"python", "llm"},
    required_resource_keys={
        "warehouse",
        "archive",
        "budgets",
        *(model_resource_key(alias) for alias in MODEL_ALIASES),
    },
    pool="llm",
    description=__doc__,
)
def llm_labels(context: dg.AssetExecutionContext, config: LabelConfig) -> dg.MaterializeResult:
    day, alias = split_model_partition_key(context.partition_key)
    warehouse: Warehouse = context.resources.warehouse
    archive: RawArchive = context.resources.archive
    model: LabelModel = getattr(context.resources, model_resource_key(alias))
    warehouse.ensure_schema()
    settings = load_labeling_settings()
    audiences = load_audiences()
    missing = [key for key in settings.audiences if key not in audiences]
    if missing:
        raise dg.Failure(
            f"labeling settings name audiences with no file: {missing}; known: {sorted(audiences)}"
        )
    if not model.available:
        raise dg.Failure(f"model {alias!r} has no API key configured ({model.spec.api_key_env} is not set)")
    order = settings.cascade.order
    available = [a for a in order if getattr(context.resources, model_resource_key(a)).available]
    route = route_of(alias, order, available)

    spec = model.spec
    breaker = provider_breaker(context, warehouse, spec.provider)  # scout_assets/breakers.py
    if not breaker.check().allowed:  # open: skip the provider (recorded); the queue waits
        return breaker.skipped_result()
    max_batches = config.max_batches or settings.max_batches_per_run
    totals = _Totals()
    budgets_resource: BudgetsResource = context.resources.budgets
    budgets = budgets_resource.load()
    started_at = datetime.now(UTC).replace(tzinfo=None)
    record_caps(warehouse, budgets, "model", alias, started_at.date(), started_at)
    allowance = ModelAllowance.for_run(warehouse, budgets, alias, started_at)
    stop: Refusal | None = None
    k = settings.cascade.prompt_examples
    sources: dict[str, tuple[str, bool]] = {}
    # Do-not-contact entries also cover accounts seen since they were added: match them now, so the
    # queue (which anti-joins excluded_accounts) never hands an excluded account to a model.
    refresh_excluded_accounts(warehouse)
    for audience_key in settings.audiences:
        if stop is not None:
            break
        audience = audiences[audience_key]
        pending = pending_units(warehouse, day, route, audience_key, relabel=config.relabel)
        batches = _batches(pending, spec.batch_size)[: max(0, max_batches - totals.batches)]
        if route.is_local:
            resolved = resolve_local_labeler(warehouse, archive, audience, settings.cascade.defer_threshold)
            sources[audience_key] = (resolved.source, resolved.fitted)
            context.log.info(f"{alias} for {audience_key}: {resolved.source}")
            labeler, candidates = resolved.labeler, []
        else:
            labeler = model.labeler()
            candidates = review_examples(warehouse, audience_key) if k else []
        sent_here = 0
        for number, batch in enumerate(batches, start=1):
            estimate = estimate_batch_usd(spec, len(batch))
            stop = allowance.refusal(estimate)
            if stop is not None:  # a clean stop: what is labeled stays, the rest stays pending
                left = pending.height - sent_here
                not_done = (
                    f"{alias} for {audience_key}: batches {number} to {len(batches)} of this run not sent "
                    f"(the next, of {len(batch)} profiles, estimated at USD {estimate:.6f}); {left} "
                    f"unit(s) stay pending"
                    + (", later audiences not started" if audience_key != settings.audiences[-1] else "")
                )
                context.log.warning(f"budget stop: {stop.describe('the next batch')}; {not_done}")
                record_stop(
                    warehouse,
                    run_id=context.run.run_id,
                    scope="model",
                    name=alias,
                    day=day,
                    refusal=stop,
                    not_done=not_done,
                    left_count=left,
                    now=datetime.now(UTC).replace(tzinfo=None),
                )
                totals.stop = f"{stop.describe('the next batch')}; {not_done}"
                break
            profiles = [profile for _, profile in batch]
            # Reviewed examples go to LLMs only, never one of the batch's own profiles.
            examples = () if route.is_local else (choose_examples(candidates, k, [r for r, _ in batch]),)
            batch_id = str(uuid.uuid4())
            try:
                result = breaker.call(labeler.label, profiles, audience, *examples)
            except TransientModelError as exc:
                # Every attempt it made is costed in the ledger, though no label came back.
                calls, members = _ledger(
                    exc.attempts, batch_id, context.run.run_id, alias, spec, audience_key, day, batch
                )
                with warehouse.transaction() as tx:
                    tx.append(MODEL_CALLS.name, calls)
                    tx.append(MODEL_CALL_PROFILES.name, members)
                allowance.spent(float(calls["cost_usd"].sum() or 0.0))
                # The labeler already spent its retries (the one layer that retries a model call).
                # Labels of the batches done are stored; the rest stays pending for a later run.
                raise dg.Failure(
                    description=f"model {alias!r} stayed unavailable after {totals.batches} batch(es) "
                    f"were labeled in this run; the rest stays pending: {exc}",
                    allow_retries=False,
                ) from exc
            calls, members = _ledger(
                result.attempts, batch_id, context.run.run_id, alias, spec, audience_key, day, batch
            )
            _store(
                warehouse,
                context,
                day,
                alias,
                audience,
                batch,
                result,
                config.relabel,
                settings.max_failures,
                calls,
                members,
            )
            spent = float(calls["cost_usd"].sum() or 0.0)
            allowance.spent(spent)
            totals.add(result, len(batch), spent, calls.height)
            sent_here += len(batch)
        totals.pending_left += max(0, pending.height - sent_here)

    return dg.MaterializeResult(
        metadata={
            **totals.metadata(warehouse, day, alias, spec.litellm_model, context),
            **_cascade_metadata(warehouse, day, route, settings, sources),
            **breaker.metadata(),
            "budget": dg.MetadataValue.json(allowance.figures()),
            "budget_stop": dg.MetadataValue.text(totals.stop or "none: no cap was reached"),
        }
    )


def _batches(pending: pl.DataFrame, size: int) -> list[list[tuple[dict, ProfileForLabel]]]:
    """Batches of one platform each, so handles are unique within a batch (they are per platform).

    ``pending`` comes best first (HAS, then newest); so do the batches.
    """
    batches: list[list[tuple[dict, ProfileForLabel]]] = []
    for _, rows in pending.group_by("platform", maintain_order=True):
        items = [
            (
                row,
                ProfileForLabel(
                    handle=row["handle"],
                    name=row["name"],
                    bio=row["bio"],
                    category=row["category"],
                    followers=int(row["followers"] or 0),
                ),
            )
            for row in rows.iter_rows(named=True)
        ]
        batches += [items[i : i + size] for i in range(0, len(items), size)]
    # Best first across platforms too: the batch holding the highest HAS goes first (stable sort).
    return sorted(batches, key=lambda batch: -max(row["has"] or 0.0 for row, _ in batch))


def _ledger(
    attempts, batch_id: str, run_id: str, alias: str, spec, audience_key: str, day, batch
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The batch's ``model_calls`` rows (every attempt, costed) and ``model_call_profiles`` rows (who
    shares that cost); both empty for a labeler that made no paid call (the local labeler)."""
    platform = batch[0][0]["platform"]  # a batch holds one platform (``_batches``)
    calls = model_calls_frame(
        attempts, batch_id, run_id, alias, spec, audience_key, platform, day, len(batch)
    )
    sent = [(row["platform"], row["platform_id"]) for row, _ in batch] if calls.height else []
    return calls, batch_profiles_frame(batch_id, alias, audience_key, day, sent)


def _store(
    warehouse,
    context,
    day,
    alias,
    audience: Audience,
    batch,
    result: LabelBatchResult,
    relabel: bool,
    max_failures: int,
    calls: pl.DataFrame,
    members: pl.DataFrame,
) -> None:
    """Write one batch's labels, failures and call attempts (the ledger), and dead-letter units that
    failed too often, atomically."""
    now = datetime.now(UTC).replace(tzinfo=None)
    by_handle = {profile.handle.casefold(): row for row, profile in batch}
    share = 1 / len(batch)  # a call's tokens and cost are shared by every profile it carried
    labels = pl.DataFrame(
        [
            {
                "platform": by_handle[label.handle.casefold()]["platform"],
                "platform_id": by_handle[label.handle.casefold()]["platform_id"],
                "handle": by_handle[label.handle.casefold()]["handle"],
                "model": alias,
                "model_id": result.model,
                "audience": audience.key,
                "audience_hash": audience.content_hash,
                "partition_date": day,
                "label": label.label,
                "reason": label.reason,
                "prompt_version": result.prompt_version,
                "input_tokens": round(result.input_tokens * share),
                "output_tokens": round(result.output_tokens * share),
                "cost_usd": result.cost_usd * share,
                "latency_ms": result.latency_ms,
                "run_id": context.run.run_id,
                "labeled_at": now,
                # The local labeler's confidence (null from an LLM, or from the zero-shot labeler,
                # whose labels the cascade then treats as deferred: see labeling/queue.py).
                "p_true": label.p_true,
                "deferred": label.defer,
            }
            for label in result.labels
            if label.handle.casefold() in by_handle
        ],
        schema=polars_schema(LLM_LABELS.columns),
    )
    failures = pl.DataFrame(
        [
            {
                "attempt_id": str(uuid.uuid4()),
                "platform": by_handle[failure.handle.casefold()]["platform"],
                "platform_id": by_handle[failure.handle.casefold()]["platform_id"],
                "handle": by_handle[failure.handle.casefold()]["handle"],
                "model": alias,
                "audience": audience.key,
                "partition_date": day,
                "error": failure.error[:1000],
                "run_id": context.run.run_id,
                "attempted_at": now,
            }
            for failure in result.failures
            if failure.handle.casefold() in by_handle
        ],
        schema=polars_schema(LABEL_FAILURES.columns),
    )
    with warehouse.transaction() as tx:
        (tx.upsert if relabel else tx.append)("llm_labels", labels)
        tx.append("label_failures", failures)
        tx.append(MODEL_CALLS.name, calls)
        tx.append(MODEL_CALL_PROFILES.name, members)
        if failures.height:
            due = dead_letters_due(tx, alias, audience.key, max_failures, now)
            if due.height:
                tx.upsert(
                    "dead_letters",
                    due.select(DEAD_LETTERS.column_names).cast(polars_schema(DEAD_LETTERS.columns)),
                )
    for failure in result.failures:
        context.log.warning(
            f"{alias} did not label @{failure.handle} for {audience.key}: {failure.error[:200]}"
        )


class _Totals:
    """Counters for the run's metadata."""

    def __init__(self) -> None:
        self.batches = self.sent = self.labeled = self.failed = self.pending_left = 0
        self.input_tokens = self.output_tokens = self.call_attempts = 0
        self.cost = self.latency_ms = self.ledger_cost = 0.0
        self.stop: str | None = None

    def add(self, result: LabelBatchResult, sent: int, ledger_cost: float, attempts: int) -> None:
        self.ledger_cost += ledger_cost
        self.call_attempts += attempts
        self.batches += 1
        self.sent += sent
        self.labeled += len(result.labels)
        self.failed += len(result.failures)
        self.input_tokens += result.input_tokens
        self.output_tokens += result.output_tokens
        self.cost += result.cost_usd
        self.latency_ms += result.latency_ms

    def metadata(self, warehouse, day, alias, model_id, context) -> dict:
        labels = warehouse.read(
            "select label from llm_labels where partition_date = $1 and model = $2", [day, alias]
        ).with_columns(pl.col("label").cast(pl.String).fill_null("null"))
        draw = {k: v for k, v in context.run.tags.items() if k.startswith("scout/draw")}
        return {
            "dagster/row_count": labels.height,
            "model_id": model_id,
            "batches": self.batches,
            "profiles_sent": self.sent,
            "labels_written": self.labeled,
            "label_failures": self.failed,
            "pending_left": self.pending_left,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost_usd": round(self.cost, 6),
            # Every attempt of every batch (failed, invalid, retried included): the model_calls ledger.
            "call_attempts": self.call_attempts,
            "cost_usd_all_attempts": round(self.ledger_cost, 6),
            "mean_batch_latency_ms": round(self.latency_ms / self.batches, 1) if self.batches else 0.0,
            "label_distribution": counts_table(labels, "label") if labels.height else "no labels",
            "agreement_with_other_models": _agreement(warehouse, day, alias),
            **({"model_draw": dg.MetadataValue.json(draw)} if draw else {}),
        }


def _agreement(warehouse, day, alias) -> dg.MetadataValue:
    """Share of identical labels between this model and each other model on the same profiles and audience."""
    pairs = warehouse.read(
        "select o.model as other, count(*) as shared, "
        "sum(case when (a.label is null and o.label is null) or a.label = o.label then 1 else 0 end) as same "
        "from llm_labels a join llm_labels o on o.platform = a.platform and o.platform_id = a.platform_id "
        "and o.audience = a.audience and o.model <> a.model "
        "where a.model = $1 and a.partition_date = $2 group by o.model order by o.model",
        [alias, day],
    )
    if pairs.is_empty():
        return dg.MetadataValue.md("no profile of this partition is labeled by another model yet")
    lines = ["| other model | shared profiles | agreement |", "|---|---:|---:|"]
    lines += [
        f"| {r['other']} | {r['shared']} | {r['same'] / r['shared']:.1%} |"
        for r in pairs.iter_rows(named=True)
    ]
    return dg.MetadataValue.md("\n".join(lines))


def _cascade_metadata(
    warehouse: Warehouse,
    day,
    route: Route,
    settings: LabelingSettings,
    sources: dict[str, tuple[str, bool]],
) -> dict[str, dg.MetadataValue]:
    """The cascade's figures for the day, and which local labeler decided the routing."""
    figures = cascade_day(warehouse, day, settings.audiences, route.local)
    if route.is_local:
        kinds = {"fitted" if fitted else "zero-shot" for _, fitted in sources.values()}
        source = "; ".join(f"{key}: {text}" for key, (text, _) in sources.items())
    else:
        kinds, source = _local_labels_of_day(warehouse, day, route.local)
    kind = kinds.pop() if len(kinds) == 1 else ("mixed" if kinds else "none yet")
    return {
        "cascade_route": dg.MetadataValue.text(f"{route.model} labels {route.describe()}"),
        "local_labeler": dg.MetadataValue.text(f"{kind}: {source}" if source else kind),
        "local_labeler_kind": dg.MetadataValue.text(kind),
        "queued_units": dg.MetadataValue.int(figures.queued),
        "deferred_share": dg.MetadataValue.float(round(float(figures.deferred_share), 4)),
        "units_sent_to_llms": dg.MetadataValue.int(figures.sent_to_llm),
        "share_sent_to_llms": dg.MetadataValue.float(round(float(figures.llm_share), 4)),
        "llm_usd_spent_on_day": dg.MetadataValue.float(round(float(figures.spent_usd), 9)),
        "llm_usd_saved_on_day": dg.MetadataValue.float(round(float(figures.saved_usd), 9)),
        "llm_usd_saved_estimate": dg.MetadataValue.md(figures.savings_table()),
    }


def _local_labels_of_day(warehouse: Warehouse, day, local: str) -> tuple[set[str], str]:
    """Which local labeler versions labeled the day's queue (an LLM run's routing came from them)."""
    versions = warehouse.read(
        "select l.prompt_version, count(*) as labels from llm_labels l "
        "join profiles_to_score q on q.platform = l.platform and q.platform_id = l.platform_id "
        "where l.model = $1 and q.partition_date = $2 group by l.prompt_version order by l.prompt_version",
        [local, day],
    )
    kinds = {"fitted" if str(v).startswith("fitted-") else "zero-shot" for v in versions["prompt_version"]}
    text = ", ".join(
        f"{v} ({'fitted' if str(v).startswith('fitted-') else 'zero-shot'}) × {n}"
        for v, n in versions.iter_rows()
    )
    return kinds, (f"the day's queue was routed by {local} labels of {text}" if text else "")
