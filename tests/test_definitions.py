"""The code location as a whole: it loads, and its asset graph is the one the docs describe.

A change to a key, an edge, a partitioning or an automation rule should be deliberate; this
test pins them so such a change shows up in review.
"""

from __future__ import annotations

import dagster as dg

from scout_assets.partitions import daily_model_partitions, daily_partitions, daily_platform_partitions
from scout_location.definitions import defs

GRAPH = {
    "keywords": set(),
    "raw_searches": {"keywords"},
    "profiles": {"raw_searches"},
    "has_scores": {"profiles"},
    "profiles_to_score": {"has_scores"},
    "llm_labels": {"profiles_to_score"},
    "keyword_stats": {"raw_searches", "profiles", "has_scores", "llm_labels"},
}


def asset_graph():
    return defs.resolve_asset_graph()


def test_definitions_load_and_validate():
    dg.Definitions.validate_loadable(defs)


def test_python_asset_graph_is_pinned():
    graph = asset_graph()
    for key, parents in GRAPH.items():
        node = graph.get(dg.AssetKey(key))
        assert {p.to_user_string() for p in node.parent_keys} == parents, key


def test_partitioning():
    graph = asset_graph()
    expected = {
        "keywords": daily_platform_partitions,
        "raw_searches": daily_platform_partitions,
        "profiles": daily_platform_partitions,
        "has_scores": daily_platform_partitions,
        "profiles_to_score": daily_platform_partitions,
        "llm_labels": daily_model_partitions,
        "keyword_stats": daily_partitions,
    }
    for key, partitions_def in expected.items():
        assert graph.get(dg.AssetKey(key)).partitions_def == partitions_def, key
    models = daily_model_partitions.get_partitions_def_for_dimension("model").get_partition_keys()
    assert "local-minilm" in models


def test_dbt_models_sit_downstream_of_the_python_assets():
    graph = asset_graph()
    leads = graph.get(dg.AssetKey("mart_audience_leads"))
    upstream = {k.to_user_string() for k in graph.get_ancestor_asset_keys(leads.key)}
    assert {"llm_labels", "profiles", "has_scores"} <= upstream
    assert graph.get(dg.AssetKey("dbt_docs")).parent_keys >= {leads.key}


def test_every_asset_states_its_freshness_and_derived_assets_follow_upstream():
    graph = asset_graph()
    for key in GRAPH:
        node = graph.get(dg.AssetKey(key))
        assert node.freshness_policy is not None, key
    for key in ("profiles", "has_scores", "profiles_to_score"):
        assert graph.get(dg.AssetKey(key)).automation_condition is not None, key


def test_secrets_are_env_vars_not_values(monkeypatch):
    """A key set in the environment is bound as an EnvVar: its value never lands in config."""
    from scout_assets.resources_binding import build_resources

    monkeypatch.setenv("TWITTERX_APIKEY", "planted-secret-123")
    resources = build_resources()
    assert isinstance(resources["twitter"].api_key, dg.EnvVar)
    assert "planted-secret-123" not in repr(resources["twitter"])


def test_the_local_labeler_is_fitted_per_audience_with_its_check_job_and_sensor():
    """One partition per audience file, the refit check beside it, a job and a sensor to run it."""
    from scout_assets.partitions import audience_partitions
    from scout_contract.audience import load_audiences

    graph = asset_graph()
    node = graph.get(dg.AssetKey("local_labeler"))
    assert node.partitions_def == audience_partitions
    assert set(audience_partitions.get_partition_keys()) == set(load_audiences())
    assert node.group_name == "labeling" and node.code_version
    assert dg.AssetCheckKey(dg.AssetKey("local_labeler"), "refit_not_worse") in graph.asset_check_keys
    job = defs.resolve_job_def("scout_labeler_fit")
    assert job.partitions_def == audience_partitions
    assert defs.resolve_sensor_def("labeler_refit_sensor").job_name == "scout_labeler_fit"
