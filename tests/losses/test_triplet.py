import itertools

import numpy as np
import pytest

from keras_suite.losses import TripletLoss, triplet_statistics
from keras_suite.testing import assert_config_roundtrip

MARGIN = 0.2


def batch(seed, identities=4, per_identity=3, dim=8):
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(identities), per_identity)
    rng.shuffle(labels)
    embeddings = rng.normal(size=(len(labels), dim)).astype("float32")
    return labels, embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)


def brute_force(labels, embeddings, mining):
    """The definitions, one triplet at a time, in plain numpy."""
    n = len(labels)
    d = np.array([[np.sum((embeddings[i] - embeddings[j]) ** 2) for j in range(n)] for i in range(n)])
    positives = [(a, p) for a, p in itertools.permutations(range(n), 2) if labels[a] == labels[p]]
    negatives = {a: [x for x in range(n) if labels[x] != labels[a]] for a in range(n)}
    if mining == "batch_all":
        losses = [d[a, p] - d[a, x] + MARGIN for a, p in positives for x in negatives[a]]
        active = [v for v in losses if v > 1e-16]
        return np.mean(active) if active else 0.0
    if mining == "batch_hard":
        losses = []
        for a in range(n):
            pos = [d[a, p] for p in range(n) if p != a and labels[p] == labels[a]]
            if pos and negatives[a]:
                losses.append(max(max(pos) - min(d[a, x] for x in negatives[a]) + MARGIN, 0.0))
        return np.mean(losses)
    losses = []
    for a, p in positives:
        farther = [d[a, x] for x in negatives[a] if d[a, x] > d[a, p]]
        chosen = min(farther) if farther else max(d[a, x] for x in negatives[a])
        losses.append(max(d[a, p] - chosen + MARGIN, 0.0))
    return np.mean(losses)


@pytest.mark.parametrize("mining", ["batch_all", "batch_hard", "semi_hard"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mining_matches_brute_force(mining, seed):
    labels, embeddings = batch(seed)
    loss = float(TripletLoss(MARGIN, mining)(labels, embeddings))
    assert loss == pytest.approx(brute_force(labels, embeddings, mining), rel=1e-5, abs=1e-6)


def test_semi_hard_falls_back_to_the_farthest_negative():
    # For both anchor-positive pairs the only negative is closer than the positive, so no semi-hard
    # negative exists and the farthest one is used: anchor 0 -> 4 - 0.4 + 0.2, anchor 1 -> 4 - 3.6 + 0.2.
    labels = np.array([0, 0, 1])
    embeddings = np.array([[1.0, 0.0], [-1.0, 0.0], [0.8, 0.6]], "float32")
    assert float(TripletLoss(MARGIN, "semi_hard")(labels, embeddings)) == pytest.approx((3.8 + 0.6) / 2, rel=1e-5)
    assert float(TripletLoss(MARGIN, "semi_hard")(labels[:2], embeddings[:2])) == 0.0  # no negatives at all


def test_separated_identities_give_zero_loss_and_statistics():
    labels = np.array([0, 0, 1, 1])
    embeddings = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]], "float32")
    for mining in ("batch_all", "batch_hard", "semi_hard"):
        assert float(TripletLoss(MARGIN, mining)(labels, embeddings)) == 0.0
    stats = {k: float(v) for k, v in triplet_statistics(labels, embeddings, MARGIN).items()}
    assert stats == {"active_triplets": 0.0, "positive_distance": 0.0, "negative_distance": 2.0}
    labels, embeddings = batch(5)
    stats = triplet_statistics(labels, embeddings, MARGIN)
    assert 0 < float(stats["active_triplets"]) <= 1


def test_config_and_bad_mining():
    assert_config_roundtrip(TripletLoss(0.3, "batch_hard"))
    with pytest.raises(ValueError):
        TripletLoss(0.2, "hardest")

