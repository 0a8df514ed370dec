"""Cluster metrics on hand-made truths, including the edge cases."""

from __future__ import annotations

import pytest

from habeas.resolve.evaluate import score_clusters, true_pairs


def test_perfect_clustering_scores_one() -> None:
    truth = {"a": 1, "b": 1, "c": 2, "d": 3}
    s = score_clusters({"a": "x", "b": "x", "c": "y", "d": "z"}, truth)
    assert (s.pair_precision, s.pair_recall, s.pair_f1) == (1.0, 1.0, 1.0)
    assert s.bcubed_f1 == 1.0
    assert s.exact_share == 1.0


def test_all_singletons_against_pairs() -> None:
    truth = {"a": 1, "b": 1, "c": 2, "d": 2}
    s = score_clusters({"a": 1, "b": 2, "c": 3, "d": 4}, truth)
    assert s.predicted_pairs == 0 and s.true_pairs == 2
    assert s.pair_precision == 1.0  # nothing claimed
    assert s.pair_recall == 0.0
    assert s.pair_f1 == 0.0
    assert s.bcubed_precision == 1.0
    assert s.bcubed_recall == pytest.approx(0.5)
    assert s.exact_share == 0.0


def test_one_giant_cluster() -> None:
    truth = {"a": 1, "b": 1, "c": 2, "d": 3}
    s = score_clusters(dict.fromkeys("abcd", "all"), truth)
    assert s.predicted_pairs == 6 and s.true_positive_pairs == 1
    assert s.pair_precision == pytest.approx(1 / 6)
    assert s.pair_recall == 1.0
    # b-cubed precision: a,b see 2/4; c,d see 1/4 → (0.5+0.5+0.25+0.25)/4
    assert s.bcubed_precision == pytest.approx(0.375)
    assert s.bcubed_recall == 1.0


def test_partial_split_by_hand() -> None:
    truth = {"a": 1, "b": 1, "c": 1, "d": 2}
    s = score_clusters({"a": 1, "b": 1, "c": 2, "d": 2}, truth)
    # predicted pairs: ab, cd; true pairs: ab, ac, bc; one in common
    assert s.pair_precision == pytest.approx(0.5)
    assert s.pair_recall == pytest.approx(1 / 3)
    assert s.pair_f1 == pytest.approx(0.4)
    assert s.exact_share == 0.0


def test_only_common_records_count() -> None:
    s = score_clusters({"a": 1, "b": 1, "z": 1}, {"a": 7, "b": 7, "q": 8})
    assert s.records == 2
    assert s.pair_f1 == 1.0


def test_singletons_on_both_sides() -> None:
    s = score_clusters({"a": 1, "b": 2}, {"a": 1, "b": 2})
    assert s.pair_f1 == 1.0 and s.exact_share == 1.0


def test_true_pairs_lists_each_pair_once() -> None:
    assert sorted(true_pairs({"a": 1, "c": 1, "b": 1, "d": 2})) == [
        ("a", "b"),
        ("a", "c"),
        ("b", "c"),
    ]
