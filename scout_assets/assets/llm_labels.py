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
from scout_contract.audience import Audience, load_audiences
from scout_contract.labels import LabelBatchResult, ProfileForLabel
from scout_contract.tables import DEAD_LETTERS, LABEL_FAILURES, LLM_LABELS, polars_schema

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
    required_resource_keys={"warehouse", "archive", *(model_resource_key(alias) for alias in MODEL_ALIASES)},
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
    k = settings.cascade.prompt_examples
    sources: dict[str, tuple[str, bool]] = {}
    for audience_key in settings.audiences:
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
        for batch in batches:
            profiles = [profile for _, profile in batch]
            # Reviewed examples go to LLMs only, never one of the batch's own profiles.
            examples = () if route.is_local else (choose_examples(candidates, k, [r for r, _ in batch]),)
            try:
                result = breaker.call(labeler.label, profiles, audience, *examples)
            except TransientModelError as exc:
                # The labeler already spent its retries (the one layer that retries a model call).
                # Labels of the batches done are stored; the rest stays pending for a later run.
                raise dg.Failure(
                    description=f"model {alias!r} stayed unavailable after {totals.batches} batch(es) "
                    f"were labeled in this run; the rest stays pending: {exc}",
                    allow_retries=False,
                ) from exc
            _store(
                warehouse, context, day, alias, audience, batch, result, config.relabel, settings.max_failures
            )
            totals.add(result, len(batch))
        totals.pending_left += max(0, pending.height - sum(len(b) for b in batches))

    return dg.MaterializeResult(
        metadata={
            **totals.metadata(warehouse, day, alias, spec.litellm_model, context),
            **_cascade_metadata(warehouse, day, route, settings, sources),
            **breaker.metadata(),
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
) -> None:
    """Write one batch's labels and failures, and dead-letter units that failed too often, atomically."""
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
        self.input_tokens = self.output_tokens = 0
        self.cost = self.latency_ms = 0.0

    def add(self, result: LabelBatchResult, sent: int) -> None:
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
