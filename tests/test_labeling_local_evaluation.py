"""Agreement metrics and the tune/report split, on hand-made label lists with known answers."""

from __future__ import annotations

import math

import pytest

from scout_assets.labeling.agreement import (
    agreement,
    baselines,
    cohen_kappa,
    format_agreement,
    grid_search,
    split_of,
)

T, F, N = True, False, None


def test_three_class_kappa_matches_a_hand_computation():
    ref = [T, T, F, F, N, N]
    pred = [T, F, F, F, N, T]
    # observed 4/6; chance = (2*2 + 3*2 + 1*2) / 36 = 1/3; kappa = (2/3 - 1/3) / (2/3) = 0.5
    assert cohen_kappa(pred, ref) == pytest.approx(0.5)


def test_two_class_textbook_kappa():
    # 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no: observed 0.7, chance 0.5 -> kappa 0.4
    pred = [T] * 20 + [T] * 5 + [F] * 10 + [F] * 15
    ref = [T] * 20 + [F] * 5 + [T] * 10 + [F] * 15
    assert cohen_kappa(pred, ref) == pytest.approx(0.4)


def test_kappa_extremes():
    ref = [T, F, N, N, T]
    assert cohen_kappa(ref, ref) == pytest.approx(1.0)
    assert cohen_kappa([N] * 5, ref) == pytest.approx(0.0)  # a constant labeler earns nothing
    assert cohen_kappa([N, N], [N, N]) == 1.0  # both constant and identical
    # systematic disagreement goes below zero
    assert cohen_kappa([F, T, F, T], [T, F, T, F]) < 0


def test_agreement_reports_confusion_and_true_class_scores():
    ref = [T, T, T, F, F, N, N, N]
    pred = [T, T, N, F, T, N, F, N]
    figures = agreement(pred, ref)
    assert figures["n"] == 8
    assert figures["agreement"] == pytest.approx(5 / 8)
    assert figures["confusion"]["true"] == {"true": 2, "false": 0, "null": 1}
    assert figures["confusion"]["false"] == {"true": 1, "false": 1, "null": 0}
    assert figures["confusion"]["null"] == {"true": 0, "false": 1, "null": 2}
    assert figures["precision_true"] == pytest.approx(2 / 3)
    assert figures["recall_true"] == pytest.approx(2 / 3)
    assert figures["f1_true"] == pytest.approx(2 / 3)
    assert figures["pred_counts"] == {"true": 3, "false": 2, "null": 3}
    assert figures["ref_counts"] == {"true": 3, "false": 2, "null": 3}
    assert sum(sum(row.values()) for row in figures["confusion"].values()) == 8
    text = format_agreement(figures)
    assert "kappa=" in text and "confusion" in text


def test_no_predicted_true_gives_zero_precision_not_an_error():
    figures = agreement([N, N, F], [T, N, F])
    assert figures["precision_true"] == 0.0 and figures["recall_true"] == 0.0 and figures["f1_true"] == 0.0
    assert not math.isnan(figures["kappa"])


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="pred has 1 labels but ref has 2"):
        agreement([T], [T, F])
    with pytest.raises(ValueError, match=r"pred\[1\] must be true, false or null, got 'yes'"):
        agreement([T, "yes"], [T, F])
    with pytest.raises(ValueError, match=r"ref\[0\]"):
        agreement([T], [1])


def test_baselines_are_constant_labelers_with_zero_kappa():
    ref = [N, N, N, T, F]
    found = baselines(ref)
    assert set(found) == {"always-null", "always-majority (null)"}
    assert found["always-null"]["agreement"] == pytest.approx(3 / 5)
    assert all(figures["kappa"] == pytest.approx(0.0) for figures in found.values())
    assert "always-majority (true)" in baselines([T, T, F])


def test_split_is_deterministic_case_insensitive_and_balanced():
    handles = [f"user_{i}" for i in range(2000)]
    sides = [split_of(h) for h in handles]
    assert sides == [split_of(h) for h in handles]
    assert split_of("SomeOne") == split_of("someone") == split_of("@someone")
    share = sides.count("tune") / len(sides)
    assert 0.45 < share < 0.55 and set(sides) == {"tune", "report"}


def test_grid_search_keeps_the_best_and_the_first_on_ties():
    ref = [T, F, N, T]
    candidates = ["all-null", "perfect", "perfect-again", "inverted"]
    outputs = {
        "all-null": [N] * 4,
        "perfect": ref,
        "perfect-again": list(ref),
        "inverted": [F, T, T, F],
    }
    best, figures = grid_search(candidates, outputs.__getitem__, ref)
    assert best == "perfect" and figures["kappa"] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="at least one candidate"):
        grid_search([], outputs.__getitem__, ref)
