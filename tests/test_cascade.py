"""The cascade end to end: real warehouses (DuckDB and PostgreSQL), real Dagster materializations
of ``llm_labels``, LLM partitions pointed at loopback OpenAI-compatible servers (tests/llm_server.py)
that count every request they get.

The local labeler's verdicts are planted as ``local-minilm`` rows (``deferred`` true or false), so
routing is tested on known inputs; one test runs the local partition itself with whatever labeler
``resolve_local_labeler`` gives (the shipped fit, or zero-shot) and checks what it stored. The fake
model's rule: a bio with "qualitative" is true, other "research" null, anything else false.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

import dagster as dg
import polars as pl
import pytest

from resources.models.resource import LabelModel, model_resource_key
from scout_assets.assets.llm_labels import MODEL_ALIASES
from scout_assets.labeling.cascade import cascade_day, route_of
from scout_assets.labeling.queue import Route, pending_units
from scout_assets.labeling.settings import load_labeling_settings
from scout_assets.partitions import model_partition_key, today_utc
from tests.llm_server import FakeLLMServer, toon_block
from tests.pipeline_support import archive_for, assets, budgets_resource
from tests.sensors_fixtures import add_dead_letter, add_labels, seed_queue
from tests.toon_reader import read_profiles

SETTINGS = load_labeling_settings()
AUDIENCE = SETTINGS.audiences[0]
LOCAL = SETTINGS.local_model
LLMS = list(SETTINGS.cascade.order[1:])  # cheapest first
FIRST, SECOND = LLMS[0], LLMS[1]


def queue_profiles(
    warehouse, count: int, *, bio: str = "qualitative researcher", start: int = 0
) -> list[str]:
    """Queue ``count`` labelable profiles today (ids from ``start``, handles ``user<id>``); their ids."""
    ids = [str(5000 + start + i) for i in range(count)]
    seed_queue(warehouse, today_utc(), ids, queued_at=datetime.now(UTC).replace(tzinfo=None), bio=bio)
    return ids


def defer_all(warehouse, ids: list[str], *, deferred: bool = True, label: bool | None = None) -> None:
    """Plant the local labeler's verdict on ``ids``."""
    add_labels(warehouse, today_utc(), ids, LOCAL, AUDIENCE, label=label, deferred=deferred)


def label_run(
    warehouse,
    alias: str,
    servers: Mapping[str, FakeLLMServer],
    *,
    max_batches: int = 8,
    raise_on_error: bool = True,
) -> dg.ExecuteInProcessResult:
    """Materialize today's ``alias`` partition; the models in ``servers`` have a key (they can run
    here) and answer from their loopback server, every other LLM has no key."""
    models = {model_resource_key(a): LabelModel(alias=a) for a in MODEL_ALIASES}
    for name, server in servers.items():
        models[model_resource_key(name)] = LabelModel(
            alias=name,
            api_key="sk-test-cascade",
            api_base=server.url,
            litellm_model=f"openai/fake-{name}",
            timeout_s=5,
            max_attempts=1,
        )
    return dg.materialize(
        assets(["llm_labels"]),
        partition_key=model_partition_key(today_utc(), alias),
        resources={
            "warehouse": warehouse,
            "archive": archive_for(warehouse),
            "budgets": budgets_resource(),
            **models,
        },
        run_config={"ops": {"llm_labels": {"config": {"max_batches": max_batches}}}},
        raise_on_error=raise_on_error,
    )


def asked(server: FakeLLMServer) -> set[str]:
    """Every handle the server was asked to label, over all its requests."""
    return {p.handle for request in server.requests for p in read_profiles(toon_block(request["messages"]))}


def handles(ids: list[str]) -> set[str]:
    return {f"user{pid}" for pid in ids}


def metadata(result: dg.ExecuteInProcessResult) -> dict:
    [materialization] = result.asset_materializations_for_node("llm_labels")
    return {key: value.value for key, value in materialization.metadata.items()}


def test_routes_follow_the_order_among_the_models_that_can_run():
    order = SETTINGS.cascade.order
    assert route_of(LOCAL, order, []) == Route(LOCAL, LOCAL)
    assert route_of(FIRST, order, [LOCAL, FIRST, SECOND]) == Route(FIRST, LOCAL, None)
    assert route_of(SECOND, order, [LOCAL, FIRST, SECOND]) == Route(SECOND, LOCAL, FIRST)
    # Without the cheapest LLM's key, the next one is the first LLM of this deployment.
    assert route_of(SECOND, order, [LOCAL, SECOND]) == Route(SECOND, LOCAL, None)
    assert route_of(LLMS[3], order, [LOCAL, FIRST, LLMS[3]]) == Route(LLMS[3], LOCAL, FIRST)
    with pytest.raises(ValueError, match="not in the cascade order"):
        route_of("gpt-9", order, [])


def test_no_llm_request_for_profiles_the_local_labeler_did_not_defer(warehouse):
    sure = queue_profiles(warehouse, 12)
    unlabeled = queue_profiles(warehouse, 5, start=100)  # the local labeler has not seen these yet
    defer_all(warehouse, sure, deferred=False, label=True)
    with FakeLLMServer("good") as first, FakeLLMServer("good") as second:
        result = label_run(warehouse, FIRST, {FIRST: first, SECOND: second})
        later = label_run(warehouse, SECOND, {FIRST: first, SECOND: second})
        assert first.requests == [] and second.requests == []
    assert result.success and later.success
    assert warehouse.read("select count(*) as n from llm_labels where model <> $1", [LOCAL])["n"][0] == 0
    meta = metadata(result)
    assert (
        meta["queued_units"] == 17 and meta["units_sent_to_llms"] == 0 and meta["share_sent_to_llms"] == 0.0
    )
    assert meta["llm_usd_spent_on_day"] == 0.0 and meta["labels_written"] == 0
    assert unlabeled  # queued, yet pending for no LLM: the local labeler labels first


def test_deferred_profiles_go_to_the_cheapest_available_llm_only(warehouse):
    sure = queue_profiles(warehouse, 10)
    unsure = queue_profiles(warehouse, 7, start=100)
    defer_all(warehouse, sure, deferred=False, label=True)
    defer_all(warehouse, unsure, deferred=True, label=True)
    with FakeLLMServer("good") as first, FakeLLMServer("good") as second:
        servers = {FIRST: first, SECOND: second}
        # The second LLM waits for the first: nothing of the first's yet, so nothing for it.
        assert label_run(warehouse, SECOND, servers).success and second.requests == []
        result = label_run(warehouse, FIRST, servers)
        assert asked(first) == handles(unsure) and second.requests == []
    labels = warehouse.read(
        "select model, platform_id, label, cost_usd from llm_labels where model <> $1", [LOCAL]
    )
    assert set(labels["model"]) == {FIRST} and set(labels["platform_id"]) == set(unsure)
    meta = metadata(result)
    assert meta["queued_units"] == 17 and meta["units_sent_to_llms"] == 7
    assert meta["share_sent_to_llms"] == pytest.approx(7 / 17, abs=1e-4)
    assert meta["deferred_share"] == pytest.approx(7 / 17, abs=1e-4)
    spent = float(labels["cost_usd"].sum())
    assert spent > 0 and meta["llm_usd_spent_on_day"] == pytest.approx(spent, abs=1e-9)
    # Saved: its mean cost per profile that day x the 10 queued profiles it did not label.
    assert meta["llm_usd_saved_on_day"] == pytest.approx(spent / 7 * 10, abs=1e-9)
    assert "mean cost per profile" in meta["llm_usd_saved_estimate"]
    assert FIRST in meta["cascade_route"] and "deferred" in meta["cascade_route"]


def test_without_the_cheapest_llms_key_the_next_one_takes_the_deferred(warehouse):
    unsure = queue_profiles(warehouse, 4)
    defer_all(warehouse, unsure, deferred=True, label=None)
    with FakeLLMServer("good") as second:
        assert label_run(warehouse, SECOND, {SECOND: second}).success
        assert asked(second) == handles(unsure)


def test_a_second_llm_is_asked_only_where_the_first_disagrees_or_is_unsure(warehouse):
    """Deferred profiles with known local labels; the first LLM answers by the fake rule."""
    agree_true = queue_profiles(warehouse, 3, bio="qualitative interviewer")  # first: true, local: true
    disagree = queue_profiles(
        warehouse, 2, bio="qualitative ethnographer", start=10
    )  # first: true, local: false
    unsure = queue_profiles(warehouse, 2, bio="clinical research nurse", start=20)  # first: null
    agree_false = queue_profiles(
        warehouse, 3, bio="plays golf every day", start=30
    )  # first: false, local: false
    sure = queue_profiles(warehouse, 4, bio="qualitative sociologist", start=40)  # not deferred
    defer_all(warehouse, agree_true, label=True)
    defer_all(warehouse, disagree, label=False)
    defer_all(warehouse, unsure, label=True)
    defer_all(warehouse, agree_false, label=False)
    defer_all(warehouse, sure, deferred=False, label=True)
    with FakeLLMServer("good") as first, FakeLLMServer("good") as second, FakeLLMServer("good") as third:
        servers = {FIRST: first, SECOND: second, LLMS[2]: third}
        assert label_run(warehouse, FIRST, servers).success
        assert asked(first) == handles(agree_true + disagree + unsure + agree_false)
        assert label_run(warehouse, SECOND, servers).success
        assert asked(second) == handles(disagree + unsure)
        # The third asks where the second said null or differs from the local label: the second
        # says true on "disagree" (local false) and null on "unsure".
        assert label_run(warehouse, LLMS[2], servers).success
        assert asked(third) == handles(disagree + unsure)
        # Nothing is asked twice: a re-run finds nothing pending.
        before = len(first.requests) + len(second.requests)
        assert label_run(warehouse, FIRST, servers).success and label_run(warehouse, SECOND, servers).success
        assert len(first.requests) + len(second.requests) == before


def test_a_unit_the_first_llm_gave_up_on_goes_to_the_next(warehouse):
    """A dead letter of the first LLM is not a dead end for the profile."""
    ids = queue_profiles(warehouse, 3)
    defer_all(warehouse, ids, label=True)
    add_dead_letter(warehouse, ids[0], FIRST, AUDIENCE)
    second = Route(SECOND, LOCAL, FIRST)
    assert set(pending_units(warehouse, today_utc(), second, AUDIENCE, relabel=False)["platform_id"]) == {
        ids[0]
    }
    assert set(
        pending_units(warehouse, today_utc(), Route(FIRST, LOCAL), AUDIENCE, relabel=False)["platform_id"]
    ) == set(ids[1:])


def test_pending_units_come_best_first_by_has_then_newest(warehouse):
    day = today_utc()
    seed_queue(warehouse, day, ["1", "2"], queued_at=datetime(2026, 1, 1, 8), has=0.8)
    seed_queue(warehouse, day, ["3"], queued_at=datetime(2026, 1, 1, 9), has=0.8)
    seed_queue(warehouse, day, ["4"], queued_at=datetime(2026, 1, 1, 7), has=0.95)
    order = pending_units(warehouse, day, Route(LOCAL, LOCAL), AUDIENCE, relabel=False)[
        "platform_id"
    ].to_list()
    assert order == ["4", "3", "1", "2"]


def test_the_local_partition_labels_every_queued_profile_and_says_which_labeler(warehouse):
    """The real local partition with what resolve_local_labeler gives for the bundled audience;
    what it stored decides what the first LLM gets."""
    queue_profiles(warehouse, 6, bio="qualitative researcher studying migration and families")
    queue_profiles(warehouse, 6, bio="plays golf and posts about football", start=100)
    result = label_run(warehouse, LOCAL, {})
    assert result.success
    local = warehouse.read("select * from llm_labels where model = $1", [LOCAL])
    assert local.height == 12
    meta = metadata(result)
    fitted = local["prompt_version"].str.starts_with("fitted-").all()
    assert meta["local_labeler_kind"] == ("fitted" if fitted else "zero-shot")
    assert meta["local_labeler"].startswith(meta["local_labeler_kind"])
    if fitted:  # a fit states its confidence on every label
        assert local["p_true"].is_not_null().all() and local["deferred"].is_not_null().all()
    else:  # zero-shot states none, and says how to add reviews
        assert local["deferred"].is_null().all() and "scout review import" in meta["local_labeler"]
    unsure = set(local.filter(pl.col("deferred").fill_null(True))["platform_id"])
    assert meta["deferred_share"] == pytest.approx(len(unsure) / 12, abs=1e-4)
    with FakeLLMServer("good") as first:
        assert label_run(warehouse, FIRST, {FIRST: first}).success
        assert asked(first) == {f"user{pid}" for pid in unsure}


def test_the_days_cascade_figures_count_units_per_audience(duckdb_warehouse):
    ids = queue_profiles(duckdb_warehouse, 4)
    defer_all(duckdb_warehouse, ids[:1], deferred=True, label=True)
    defer_all(duckdb_warehouse, ids[1:], deferred=False, label=True)
    add_labels(duckdb_warehouse, today_utc(), ids[:1], FIRST, AUDIENCE, cost_usd=0.002)
    figures = cascade_day(duckdb_warehouse, today_utc(), (AUDIENCE,), LOCAL)
    assert (figures.queued, figures.local_labeled, figures.deferred, figures.sent_to_llm) == (4, 4, 1, 1)
    assert figures.spent_usd == pytest.approx(0.002) and figures.saved_usd == pytest.approx(0.002 * 3)
