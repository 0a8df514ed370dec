"""Clustering with reviewers' constraints, and person ids that survive reruns (pure)."""

from __future__ import annotations

from habeas.resolve.cluster import CannotLink, assign_person_ids, cluster, new_person_id


def _groups(labels: dict[str, int]) -> set[frozenset[str]]:
    out: dict[int, set[str]] = {}
    for rid, lab in labels.items():
        out.setdefault(lab, set()).add(rid)
    return {frozenset(v) for v in out.values()}


def test_edges_make_components() -> None:
    labels = cluster(["a", "b", "c", "d"], [("a", "b", 0.99), ("b", "c", 0.97)])
    assert _groups(labels) == {frozenset("abc"), frozenset("d")}


def test_same_decision_joins_without_an_edge() -> None:
    labels = cluster(["a", "b", "c"], [], same=[("a", "c")])
    assert _groups(labels) == {frozenset("ac"), frozenset("b")}


def test_cannot_link_cuts_the_weakest_chain() -> None:
    edges = [("a", "b", 0.99), ("b", "c", 0.96), ("c", "d", 0.99)]
    apart = CannotLink("pair:a:d", frozenset("a"), frozenset("d"))
    labels = cluster(list("abcd"), edges, constraints=[apart])
    assert labels["a"] != labels["d"]
    assert _groups(labels) == {frozenset("ab"), frozenset("cd")}


def test_cannot_link_beats_the_model_on_a_direct_edge() -> None:
    apart = CannotLink("pair:a:b", frozenset("a"), frozenset("b"))
    labels = cluster(["a", "b"], [("a", "b", 0.999)], constraints=[apart])
    assert labels["a"] != labels["b"]


def test_group_cannot_link_keeps_every_member_apart() -> None:
    edges = [("a", "b", 0.99), ("b", "c", 0.99), ("c", "x", 0.98), ("x", "y", 0.99)]
    split = CannotLink("unmerge:1", frozenset("xy"), frozenset("abc"))
    labels = cluster(list("abcxy"), edges, constraints=[split])
    assert _groups(labels) == {frozenset("abc"), frozenset("xy")}


def test_ids_are_kept_when_a_cluster_survives_and_grows() -> None:
    previous = {"a": "P1", "b": "P1", "c": "P2"}
    labels = {"a": 0, "b": 0, "n": 0, "c": 1}
    ids = assign_person_ids(labels, previous)
    assert ids["a"] == ids["b"] == ids["n"] == "P1"
    assert ids["c"] == "P2"


def test_a_merge_keeps_the_larger_persons_id_and_a_split_gives_one_new() -> None:
    merged = assign_person_ids({"a": 0, "b": 0, "c": 0}, {"a": "P1", "b": "P1", "c": "P2"})
    assert set(merged.values()) == {"P1"}
    split = assign_person_ids({"a": 0, "b": 0, "c": 1}, {"a": "P1", "b": "P1", "c": "P1"})
    assert split["a"] == "P1" and split["c"] not in ("P1",)
    assert split["c"] == new_person_id(["c"])


def test_fresh_ids_depend_only_on_the_records() -> None:
    one = assign_person_ids({"x": 5, "y": 5, "z": 9}, {})
    two = assign_person_ids({"z": 0, "y": 1, "x": 1}, {})
    assert one == two


def test_a_split_off_smallest_record_does_not_reuse_the_surviving_id() -> None:
    previous = dict.fromkeys("abc", new_person_id(["a"]))
    ids = assign_person_ids({"a": 0, "b": 1, "c": 1}, previous)
    assert ids["b"] == ids["c"] == previous["a"]
    assert ids["a"] != previous["a"]
