"""The cycle draw: one draw per 15-minute cycle, one batch per drawn paid model (docs/labeling.md).

Three levels: the draw as a pure function over 1,000 simulated cycles (every minute tick of a
cycle recomputes it, as the sensor does); the label sensor ticking against a real DuckDB
warehouse and a real (ephemeral) Dagster instance; and the real ``llm_labels`` asset run with the
draw's run config against a loopback OpenAI-compatible server, which counts what it is asked.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest

from resources.models.resource import LabelModel, model_resource_key
from resources.models.roster import ModelRoster
from scout_assets.assets.llm_labels import MODEL_ALIASES
from scout_assets.labeling.draw import CYCLE_TAG, Cycle, CycleDraw, draw_labeling_models
from scout_assets.labeling.settings import load_labeling_settings
from scout_assets.partitions import model_partition_key
from sensors.label_queue import label_queue_tick
from sensors.settings import LABEL_CYCLE_S, LABEL_MAX_WAIT_ENV
from tests.llm_server import FakeLLMServer
from tests.pipeline_support import archive_for, assets, budgets_resource
from tests.sensors_fixtures import add_labels, seed_queue, stand_in_job

SETTINGS = load_labeling_settings()
ORDER = SETTINGS.cascade.order
LOCAL, FIRST = ORDER[0], ORDER[1]  # the local labeler, the cheapest LLM
AUDIENCE = SETTINGS.audiences[0]
EVERY_MODEL = ModelRoster(available=list(ORDER))  # as if every key were set: the sensor needs none
SPECS = EVERY_MODEL.specs
CYCLES = 1000
START = datetime(2026, 3, 10, 0, 0, tzinfo=UTC)


def draw_at(moment: datetime, roster: ModelRoster = EVERY_MODEL) -> CycleDraw:
    """The draw a sensor tick at ``moment`` makes."""
    return draw_labeling_models(roster, Cycle.at(moment, LABEL_CYCLE_S), ORDER)


def simulate(cycles: int) -> dict[str, list[int]]:
    """Labels each model may store per cycle, over ``cycles`` consecutive cycles from START, with a
    queue deep enough for any batch. Every minute tick recomputes the draw, as the sensor does;
    a model's labels in a cycle are the cap of the draw its ticks saw (which must be one draw)."""
    labels: dict[str, list[int]] = {alias: [] for alias in ORDER}
    for i in range(cycles):
        start = START + timedelta(seconds=i * LABEL_CYCLE_S)
        ticks = [draw_at(start + timedelta(minutes=m, seconds=7)) for m in range(LABEL_CYCLE_S // 60)]
        assert len({(d.seed, tuple(d.selected)) for d in ticks}) == 1, f"cycle {i} saw more than one draw"
        draw = ticks[0]
        assert draw.seed == int(start.timestamp())
        for alias in ORDER:
            cap = draw.label_cap(alias)
            labels[alias].append(draw.batch_size(alias) if cap is None else cap)
    return labels


def old_per_tick_rule(cycles: int, alias: str) -> list[int]:
    """What the sensor did before: a new draw on every minute tick (seed = tick time) and up to
    ``max_batches_per_run`` batches per run; labels per cycle of ``alias`` with a deep queue."""
    spec = SPECS[alias]
    most = SETTINGS.max_batches_per_run * spec.batch_size
    labels = []
    for i in range(cycles):
        start = START + timedelta(seconds=i * LABEL_CYCLE_S)
        seeds = [int((start + timedelta(minutes=m)).timestamp()) for m in range(LABEL_CYCLE_S // 60)]
        drawn = any(
            d.selected
            for seed in seeds
            for d in draw_labeling_models(EVERY_MODEL, seed=seed, order=ORDER).draws
            if d.alias == alias
        )
        labels.append(most if drawn else 0)
    return labels


def test_the_mean_labels_per_cycle_match_p_times_batch_over_1000_cycles():
    """Over 1,000 simulated cycles, each paid model's mean labels per cycle lie within 3 standard
    errors of probability x batch_size, where the standard error is that of a mean of 1,000 draws of
    batch x Bernoulli(p): batch * sqrt(p (1 - p) / 1000) (e.g. 0.36 labels for p = 0.7, batch 25).
    No cycle gives a paid model more than its batch. The local labeler is drawn every cycle
    (probability 1.0) and is not bound (its cap is None: it costs nothing).
    The seeds are fixed, so the figures are the same on every run."""
    labels = simulate(CYCLES)
    expected_total = 0.0
    for alias in ORDER[1:]:
        spec = SPECS[alias]
        p, batch = spec.probability, spec.batch_size
        mean = sum(labels[alias]) / CYCLES
        standard_error = batch * math.sqrt(p * (1 - p) / CYCLES)
        assert abs(mean - p * batch) <= 3 * standard_error, (alias, mean, p * batch, standard_error)
        assert max(labels[alias]) <= batch and set(labels[alias]) <= {0, batch}
        expected_total += p * batch
    observed_total = sum(sum(labels[alias]) for alias in ORDER[1:]) / CYCLES
    total_error = math.sqrt(
        sum(s.batch_size**2 * s.probability * (1 - s.probability) for s in SPECS.values())
    )
    assert abs(observed_total - expected_total) <= 3 * total_error / math.sqrt(CYCLES)
    assert all(draw_at(START + timedelta(minutes=15 * i)).label_cap(LOCAL) is None for i in range(50))
    assert SPECS[LOCAL].probability == 1.0


def test_the_old_per_tick_draw_fails_the_same_tolerance():
    """The tolerance above can tell the rules apart: redrawing on every tick with up to 8 batches
    a run (what the sensor did) puts a p = 0.7 model far outside it."""
    alias = max(ORDER[1:], key=lambda a: SPECS[a].probability)
    spec = SPECS[alias]
    labels = old_per_tick_rule(200, alias)
    standard_error = spec.batch_size * math.sqrt(spec.probability * (1 - spec.probability) / 200)
    assert sum(labels) / 200 - spec.probability * spec.batch_size > 3 * standard_error


def test_a_cycle_is_fifteen_minutes_of_utc_and_its_seed_is_its_start():
    cycle = Cycle.at(datetime(2026, 3, 10, 12, 14, 59, tzinfo=UTC), LABEL_CYCLE_S)
    assert cycle.label == "2026-03-10T12:00Z" and cycle.end == datetime(2026, 3, 10, 12, 15, tzinfo=UTC)
    assert cycle.seed == int(datetime(2026, 3, 10, 12, 0, tzinfo=UTC).timestamp())
    assert Cycle.at(datetime(2026, 3, 10, 12, 15), LABEL_CYCLE_S).label == "2026-03-10T12:15Z"  # naive = UTC
    with pytest.raises(ValueError, match="needs a cycle or a seed"):
        draw_labeling_models(EVERY_MODEL, order=ORDER)


def test_the_run_config_bounds_paid_models_only_and_is_valid_for_the_label_job():
    from scout_location.definitions import defs

    draw = draw_at(START)
    job = defs.resolve_job_def("scout_label")
    assert draw.run_config(LOCAL) == {}
    assert draw.tags(FIRST)[CYCLE_TAG] == "2026-03-10T00:00Z"
    for alias in ORDER[1:]:
        config = draw.run_config(alias)
        assert config == {"ops": {"llm_labels": {"config": {"max_batches": 1}}}}
        assert dg.validate_run_config(job, config)


# --- the sensor ------------------------------------------------------------------------------


def next_cycle(alias: str, after: datetime, *, drawn: bool = True) -> Cycle:
    """The first cycle starting at or after ``after`` whose draw selects (or skips) ``alias``."""
    moment = after
    while (alias in draw_at(moment).selected) != drawn:
        moment += timedelta(seconds=LABEL_CYCLE_S)
    return Cycle.at(moment, LABEL_CYCLE_S)


def tick(warehouse, instance, moment: datetime, cursor: str | None = None) -> dg.SensorResult:
    context = dg.build_sensor_context(instance=instance, cursor=cursor)
    return label_queue_tick(context, warehouse, moment, draw=draw_at(moment, ROSTER))


ROSTER = ModelRoster(available=[LOCAL, FIRST])  # the local labeler and the cheapest LLM can run


def record_runs(instance: dg.DagsterInstance, result: dg.SensorResult) -> None:
    """Record the tick's requests as runs, as the daemon would, and end them (they finished)."""
    for request in result.run_requests:
        run = instance.create_run_for_job(
            stand_in_job("scout_label", None),
            status=dg.DagsterRunStatus.NOT_STARTED,
            tags={**request.tags, "dagster/partition": request.partition_key},
        )
        instance.report_run_canceled(run)


def first_llm_requests(result: dg.SensorResult) -> list[dg.RunRequest]:
    return [r for r in result.run_requests if r.partition_key.endswith(f"|{FIRST}")]


def test_two_ticks_of_one_cycle_see_one_draw_and_launch_one_run_of_a_paid_model(
    duckdb_warehouse, monkeypatch
):
    """A drawn LLM with three batches pending gets one run of one batch in its cycle: a later tick
    of the same cycle (cursor kept, or lost) sees the same draw and launches nothing for it; the
    next cycle that draws it launches again, and a cycle that does not draw it launches nothing."""
    monkeypatch.delenv(LABEL_MAX_WAIT_ENV, raising=False)
    instance = dg.DagsterInstance.ephemeral()
    batch = SPECS[FIRST].batch_size
    cycle = next_cycle(FIRST, START)
    later_cycle = next_cycle(FIRST, cycle.end)
    skipped = next_cycle(FIRST, cycle.end, drawn=False)
    day = cycle.start.date()
    ids = [str(7000 + i) for i in range(3 * batch)]
    seed_queue(
        duckdb_warehouse, day, ids, queued_at=(cycle.start - timedelta(minutes=5)).replace(tzinfo=None)
    )
    add_labels(duckdb_warehouse, day, ids, LOCAL, AUDIENCE, deferred=True)  # all deferred to the LLM

    early, late = cycle.start + timedelta(minutes=1), cycle.start + timedelta(minutes=14)
    assert draw_at(early, ROSTER) == draw_at(late, ROSTER)  # one draw for the whole cycle
    first = tick(duckdb_warehouse, instance, early)
    [request] = first_llm_requests(first)
    assert request.partition_key == model_partition_key(day, FIRST)
    assert request.run_key == f"cycle:{cycle.label}|{FIRST}"
    assert request.run_config == {"ops": {"llm_labels": {"config": {"max_batches": 1}}}}
    assert request.tags[CYCLE_TAG] == cycle.label and request.tags["scout/draw_seed"] == str(cycle.seed)
    record_runs(instance, first)

    again = tick(duckdb_warehouse, instance, late, cursor=first.cursor)
    assert first_llm_requests(again) == []
    assert f"{FIRST} already had its run of cycle {cycle.label}" in again.skip_reason.skip_message
    lost = tick(duckdb_warehouse, instance, late, cursor=None)  # a restart that lost the cursor
    assert first_llm_requests(lost) == []

    # The run labeled its batch; the next cycle that draws the model launches one more run.
    add_labels(duckdb_warehouse, day, ids[:batch], FIRST, AUDIENCE)
    assert first_llm_requests(tick(duckdb_warehouse, instance, skipped.start, cursor=again.cursor)) == []
    following = tick(duckdb_warehouse, instance, later_cycle.start, cursor=again.cursor)
    [next_request] = first_llm_requests(following)
    assert next_request.run_key == f"cycle:{later_cycle.label}|{FIRST}"
    assert next_request.tags["scout/pending"] == str(2 * batch)


# --- the asset -------------------------------------------------------------------------------


def test_a_run_with_the_draws_config_labels_one_batch_though_more_is_pending(duckdb_warehouse):
    """The bound holds in the asset: three batches pending, the draw's run config, one call and
    exactly one batch of labels stored."""
    batch = SPECS[FIRST].batch_size
    day = datetime.now(UTC).date()
    ids = [str(8000 + i) for i in range(3 * batch)]
    seed_queue(duckdb_warehouse, day, ids, queued_at=datetime.now(UTC).replace(tzinfo=None))
    add_labels(duckdb_warehouse, day, ids, LOCAL, AUDIENCE, deferred=True)
    models = {model_resource_key(a): LabelModel(alias=a) for a in MODEL_ALIASES}
    draw = draw_at(datetime.now(UTC))
    with FakeLLMServer("good") as server:
        models[model_resource_key(FIRST)] = LabelModel(
            alias=FIRST,
            api_key="sk-test-draw",
            api_base=server.url,
            litellm_model=f"openai/fake-{FIRST}",
            timeout_s=5,
            max_attempts=1,
        )
        result = dg.materialize(
            assets(["llm_labels"]),
            partition_key=model_partition_key(day, FIRST),
            resources={
                "warehouse": duckdb_warehouse,
                "archive": archive_for(duckdb_warehouse),
                "budgets": budgets_resource(),
                **models,
            },
            run_config=draw.run_config(FIRST),
        )
        assert result.success and len(server.requests) == 1
    stored = duckdb_warehouse.read("select count(*) as n from llm_labels where model = $1", [FIRST])
    assert stored["n"][0] == batch
