"""Daily keyword statistics and the feedback rules, on hand-made frames with known answers.

Label counts are verdicts (a person's review, else the weighted consensus of
``scout_assets/domain/consensus.py``); only backed ones count as true or false.
"""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
import pytest

from scout_assets.domain.consensus import verdicts_of
from scout_assets.domain.keyword_file import KeywordEntry
from scout_assets.domain.keyword_rules import KeywordRulesError, load_keyword_rules
from scout_assets.domain.keyword_state import keyword_states, select_targets
from scout_assets.domain.keyword_stats import daily_stats, feedback

DAY = date(2026, 3, 2)
RULES = load_keyword_rules().model_copy(update={"api_cost_per_call_usd": {"twitter": 0.01, "bluesky": 0.0}})


def frame(rows, schema):
    return pl.DataFrame(rows, schema=schema, orient="row")


def stats_for_example() -> pl.DataFrame:
    # 'ethno' returned 4 appearances (3 unique accounts: a, b, c) over 2 pages and 3 calls (one a 503);
    # a and b are new today, c was seen yesterday. 'postdoc' returned b again (a duplicate across keywords).
    return daily_stats(
        pages=frame(
            [("twitter", "ethno", 2), ("twitter", "ethno", 2), ("twitter", "postdoc", 1)],
            {"platform": pl.String, "keyword": pl.String, "result_count": pl.Int64},
        ),
        calls=frame(
            [
                ("twitter", "ethno", None),
                ("twitter", "ethno", "HTTP 503"),
                ("twitter", "ethno", None),
                ("twitter", "postdoc", None),
            ],
            {"platform": pl.String, "keyword": pl.String, "error": pl.String},
        ),
        sightings=frame(
            [
                ("twitter", "a", "ethno"),
                ("twitter", "b", "ethno"),
                ("twitter", "c", "ethno"),
                ("twitter", "b", "postdoc"),
            ],
            {"platform": pl.String, "platform_id": pl.String, "keyword": pl.String},
        ),
        first_seen=frame(
            [("twitter", "a", DAY), ("twitter", "b", DAY), ("twitter", "c", date(2026, 3, 1))],
            {"platform": pl.String, "platform_id": pl.String, "first_day": pl.Date},
        ),
        scores=frame(
            [("twitter", "a", 0.9, True), ("twitter", "b", 0.5, False), ("twitter", "c", 0.7, True)],
            {"platform": pl.String, "platform_id": pl.String, "has": pl.Float64, "is_queued": pl.Boolean},
        ),
        labels=frame(
            [
                ("twitter", "a", 0.002),
                ("twitter", "a", 0.001),
                ("twitter", "c", 0.001),
                ("twitter", "b", 0.0),
                ("twitter", "d", 0.001),
            ],
            {"platform": pl.String, "platform_id": pl.String, "cost_usd": pl.Float64},
        ),
        # One verdict per account: a true (two models), c false (a review), b null; d, which no
        # sighting of the day returned, counts nowhere.
        verdicts=frame(
            [
                ("twitter", "a", True, True),
                ("twitter", "c", False, True),
                ("twitter", "b", None, True),
                ("twitter", "d", True, True),
            ],
            {
                "platform": pl.String,
                "platform_id": pl.String,
                "label": pl.Boolean,
                "verdict_backed": pl.Boolean,
            },
        ),
        day=DAY,
        rules=RULES,
    )


def test_daily_stats_match_hand_computed_values():
    stats = {row["keyword"]: row for row in stats_for_example().iter_rows(named=True)}
    ethno = stats["ethno"]
    assert (
        ethno["searches"],
        ethno["profiles_returned"],
        ethno["unique_profiles"],
        ethno["new_profiles"],
    ) == (2, 4, 3, 2)
    assert ethno["duplicate_rate"] == pytest.approx(1 - 3 / 4)
    assert ethno["mean_has"] == pytest.approx((0.9 + 0.5 + 0.7) / 3)
    assert ethno["share_above_threshold"] == pytest.approx(2 / 3)
    assert (ethno["api_calls"], ethno["api_errors"]) == (3, 1)
    # One verdict per account (a's two labels are one true); every label's cost counts.
    assert (ethno["labels_true"], ethno["labels_false"], ethno["labels_null"]) == (1, 1, 1)
    assert ethno["api_cost_usd"] == pytest.approx(0.03)
    assert ethno["label_cost_usd"] == pytest.approx(0.004)
    assert ethno["cost_per_new_profile"] == pytest.approx(0.034 / 2)
    assert ethno["cost_per_true_label"] == pytest.approx(0.034)
    postdoc = stats["postdoc"]
    assert (postdoc["new_profiles"], postdoc["labels_true"], postdoc["cost_per_true_label"]) == (1, 0, None)


def keyword_of_twenty(verdicts: pl.DataFrame) -> dict:
    """The feedback verdict on one keyword whose 20 accounts of the day carry ``verdicts``."""
    accounts = [f"p{i}" for i in range(20)]
    text = {"platform": pl.String, "keyword": pl.String}
    stats = daily_stats(
        pages=frame([("twitter", "offtopic", 20)], {**text, "result_count": pl.Int64}),
        calls=frame([("twitter", "offtopic", None)], {**text, "error": pl.String}),
        sightings=frame(
            [("twitter", pid, "offtopic") for pid in accounts],
            {"platform": pl.String, "platform_id": pl.String, "keyword": pl.String},
        ),
        first_seen=frame(
            [("twitter", pid, DAY) for pid in accounts],
            {"platform": pl.String, "platform_id": pl.String, "first_day": pl.Date},
        ),
        scores=frame(
            [("twitter", pid, 0.9, True) for pid in accounts],
            {"platform": pl.String, "platform_id": pl.String, "has": pl.Float64, "is_queued": pl.Boolean},
        ),
        labels=frame([], {"platform": pl.String, "platform_id": pl.String, "cost_usd": pl.Float64}),
        verdicts=verdicts,
        day=DAY,
        rules=RULES,
    )
    return feedback(stats, RULES).row(0, named=True) | stats.row(0, named=True)


def consensus_labels(records: list[tuple[str, str, bool | None]]) -> pl.DataFrame:
    """Labels of one audience on twitter: (platform_id, model, label)."""
    return pl.DataFrame(
        [("aud.v1", "twitter", pid, model, label, False) for pid, model, label in records],
        schema={
            "audience": pl.String,
            "platform": pl.String,
            "platform_id": pl.String,
            "model": pl.String,
            "label": pl.Boolean,
            "deferred": pl.Boolean,
        },
        orient="row",
    )


def latest_reviews(records: list[tuple[str, bool | None]]) -> pl.DataFrame:
    return pl.DataFrame(
        [("aud.v1", "twitter", pid, label) for pid, label in records],
        schema={"audience": pl.String, "platform": pl.String, "platform_id": pl.String, "label": pl.Boolean},
        orient="row",
    )


def test_one_unvalidated_model_never_makes_a_keyword_invalid_but_reviews_do():
    """local-minilm says false on all 20 accounts of a keyword (well over min_labels = 10).

    Alone and unchecked by people, its verdicts are not backed: they count as null and the keyword
    stays valid. People's reviews saying false make it invalid; so does the same model once 20
    reviewed accounts have validated it (agreeing or not: validation is about evidence).
    """
    accounts = [f"p{i}" for i in range(20)]
    minilm_false = [(pid, "local-minilm", False) for pid in accounts]

    alone = keyword_of_twenty(verdicts_of(consensus_labels(minilm_false), latest_reviews([])))
    assert (alone["labels_true"], alone["labels_false"], alone["labels_null"]) == (0, 0, 20)
    assert not alone["label_invalid"]

    reviewed = keyword_of_twenty(
        verdicts_of(consensus_labels(minilm_false), latest_reviews([(pid, False) for pid in accounts]))
    )
    assert (reviewed["labels_false"], reviewed["label_invalid"]) == (20, True)
    assert reviewed["feedback_reason"].startswith("invalid: 0 true of 20 true/false verdicts")

    # 20 other accounts people reviewed, which the model labeled: it is validated (20 >= 20).
    elsewhere = [f"q{i}" for i in range(20)]
    validated = verdicts_of(
        consensus_labels(minilm_false + [(pid, "local-minilm", False) for pid in elsewhere]),
        latest_reviews([(pid, False) for pid in elsewhere]),
    ).filter(pl.col("platform_id").str.starts_with("p"))
    assert keyword_of_twenty(validated)["label_invalid"]

    # Two unvalidated models agreeing back each other.
    pair = verdicts_of(
        consensus_labels(minilm_false + [(pid, "claude-haiku-4.5", False) for pid in accounts]),
        latest_reviews([]),
    )
    assert keyword_of_twenty(pair)["label_invalid"]


def history(rows):
    schema = {
        "platform": pl.String,
        "keyword": pl.String,
        "pages": pl.Int64,
        "new_profiles": pl.Int64,
        "api_calls": pl.Int64,
        "labels_true": pl.Int64,
        "labels_false": pl.Int64,
    }
    return frame(rows, schema)


def test_feedback_rules():
    verdicts = {
        row["keyword"]: row
        for row in feedback(
            history(
                [
                    ("twitter", "dry", 2, 1, 2, 0, 0),
                    ("twitter", "dry", 2, 2, 2, 0, 0),  # 3 new over 4 pages: exhausted
                    ("twitter", "fresh", 4, 60, 4, 0, 0),  # 15 new per page
                    ("twitter", "offtopic", 3, 40, 3, 1, 19),  # 5% true of 20: invalid
                    ("twitter", "young", 1, 0, 1, 0, 2),  # too little evidence yet
                    ("twitter", "gold", 3, 30, 3, 10, 5),
                ]
            ),
            RULES,
        ).iter_rows(named=True)
    }
    assert (
        verdicts["dry"]["yield_exhausted"]
        and "3 new profiles over 4 pages" in verdicts["dry"]["feedback_reason"]
    )
    assert not verdicts["fresh"]["yield_exhausted"] and not verdicts["fresh"]["label_invalid"]
    assert verdicts["offtopic"]["label_invalid"] and "1 true of 20" in verdicts["offtopic"]["feedback_reason"]
    assert not verdicts["young"]["yield_exhausted"] and not verdicts["young"]["label_invalid"]
    # yield per call = (new + 5 x true) / calls
    assert verdicts["gold"]["yield_per_call"] == pytest.approx((30 + 5 * 10) / 3)
    assert verdicts["fresh"]["yield_per_call"] == pytest.approx(15.0)


def test_feedback_steers_state_and_selection():
    entries = [
        KeywordEntry(k, ("twitter",), (), True, i)
        for i, k in enumerate(["dry", "fresh", "offtopic", "gold", "new"])
    ]
    ledger = pl.DataFrame(
        [
            {"keyword": k, "page": 0, "cursor_out": "c", "fetched_at": datetime(2026, 3, 1, i)}
            for i, k in enumerate(["dry", "fresh", "offtopic", "gold"])
        ],
        schema={
            "keyword": pl.String,
            "page": pl.Int64,
            "cursor_out": pl.String,
            "fetched_at": pl.Datetime("us"),
        },
    )
    verdicts = feedback(
        history(
            [
                ("twitter", "dry", 4, 3, 4, 0, 0),
                ("twitter", "fresh", 4, 60, 4, 0, 0),
                ("twitter", "offtopic", 3, 40, 3, 1, 19),
                ("twitter", "gold", 3, 30, 3, 10, 5),
            ]
        ),
        RULES,
    )
    states = keyword_states(entries, "twitter", ledger, verdicts)
    by_kw = {row["keyword"]: row for row in states.iter_rows(named=True)}
    assert (by_kw["dry"]["exhausted"], by_kw["dry"]["still_valid"]) == (True, False)
    assert (by_kw["offtopic"]["exhausted"], by_kw["offtopic"]["still_valid"]) == (False, False)
    assert by_kw["offtopic"]["state_reason"].startswith("invalid:")
    # never-searched first, then best yield per call: gold (26.7) before fresh (15)
    assert [t.keyword for t in select_targets(states, 3)] == ["new", "gold", "fresh"]


def test_broken_rules_file_names_the_key(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text("window_days: 7\nexhaustion: {min_pages: 3, min_new_per_page: -1}\n")
    with pytest.raises(
        KeywordRulesError, match=r"field 'exhaustion\.min_new_per_page' must be >= 0"
    ) as raised:
        load_keyword_rules(path)
    assert str(path) in str(raised.value)
