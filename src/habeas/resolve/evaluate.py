"""How good are the clusters? Pairwise and B-cubed scores against a ground truth.

Pure functions over two mappings record → cluster. Only records present in both are
scored, so a truth file may cover part of the index (or the index part of the truth).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Scores:
    """Cluster quality figures; every ratio is in [0, 1]."""

    records: int
    predicted_clusters: int
    true_clusters: int
    pair_precision: float
    pair_recall: float
    pair_f1: float
    bcubed_precision: float
    bcubed_recall: float
    bcubed_f1: float
    exact_share: float
    predicted_pairs: int
    true_pairs: int
    true_positive_pairs: int


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def _f1(p: float, r: float) -> float:
    return 0.0 if p + r == 0 else 2 * p * r / (p + r)


def score_clusters(predicted: Mapping[str, object], truth: Mapping[str, object]) -> Scores:
    """Pairwise P/R/F1 over pairs placed in one cluster, B-cubed P/R/F1, exact-recovery share.

    With no pairs on one side, that side's pairwise ratio is 1 (nothing claimed, nothing
    missed); the exact share counts true clusters whose records form one predicted cluster
    holding nothing else.
    """
    common = [r for r in predicted if r in truth]
    pred_size = Counter(predicted[r] for r in common)
    true_size = Counter(truth[r] for r in common)
    both = Counter((predicted[r], truth[r]) for r in common)
    tp = sum(_pairs(n) for n in both.values())
    pp = sum(_pairs(n) for n in pred_size.values())
    tr = sum(_pairs(n) for n in true_size.values())
    precision = tp / pp if pp else 1.0
    recall = tp / tr if tr else 1.0
    n = len(common)
    b_p = sum(k * k / pred_size[p] for (p, _), k in both.items()) / n if n else 1.0
    b_r = sum(k * k / true_size[t] for (_, t), k in both.items()) / n if n else 1.0
    exact = sum(1 for (p, t), k in both.items() if k == pred_size[p] == true_size[t])
    return Scores(
        records=n,
        predicted_clusters=len(pred_size),
        true_clusters=len(true_size),
        pair_precision=precision,
        pair_recall=recall,
        pair_f1=_f1(precision, recall),
        bcubed_precision=b_p,
        bcubed_recall=b_r,
        bcubed_f1=_f1(b_p, b_r),
        exact_share=exact / len(true_size) if true_size else 1.0,
        predicted_pairs=pp,
        true_pairs=tr,
        true_positive_pairs=tp,
    )


def true_pairs(truth: Mapping[str, object]) -> Iterable[tuple[str, str]]:
    """Every pair of records the truth places in one cluster (smaller id first)."""
    groups: dict[object, list[str]] = {}
    for rid, c in truth.items():
        groups.setdefault(c, []).append(rid)
    for recs in groups.values():
        recs.sort()
        for i, a in enumerate(recs):
            for b in recs[i + 1 :]:
                yield a, b
