"""Consensus that knows who is right: people's reviews, model weights, and the review queue.

The rules (``scout_assets/domain/consensus.py``, and the dbt models ``int_model_weights``,
``int_account_consensus``, ``mart_audience_leads``, ``mart_review_queue``): a person's latest
review overrides every model; a model's vote weighs (agreements with people + 1) / (reviewed
overlaps + 2); the label with the largest summed weight wins and a tie is uncertain; a deferred
local label votes null. The pure tests pin the Python rule on small frames; the scenario tests
write one seeded warehouse through the real ``Warehouse`` (DuckDB and PostgreSQL), run dbt on it
for real, and check that the marts and the Python rule give the same answers, and that the queue
asks about the most uncertain accounts first and drops an account once a person reviewed it.
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest
import yaml

from resources.warehouse import Warehouse
from scout_assets.assets.keyword_stats import audience_verdicts
from scout_assets.domain import consensus
from scout_assets.domain.consensus import account_verdicts, model_weights, verdicts_of
from scout_contract.paths import DBT_PROJECT_DIR
from tests.dbt_fixtures import rows, run_dbt, write_demo

AUDIENCE = "ux_research_leads.v1"
OTHER = "thelai_customers.v3"
HAIKU, MINILM, GEMINI, MISTRAL, LLAMA = (
    "claude-haiku-4.5",
    "local-minilm",
    "gemini-flash-2.0",
    "mistral-small",
    "llama-3.3-70b",
)
DAY = date(2026, 3, 1)
# In the scenario a model is validated from 4 reviewed overlaps (the default, 20, needs a big warehouse).
MIN_REVIEWS = 4

LABEL_SCHEMA = {
    "audience": pl.String,
    "platform": pl.String,
    "platform_id": pl.String,
    "model": pl.String,
    "label": pl.Boolean,
    "deferred": pl.Boolean,
}
REVIEW_SCHEMA = {"audience": pl.String, "platform": pl.String, "platform_id": pl.String, "label": pl.Boolean}


def labels_frame(*records: tuple[str, str, bool | None, bool | None]) -> pl.DataFrame:
    """Labels of AUDIENCE on twitter: (platform_id, model, label, deferred)."""
    return pl.DataFrame(
        [(AUDIENCE, "twitter", pid, model, label, deferred) for pid, model, label, deferred in records],
        schema=LABEL_SCHEMA,
        orient="row",
    )


def reviews_frame(*records: tuple[str, bool | None]) -> pl.DataFrame:
    """Latest reviews of AUDIENCE on twitter: (platform_id, label)."""
    return pl.DataFrame(
        [(AUDIENCE, "twitter", pid, label) for pid, label in records], schema=REVIEW_SCHEMA, orient="row"
    )


def by_account(frame: pl.DataFrame) -> dict[str, dict]:
    return {row["platform_id"]: row for row in frame.iter_rows(named=True)}


# --- one number in one place ------------------------------------------------------------------------


def test_python_and_dbt_share_the_validation_threshold_and_the_tie_tolerance():
    """consensus.py keeps copies of two dbt vars; a change to one side alone must fail here."""
    variables = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())["vars"]
    assert variables["validated_min_reviews"] == consensus.VALIDATED_MIN_REVIEWS == 20
    assert variables["consensus_tie_tolerance"] == consensus.TIE_TOLERANCE


# --- the rule on small frames ----------------------------------------------------------------------


def test_a_person_overrides_every_model():
    """A reviewed account takes the person's label even when every model said otherwise."""
    labels = labels_frame(("a", HAIKU, False, None), ("a", MINILM, False, False), ("a", GEMINI, False, None))
    verdict = by_account(verdicts_of(labels, reviews_frame(("a", True))))["a"]
    assert (verdict["verdict"], verdict["verdict_source"], verdict["label"]) == ("match", "review", True)
    assert verdict["consensus_verdict"] == "no_match" and verdict["verdict_backed"]
    # A person's null is a verdict too: it overrides a unanimous true.
    labels = labels_frame(("b", HAIKU, True, None), ("b", GEMINI, True, None))
    verdict = by_account(verdicts_of(labels, reviews_frame(("b", None))))["b"]
    assert (verdict["verdict"], verdict["verdict_source"], verdict["label"]) == ("uncertain", "review", None)


def test_a_model_that_agrees_with_people_outweighs_two_that_do_not():
    """Haiku agreed with 4 of 5 reviews (weight 5/7), minilm with none (1/7), gemini 0 of 2 (1/4).

    On an unreviewed account haiku says true and the two others false: counting votes would
    say no_match; weighing them says match (5/7 > 1/7 + 1/4).
    """
    reviewed = {"r1": True, "r2": False, "r3": True, "r4": False, "r5": True}
    haiku = {"r1": True, "r2": False, "r3": True, "r4": False, "r5": False}
    records = [(pid, HAIKU, label, None) for pid, label in haiku.items()]
    records += [(pid, MINILM, not label, False) for pid, label in reviewed.items()]
    records += [("r1", GEMINI, False, None), ("r2", GEMINI, True, None)]
    records += [("u1", HAIKU, True, None), ("u1", MINILM, False, False), ("u1", GEMINI, False, None)]
    labels = labels_frame(*records)
    reviews = reviews_frame(*reviewed.items())
    weights = {row["model"]: row for row in model_weights(labels, reviews, MIN_REVIEWS).iter_rows(named=True)}
    assert (weights[HAIKU]["reviewed"], weights[HAIKU]["agreements"]) == (5, 4)
    assert math.isclose(weights[HAIKU]["weight"], 5 / 7) and weights[HAIKU]["validated"]
    assert math.isclose(weights[MINILM]["weight"], 1 / 7) and weights[MINILM]["validated"]
    assert math.isclose(weights[GEMINI]["weight"], 1 / 4) and not weights[GEMINI]["validated"]
    u1 = by_account(verdicts_of(labels, reviews, MIN_REVIEWS))["u1"]
    assert (u1["verdict"], u1["verdict_source"], u1["verdict_backed"]) == ("match", "consensus", True)
    assert math.isclose(u1["weight_true"], 5 / 7) and math.isclose(u1["weight_false"], 1 / 7 + 1 / 4)
    # Without reviews every model weighs 1/2, and the two false votes win.
    assert by_account(verdicts_of(labels, reviews.clear()))["u1"]["verdict"] == "no_match"


def test_ties_deferred_labels_and_backing():
    """Equal weights tie (uncertain); a deferred local label votes for nothing; one unvalidated model backs nothing."""
    labels = labels_frame(
        ("tie", MISTRAL, True, None),
        ("tie", LLAMA, False, None),
        # The local labeler leaned true but deferred to the LLMs: mistral's false decides.
        ("deferred", MINILM, True, True),
        ("deferred", MISTRAL, False, None),
        # Deferred and no LLM asked yet: nothing is decided.
        ("waiting", MINILM, True, True),
        ("alone", GEMINI, True, None),
        ("pair", MISTRAL, True, None),
        ("pair", LLAMA, True, None),
    )
    verdicts = by_account(verdicts_of(labels, reviews_frame()))
    assert verdicts["tie"]["verdict"] == "uncertain" and verdicts["tie"]["label"] is None
    deferred = verdicts["deferred"]
    assert (deferred["weight_true"], deferred["weight_uncertain"], deferred["weight_false"]) == (
        0.0,
        0.0,
        0.5,
    )
    assert (deferred["verdict"], deferred["verdict_backed"]) == ("no_match", False)
    waiting = verdicts["waiting"]
    assert (waiting["verdict"], waiting["models_labeled"], waiting["verdict_backed"]) == (
        "uncertain",
        1,
        False,
    )
    assert (verdicts["alone"]["verdict"], verdicts["alone"]["verdict_backed"]) == ("match", False)
    assert (verdicts["pair"]["verdict"], verdicts["pair"]["verdict_backed"]) == ("match", True)
    # Sums that differ only by rounding are a tie: 0.1 + 0.2 against 0.3.
    tie = consensus.weighted_verdict(pl.lit(0.1) + pl.lit(0.2), pl.lit(0.3), pl.lit(0.0))
    assert pl.select(tie).item() == "uncertain"


def test_a_deferred_label_is_not_measured_against_people():
    """The weight measures the votes a model casts: a deferred label on a reviewed account is no overlap."""
    labels = labels_frame(
        ("r1", MINILM, True, False), ("r2", MINILM, True, True), ("r3", MINILM, False, True)
    )
    weights = model_weights(labels, reviews_frame(("r1", True), ("r2", False), ("r3", True))).row(
        0, named=True
    )
    assert (weights["labels"], weights["reviewed"], weights["agreements"]) == (3, 1, 1)
    assert math.isclose(weights["weight"], 2 / 3)


def test_bad_input_is_named():
    labels = labels_frame(("a", HAIKU, True, None), ("a", HAIKU, False, None))
    with pytest.raises(
        ValueError, match=r"labels: more than one label of one model .*claude-haiku-4.5 on twitter:a"
    ):
        verdicts_of(labels, reviews_frame())
    with pytest.raises(ValueError, match=r"reviews: more than one latest review .*twitter:a"):
        verdicts_of(labels_frame(), reviews_frame(("a", True), ("a", False)))
    with pytest.raises(ValueError, match=r"labels: missing column\(s\) \['deferred'\]"):
        account_verdicts(
            labels_frame().drop("deferred"), reviews_frame(), model_weights(labels_frame(), reviews_frame())
        )


# --- the same rule in dbt, on a real warehouse -----------------------------------------------------------

HAS = {"u1": 0.5, "u2": 0.8, "u3": 0.7, "u4": 0.6, "u5": 0.6, "u6": 0.9}
P_TRUE = {"r1": 0.2, "r2": 0.8, "r3": 0.3, "r4": 0.7, "r5": 0.1, "r6": 0.5, "u1": 0.3, "u2": 0.55}
LABELS = (
    # (account, model, label, deferred): haiku agrees with people on r1-r4, minilm on none,
    # gemini labels r1 and r2 wrongly; mistral and llama label only unreviewed accounts.
    *[("r1", HAIKU, True), ("r1", MINILM, False), ("r1", GEMINI, False)],
    *[("r2", HAIKU, False), ("r2", MINILM, True), ("r2", GEMINI, True)],
    *[("r3", HAIKU, True), ("r3", MINILM, False)],
    *[("r4", HAIKU, False), ("r4", MINILM, True)],
    *[("r5", HAIKU, False), ("r5", MINILM, False)],  # every model wrong: the person says true
    *[("r6", HAIKU, False), ("r6", MINILM, True)],  # minilm deferred (below): not measured
    *[("u1", HAIKU, True), ("u1", MINILM, False), ("u1", GEMINI, False)],  # haiku outweighs two
    *[("u2", MINILM, True), ("u2", HAIKU, False)],  # minilm deferred (below): votes null
    *[("u3", MISTRAL, True), ("u3", LLAMA, False)],  # equal weights: a tie
    *[("u4", GEMINI, True)],  # one unvalidated model
    *[("u5", MISTRAL, True), ("u5", LLAMA, True)],  # two unvalidated models agree
    *[("u6", HAIKU, False)],  # one validated model
)
DEFERRED = {("u2", MINILM), ("r6", MINILM)}


def _profile(pid: str) -> dict:
    return {
        "platform": "twitter",
        "platform_id": pid,
        "handle": f"{pid}_handle",
        "name": pid.upper(),
        "bio": f"bio of {pid}",
        "followers": 100,
        "first_seen_at": datetime(2026, 3, 1, 9),
        "last_seen_at": datetime(2026, 3, 1, 10),
        "first_partition_date": DAY,
        "last_partition_date": DAY,
    }


def _label(pid: str, model: str, label: bool) -> dict:
    local = model == MINILM
    return {
        "platform": "twitter",
        "platform_id": pid,
        "handle": f"{pid}_handle",
        "model": model,
        "model_id": f"id/{model}",
        "audience": AUDIENCE,
        "audience_hash": "h",
        "partition_date": DAY,
        "label": label,
        "reason": f"{model} on {pid}",
        "prompt_version": "p1",
        "cost_usd": 0.0 if local else 0.001,
        "labeled_at": datetime(2026, 3, 1, 15),
        "p_true": P_TRUE.get(pid) if local else None,
        "deferred": ((pid, model) in DEFERRED) if local else None,
    }


def _review(review_id: str, pid: str | None, label: bool | None, hour: int, **extra) -> dict:
    return {
        "review_id": review_id,
        "platform": "twitter",
        "platform_id": pid,
        "handle": f"{pid}_handle" if pid else None,
        "audience": AUDIENCE,
        "audience_hash": "h",
        "label": label,
        "reviewer": "ana",
        "source": "dashboard",
        "reviewed_at": datetime(2026, 3, 5, hour),
        **extra,
    }


def seed_scenario(warehouse: Warehouse) -> None:
    accounts = sorted({pid for pid, _, _ in LABELS})
    scores = [
        {
            "platform": "twitter",
            "platform_id": pid,
            "handle": f"{pid}_handle",
            "partition_date": DAY,
            "has": has,
        }
        for pid, has in HAS.items()
    ]
    write_demo(
        warehouse,
        {
            "profiles": rows("profiles", *[_profile(pid) for pid in accounts]),
            "has_scores": rows("has_scores", *scores),
            "llm_labels": rows("llm_labels", *[_label(*record) for record in LABELS]),
            "reviews": rows(
                "reviews",
                _review("a-old", "r1", False, 8),  # superseded by a-new
                _review("a-new", "r1", True, 9),
                _review("b", "r2", False, 9),
                # An import naming only the handle, in other capitals: matched to r3.
                _review("c", None, True, 9, handle="R3_HANDLE", source="import:labels.jsonl"),
                _review("d", "r4", False, 9),
                _review("e", "r5", True, 9),
                _review("i", "r6", False, 9),
                _review("f", None, False, 9, handle="nobody_we_know"),  # matches no profile
            ),
        },
    )


# Cautious: leave out the tests of models outside the selection that merely read a selected one.
SELECTION = (
    "--select",
    "+mart_audience_leads",
    "+mart_model_agreement",
    "+mart_review_queue",
    "--indirect-selection",
    "cautious",
)


def build(warehouse: Warehouse, work_dir: Path, **window: str) -> None:
    """Build the consensus marts (and what they read) with validated_min_reviews = MIN_REVIEWS."""
    variables = {"validated_min_reviews": MIN_REVIEWS, **window}
    assert warehouse.url is not None
    run_dbt(warehouse.url, work_dir, "build", *SELECTION, "--vars", json.dumps(variables))


def marts(warehouse: Warehouse, name: str, audience: str = AUDIENCE) -> dict[str, dict]:
    return by_account(warehouse.read(f"select * from analytics.{name} where audience = $1", [audience]))


def entropy(p: float) -> float:
    return -(p * math.log2(p) + (1 - p) * math.log2(1 - p))


def expected_priority(
    votes: list[tuple[float, float]], lead_has: float = 0.0, split: tuple[float, float] | None = None
) -> float:
    """The documented formula: votes are (weight, belief in match); split is (weight_true, weight_false)."""
    p = (sum(w * b for w, b in votes) + 0.25) / (sum(w for w, _ in votes) + 0.5)
    disagreement = 2 * min(split) / sum(split) if split else 0.0
    return entropy(p) + 0.2 * disagreement + 0.1 * lead_has


def check_parity(warehouse: Warehouse) -> None:
    """The keyword_stats asset's verdicts (consensus.py) equal the leads mart's, row for row."""
    python = {
        (row["audience"], row["platform_id"]): row
        for row in audience_verdicts(
            warehouse, (AUDIENCE, OTHER), validated_min_reviews=MIN_REVIEWS
        ).iter_rows(named=True)
    }
    mart = {
        (row["audience"], row["platform_id"]): row
        for row in warehouse.read("select * from analytics.mart_audience_leads").iter_rows(named=True)
    }
    assert set(python) == set(mart)
    for key, row in mart.items():
        for column in ("verdict", "verdict_source", "verdict_backed", "consensus_verdict", "models_labeled"):
            assert python[key][column] == row[column], (key, column)
        for column in ("weight_true", "weight_false", "weight_uncertain"):
            assert math.isclose(python[key][column], row[column], abs_tol=1e-12), (key, column)


@pytest.mark.slow
def test_marts_and_python_agree_and_the_queue_asks_the_uncertain_first(warehouse: Warehouse, tmp_path: Path):
    seed_scenario(warehouse)
    build(warehouse, tmp_path)

    # Weights: haiku 5 of 6 reviewed right (6/8, validated), minilm 0 of 5 (1/7, validated; its
    # deferred r6 label is no vote), gemini 0 of 2 (1/4, not validated), mistral and llama never
    # reviewed (1/2).
    agreement = warehouse.read(
        "select model, reviewed, agreements, validated, deferred_reviewed from analytics.mart_model_agreement "
        "where audience = $1",
        [AUDIENCE],
    )
    assert {row[0]: row[1:] for row in agreement.rows()} == {
        HAIKU: (6, 5, True, 0), MINILM: (5, 0, True, 1), GEMINI: (2, 0, False, 0), MISTRAL: (0, 0, False, 0),
        LLAMA: (0, 0, False, 0),
    }  # fmt: skip
    leads = marts(warehouse, "mart_audience_leads")
    # The override: both models said false on r5; the person said true.
    r5 = leads["r5"]
    assert (r5["verdict"], r5["verdict_source"], r5["consensus_verdict"], r5["reviewed_label"]) == (
        "match",
        "review",
        "no_match",
        True,
    )
    assert (leads["r1"]["reviewed_label"], leads["r3"]["reviewed_label"]) == (True, True)  # latest; by handle
    # One model that agrees with people outweighs two that do not.
    assert (leads["u1"]["verdict"], leads["u1"]["votes_true"], leads["u1"]["votes_false"]) == ("match", 1, 2)
    u2 = leads["u2"]  # minilm deferred: haiku's false decides
    assert (u2["verdict"], u2["votes_uncertain"], u2["votes_deferred"]) == ("no_match", 0, 1)
    assert f"{MINILM} (deferred): {MINILM} on u2" in u2["reasons"]
    assert leads["u3"]["verdict"] == "uncertain"  # 1/2 against 1/2
    assert (leads["u4"]["verdict"], leads["u4"]["verdict_backed"]) == ("match", False)
    assert (leads["u5"]["verdict_backed"], leads["u6"]["verdict_backed"]) == (True, True)
    assert "nobody_we_know" not in {row["handle"] for row in leads.values()}
    check_parity(warehouse)

    queue = warehouse.read(
        "select * from analytics.mart_review_queue where audience = $1 order by queue_rank", [AUDIENCE]
    )
    # The tie first (a coin flip with split votes), then haiku against two weak models, ...
    # ... and the confident ones last. Reviewed accounts are not in the queue.
    assert queue["platform_id"].to_list() == ["u3", "u1", "u4", "u2", "u6", "u5"]
    h, m, g, half = 6 / 8, 1 / 7, 1 / 4, 1 / 2
    expected = {
        "u3": expected_priority([(half, 1.0), (half, 0.0)], split=(half, half)),
        "u1": expected_priority(
            [(h, 1.0), (m, P_TRUE["u1"]), (g, 0.0)], lead_has=HAS["u1"], split=(h, m + g)
        ),
        "u4": expected_priority([(g, 1.0)], lead_has=HAS["u4"]),
        "u2": expected_priority([(m, P_TRUE["u2"]), (h, 0.0)]),
        "u6": expected_priority([(h, 0.0)]),
        "u5": expected_priority([(half, 1.0), (half, 1.0)], lead_has=HAS["u5"]),
    }
    for row in queue.iter_rows(named=True):
        assert math.isclose(row["priority"], expected[row["platform_id"]], rel_tol=1e-9), row["platform_id"]
    u3, u1 = queue.row(0, named=True), queue.row(1, named=True)
    assert (u3["models_disagree"], u3["consensus_label"], u3["uncertainty"]) == (True, None, 1.0)
    assert u3["why"] == f"p(true) 0.50 from 2 model(s); models disagree: true by {MISTRAL}, false by {LLAMA}"
    assert u1["why"] == (
        f"p(true) 0.63 from 3 model(s); local labeler p_true 0.30; models disagree: true by {HAIKU}, "
        f"false by {GEMINI}, {MINILM}; an unreviewed lead, HAS 0.50"
    )
    assert math.isclose(u1["local_p_true"], 0.3) and u1["consensus_label"] is True

    # A person answers the top question, and someone reviews u1 for another audience. A windowed
    # run whose window holds no data still finds both reviews.
    write_demo(
        warehouse,
        {
            "reviews": rows(
                "reviews",
                _review("g", "u3", True, 12),
                {**_review("h", "u1", False, 12), "audience": OTHER},
            )
        },
    )
    build(warehouse, tmp_path, min_date="2030-01-01", max_date="2030-01-02")
    queue = warehouse.read(
        "select platform_id from analytics.mart_review_queue where audience = $1", [AUDIENCE]
    )
    assert "u3" not in queue["platform_id"].to_list() and queue.height == 5
    leads = marts(warehouse, "mart_audience_leads")
    assert (leads["u3"]["verdict"], leads["u3"]["verdict_source"]) == ("match", "review")
    # mistral agreed with the person (2/3), llama did not (1/3): u5's consensus moved with them.
    assert math.isclose(leads["u5"]["weight_true"], 2 / 3 + 1 / 3)
    other = marts(warehouse, "mart_audience_leads", OTHER)
    assert (other["u1"]["verdict"], other["u1"]["verdict_source"], other["u1"]["models_labeled"]) == (
        "no_match",
        "review",
        0,
    )
    check_parity(warehouse)
