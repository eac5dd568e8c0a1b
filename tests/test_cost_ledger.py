"""A true cost ledger: every model call attempt costed whatever came of it, every platform request
priced, dollar caps that stop a labeling run before the batch that would pass them, and marts
whose cost per label / per new profile / per confirmed true label include all of it.

Real parts only: the search graph on the sandbox, ``llm_labels`` through litellm against the
scripted OpenAI-compatible server on loopback (tests/llm_server.py, whose ``usage`` is what a
provider would bill), real DuckDB and PostgreSQL, and the dbt assets as Dagster runs them.
"""

from __future__ import annotations

from datetime import timedelta

import dagster as dg
import polars as pl
import pytest

from resources.models.litellm_import import import_litellm
from resources.models.litellm_labeler import LiteLLMLabeler, TransientModelError
from resources.models.registry import ModelSpec, load_model_registry
from resources.retrying import RetryBudget
from resources.warehouse.location import parse_warehouse_url
from scout_assets.assets import dbt as dbt_module
from scout_assets.labeling.cascade import route_of
from scout_assets.labeling.queue import pending_units
from scout_assets.labeling.settings import load_labeling_settings
from scout_assets.partitions import today_utc
from scout_assets.resources_binding import build_resources
from scout_assets.spend.enforce import estimate_batch_usd
from scout_contract.audience import load_audiences
from scout_contract.labels import ProfileForLabel
from scout_contract.tables import REVIEWS, polars_schema
from scout_dashboard import queries
from scout_dashboard.queries import Window
from scout_leads.reader import MartReader
from tests.llm_server import FakeLLMServer
from tests.pipeline_support import MAIN_ASSETS, assets, materialize
from tests.test_labeling_asset import MODEL, label

TWITTER_PRICE = 0.0002  # budgets.yaml
BATCH = 25  # the model's batch size (models.yaml)
USAGE_MODES = ("good", "malformed", "partial")  # the fake server reports usage with these answers


def billed(mode: str, body: dict, spec, model: str = "openai/fake") -> tuple[float, str]:
    """What one request the fake server received should cost: its reported usage, else the prompt.

    The server's usage is a pure function of the request (characters / 4), so asking it again
    for the same body gives what it reported; a request it refused reported nothing, so the
    prompt's tokens, as litellm's tokenizer counts the messages it received, are the estimate.
    """
    if mode in USAGE_MODES:
        server = FakeLLMServer(mode)
        usage = server.reply_for(body, {})[1]["usage"]
        server._httpd.server_close()
        return spec.cost_usd(usage["prompt_tokens"], usage["completion_tokens"]), "usage"
    tokens = import_litellm().token_counter(model=model, messages=body["messages"])
    return spec.cost_usd(tokens, 0), "estimate"


# --- the labeler: every attempt costed ----------------------------------------------------------

FEW = [
    ProfileForLabel("alice", "Alice, PhD", "Qualitative sociologist: migration & families", None, 1840),
    ProfileForLabel("bob", "Bob", "Plays golf every day", "Sports", 52),
    ProfileForLabel("carol", "Carol", "Research nurse at a teaching hospital", None, 310),
]
FAST = RetryBudget(
    max_attempts=3,
    backoff_initial_s=0.001,
    backoff_max_s=0.005,
    backoff_jitter_s=0.001,
    retry_after_max_s=0.0,
)


def labeler_for(server: FakeLLMServer) -> LiteLLMLabeler:
    """A keyless OpenAI-compatible model on the fake server; a 429's Retry-After is not slept."""
    spec = ModelSpec(
        alias="fake-gpt",
        litellm_model="openai/fake-gpt",
        provider="openai",
        probability=1.0,
        batch_size=25,
        api_base=server.url,
        input_cost_per_token=2e-6,
        output_cost_per_token=8e-6,
    )
    return LiteLLMLabeler(spec, retry=FAST, sleep=lambda _: None)


@pytest.mark.parametrize(
    ("mode", "outcome", "error_kind"),
    [
        ("good", "labeled", None),
        ("partial", "partial", "invalid_output"),
        ("malformed", "invalid", "invalid_output"),
    ],
)
def test_an_answer_is_costed_from_its_reported_usage(mode, outcome, error_kind):
    with FakeLLMServer(mode) as server:
        labeler = labeler_for(server)
        result = labeler.label(FEW, load_audiences()["thelai_customers.v3"])
        [request] = server.requests
    [attempt] = result.attempts
    cost, basis = billed(mode, request, labeler.spec, "openai/fake-gpt")
    assert (attempt.outcome, attempt.error_kind, attempt.cost_basis, attempt.attempt) == (
        outcome,
        error_kind,
        basis,
        1,
    )
    assert attempt.cost_usd == pytest.approx(cost, rel=1e-12) == pytest.approx(result.cost_usd, rel=1e-12)
    assert (attempt.labels, attempt.failures) == (len(result.labels), len(result.failures))


@pytest.mark.parametrize(
    ("mode", "error_kind"), [("rate_limited", "rate_limited"), ("server_error", "transient")]
)
def test_a_labeler_that_gives_up_hands_every_attempt_to_the_ledger(mode, error_kind):
    with FakeLLMServer(mode) as server:
        labeler = labeler_for(server)
        with pytest.raises(TransientModelError) as raised:
            labeler.label(FEW, load_audiences()["thelai_customers.v3"])
        bodies = list(server.requests)
    attempts = raised.value.attempts
    assert [a.attempt for a in attempts] == [1, 2, 3] == list(range(1, len(bodies) + 1))
    assert {(a.outcome, a.error_kind, a.cost_basis, a.output_tokens) for a in attempts} == {
        ("failed", error_kind, "estimate", 0)
    }
    for attempt, body in zip(attempts, bodies, strict=True):
        assert (
            attempt.cost_usd
            == pytest.approx(billed(mode, body, labeler.spec, "openai/fake-gpt")[0], rel=1e-12)
            and attempt.cost_usd > 0
        )


@pytest.fixture
def queued(warehouse, sandbox):
    """Today's labeling queue on twitter, from the real search graph on the sandbox."""
    assert materialize(MAIN_ASSETS, warehouse, sandbox, "twitter", keywords_per_run=8).success
    return warehouse


def pending(warehouse) -> int:
    settings = load_labeling_settings()
    route = route_of(MODEL, settings.cascade.order, [settings.local_model, MODEL])
    return pending_units(warehouse, today_utc(), route, settings.audiences[0], relabel=False).height


def test_every_model_call_attempt_is_costed_and_the_marts_count_all_of_it(queued):
    warehouse = queued
    spec = load_model_registry()[MODEL]
    phases: list[tuple[str, list[dict]]] = []
    with FakeLLMServer() as server:
        # a good batch, a malformed answer, a refused request (400), a provider that stays down (503)
        for mode, succeeds in (
            ("good", True),
            ("malformed", True),
            ("bad_request", True),
            ("server_error", False),
        ):
            server.mode = mode
            start = len(server.requests)
            assert label(warehouse, server, max_batches=1, raise_on_error=False).success is succeeds
            phases.append((mode, server.requests[start:]))
    expected = [billed(mode, body, spec) for mode, bodies in phases for body in bodies]

    calls = warehouse.read("select * from model_calls order by called_at, attempt")
    assert calls.height == len(expected) == 1 + 1 + 1 + 3  # one row per attempt the server saw
    assert calls["outcome"].to_list() == ["labeled", "invalid", "failed", "failed", "failed", "failed"]
    assert calls["error_kind"].to_list() == [
        None,
        "invalid_output",
        "provider_error",
        "transient",
        "transient",
        "transient",
    ]
    assert calls["cost_basis"].to_list() == [basis for _, basis in expected]
    for got, (want, _) in zip(calls["cost_usd"], expected, strict=True):
        assert got == pytest.approx(want, rel=1e-12)
    total = sum(cost for cost, _ in expected)
    ledger_total = float(calls["cost_usd"].sum())
    assert round(ledger_total, 2) == round(total, 2) and ledger_total == pytest.approx(total, rel=1e-12)
    assert (calls["model"] == MODEL).all() and (calls["platform"] == "twitter").all()
    # Each batch's attempts are shared by exactly the profiles it carried.
    members = warehouse.read("select batch_id, count(*) as n from model_call_profiles group by batch_id")
    sizes = calls.group_by("batch_id").agg(pl.col("profiles").max()).join(members, on="batch_id")
    assert sizes.height == 4 and (sizes["n"] == sizes["profiles"]).all() and (sizes["n"] == BATCH).all()
    # The labels carry the good call only: the rest would vanish without the ledger.
    labels = warehouse.read(
        "select sum(cost_usd) as usd, count(*) as n from llm_labels where model = $1", [MODEL]
    )
    assert labels["usd"][0] == pytest.approx(expected[0][0], rel=1e-9) and labels["usd"][0] < ledger_total / 2

    # keyword_stats shares every attempt among the profiles each batch carried, and prices requests.
    assert dg.materialize(
        assets(["keyword_stats"]), partition_key=today_utc().isoformat(), resources={"warehouse": warehouse}
    ).success
    members = warehouse.read("select batch_id, platform, platform_id from model_call_profiles")
    batches = calls.group_by("batch_id").agg(pl.col("cost_usd").sum(), pl.col("profiles").max())
    per_profile = (
        members.join(batches, on="batch_id")
        .group_by("platform", "platform_id")
        .agg((pl.col("cost_usd") / pl.col("profiles")).sum().alias("usd"))
    )
    assert float(per_profile["usd"].sum()) == pytest.approx(ledger_total, rel=1e-9)  # nothing lost
    sightings = warehouse.read(
        "select distinct platform, platform_id, keyword from profile_sightings where partition_date = $1",
        [today_utc()],
    )
    expected_by_keyword = dict(
        sightings.join(per_profile, on=["platform", "platform_id"], how="left")
        .group_by("keyword")
        .agg(pl.col("usd").fill_null(0.0).sum())
        .iter_rows()
    )
    requests_by_keyword = dict(
        warehouse.read(
            "select keyword, count(*) as n from api_calls where partition_date = $1 group by keyword",
            [today_utc()],
        ).iter_rows()
    )
    stats = warehouse.read(
        "select * from keyword_stats where day = $1 and platform = 'twitter'", [today_utc()]
    )
    assert stats.height == len(expected_by_keyword)
    for row in stats.iter_rows(named=True):
        assert row["label_cost_usd"] == pytest.approx(
            expected_by_keyword[row["keyword"]], rel=1e-9, abs=1e-15
        )
        assert row["api_cost_usd"] == pytest.approx(requests_by_keyword[row["keyword"]] * TWITTER_PRICE)

    # A reviewer confirms one of the model's true labels.
    confirmed = warehouse.read(
        "select l.platform, l.platform_id, l.handle, l.audience from llm_labels l "
        "where l.model = $1 and l.label order by l.platform_id limit 1",
        [MODEL],
    ).row(0, named=True)
    review = {**confirmed, "review_id": "r-1", "label": True, "reviewer": "test", "source": "cli"}
    review["reviewed_at"] = calls["called_at"].max()
    warehouse.append("reviews", pl.DataFrame([review], schema=polars_schema(REVIEWS.columns), strict=False))

    dbt = {"warehouse": warehouse, "dbt": build_resources()["dbt"]}
    assert dg.materialize([dbt_module.scout_dbt_models], resources=dbt).success
    assert dg.materialize(
        [dbt_module.scout_dbt_incremental], partition_key=today_utc().isoformat(), resources=dbt
    ).success

    audience = load_labeling_settings().audiences[0]
    model_row = warehouse.read(
        "select * from analytics.mart_model_comparison where audience = $1 and model = $2 and compared_with = $2",
        [audience, MODEL],
    ).row(0, named=True)
    assert model_row["cost_usd"] == pytest.approx(ledger_total, rel=1e-9)
    assert (model_row["call_attempts"], model_row["wasted_call_attempts"]) == (6, 5)
    assert model_row["wasted_cost_usd"] == pytest.approx(ledger_total - expected[0][0], rel=1e-9)
    assert model_row["cost_per_true_label"] == pytest.approx(
        ledger_total / model_row["labels_true"], rel=1e-9
    )
    assert model_row["labels_confirmed_true"] == 1
    assert model_row["cost_per_confirmed_true_label"] == pytest.approx(ledger_total, rel=1e-9)

    requests = warehouse.read(
        "select count(*) as n, sum(cost_usd) as usd from api_calls where platform = 'twitter'"
    )
    api_usd = float(requests["usd"][0])
    assert api_usd == pytest.approx(requests["n"][0] * TWITTER_PRICE, abs=1e-12)
    funnel = warehouse.read(
        "select * from analytics.mart_discovery_funnel where platform = 'twitter' and day = $1", [today_utc()]
    ).row(0, named=True)
    assert funnel["api_cost_usd"] == pytest.approx(api_usd, abs=1e-12)
    assert funnel["llm_cost_usd"] == pytest.approx(ledger_total, rel=1e-9)
    assert funnel["cost_per_new_profile"] == pytest.approx((api_usd + ledger_total) / funnel["new_profiles"])
    assert funnel["new_confirmed_true"] == 1
    assert funnel["cost_per_confirmed_true_label"] == pytest.approx(api_usd + ledger_total)

    spend = {
        (r["scope"], r["name"], r["budget"]): r
        for r in warehouse.read("select * from analytics.mart_spend_vs_budget").iter_rows(named=True)
    }
    day_calls = spend[("platform", "twitter", "calls_per_day")]
    assert (day_calls["used"], day_calls["cap"]) == (requests["n"][0], 1500.0)
    assert day_calls["share"] == pytest.approx(requests["n"][0] / 1500) and day_calls["status"] == "ok"
    assert spend[("platform", "twitter", "plan_requests_per_month")]["used"] == requests["n"][0]
    model_day = spend[("model", MODEL, "usd_per_day")]
    assert model_day["used"] == pytest.approx(ledger_total, rel=1e-9) and model_day["cap"] == 1.0
    assert model_day["cap_source"] == "budgets.yaml"

    # The Health page's spend panel reads the same figures through the dashboard's reader.
    reader = MartReader(parse_warehouse_url(warehouse.url))
    today = Window(start=today_utc(), end=today_utc() + timedelta(days=1))
    shown = reader.read(queries.cost_per_outcome("analytics", today)).row(0, named=True)
    assert shown["cost_usd"] == pytest.approx(api_usd + ledger_total, rel=1e-9)
    assert (shown["new_profiles"], shown["new_confirmed_true"]) == (funnel["new_profiles"], 1)
    panel = reader.read(queries.spend_vs_budget("analytics", today))
    assert set(panel["name"]) == {"twitter", MODEL} and panel["share"].drop_nulls().len() == panel.height
    only_bluesky = Window(start=today.start, end=today.end, platforms=("bluesky",))
    assert set(reader.read(queries.spend_vs_budget("analytics", only_bluesky))["name"]) == {MODEL}
    assert reader.read(queries.budget_stops("analytics", today)).is_empty()
    summary = reader.read(queries.model_summary("analytics", audience)).filter(pl.col("model") == MODEL)
    assert summary["wasted_call_attempts"][0] == 5


def test_an_llm_run_stops_before_the_batch_that_would_pass_its_dollar_cap(queued, monkeypatch):
    warehouse = queued
    spec = load_model_registry()[MODEL]
    estimate = estimate_batch_usd(spec, BATCH)
    # The run may spend what one full batch is expected to cost: the first fits, the second cannot.
    monkeypatch.setenv("SCOUT_BUDGET_META_MAVERICK_17B_USD_PER_RUN", repr(estimate))
    with FakeLLMServer("good") as server:
        first = label(warehouse, server, max_batches=3)
        queued = pending(warehouse) + BATCH
        assert first.success and len(server.requests) == 1
        spent = float(warehouse.read("select sum(cost_usd) as usd from model_calls")["usd"][0])
        meta = first.asset_materializations_for_node("llm_labels")[0].metadata
        assert "usd_per_run" in meta["budget_stop"].value
        assert meta["budget"].value["usd_per_run"]["used"] == pytest.approx(spent, abs=1e-6)
        [stop] = warehouse.read("select * from budget_stops").iter_rows(named=True)
        assert (stop["scope"], stop["name"], stop["cap_field"], stop["period"]) == (
            "model",
            MODEL,
            "usd_per_run",
            "run",
        )
        assert stop["used"] == pytest.approx(spent) and stop["cap"] == pytest.approx(estimate)
        assert stop["next_cost"] == pytest.approx(estimate) and stop["used"] + stop["next_cost"] > stop["cap"]
        # the units the run did not label stay pending, and the stop says how many
        assert pending(warehouse) == queued - BATCH == stop["left_count"]

        # With that spent today, a day's cap below spent + one batch stops the next run at once.
        monkeypatch.setenv("SCOUT_BUDGET_META_MAVERICK_17B_USD_PER_DAY", repr(spent + estimate / 2))
        second = label(warehouse, server, max_batches=3)
        assert second.success and len(server.requests) == 1  # no call at all
        last = warehouse.read("select * from budget_stops order by stopped_at desc limit 1").row(
            0, named=True
        )
        assert last["cap_field"] == "usd_per_day" and last["used"] == pytest.approx(spent)
        assert pending(warehouse) == queued - BATCH

        # Without the day's cap the next run goes on with what was left pending.
        monkeypatch.delenv("SCOUT_BUDGET_META_MAVERICK_17B_USD_PER_DAY")
        assert label(warehouse, server, max_batches=1).success and len(server.requests) == 2
    labels = warehouse.read("select platform_id from llm_labels where model = $1", [MODEL])
    assert labels.height == 2 * BATCH and labels["platform_id"].n_unique() == 2 * BATCH
    assert pending(warehouse) == queued - 2 * BATCH
