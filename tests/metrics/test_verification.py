import numpy as np
import pytest

from keras_suite.data.face_pairs import verification_pairs
from keras_suite.errors import UserError
from keras_suite.metrics.verification import (
    PlattScaling,
    auc,
    best_threshold,
    kfold_verification,
    rates_at,
    roc_curve,
    tar_at_far,
    verification_scores,
)


def test_roc_and_auc_on_a_hand_case():
    # same pairs at 0.1 and 0.3, different pairs at 0.2 and 0.4.
    d, same = [0.1, 0.2, 0.3, 0.4], [True, False, True, False]
    far, tar, thresholds = roc_curve(d, same)
    np.testing.assert_allclose(far, [0, 0, 0.5, 0.5, 1])
    np.testing.assert_allclose(tar, [0, 0.5, 0.5, 1, 1])
    np.testing.assert_allclose(thresholds[1:], d)
    assert auc(far, tar) == pytest.approx(0.75)  # 3 of the 4 (same, different) pairs are ordered correctly
    assert tar_at_far(far, tar, 0.0) == 0.5 and tar_at_far(far, tar, 0.5) == 1.0
    assert auc(*roc_curve([0.1, 0.2, 0.3, 0.4], [True, True, False, False])[:2]) == 1.0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_auc_equals_the_mann_whitney_statistic_with_ties(seed):
    rng = np.random.default_rng(seed)
    same = rng.random(80) < 0.5
    d = np.round(rng.normal(np.where(same, 0.6, 1.0), 0.3), 1)  # rounding makes ties
    pos, neg = d[same], d[~same]
    brute = np.mean([(p < n) + 0.5 * (p == n) for p in pos for n in neg])
    assert auc(*roc_curve(d, same)[:2]) == pytest.approx(brute)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_best_threshold_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    same = rng.random(60) < 0.4
    d = rng.normal(np.where(same, 0.5, 1.0), 0.3)
    threshold, accuracy = best_threshold(d, same)
    candidates = np.r_[d.min() - 1, np.sort(d)]
    brute = max(np.mean((d <= t) == same) for t in candidates)
    assert accuracy == pytest.approx(brute)
    assert rates_at(d, same, threshold)["accuracy"] == pytest.approx(accuracy)


def test_rates_at_threshold():
    d, same = np.array([0.1, 0.5, 0.2, 0.9, 0.6]), np.array([True, True, False, False, False])
    r = rates_at(d, same, 0.3)
    assert r == {"accuracy": pytest.approx(3 / 5), "far": pytest.approx(1 / 3), "frr": pytest.approx(0.5),
                 "tar": pytest.approx(0.5)}


def test_kfold_chooses_each_threshold_on_the_other_folds():
    rng = np.random.default_rng(0)
    folds = np.repeat(np.arange(4), 30)
    same = rng.random(120) < 0.5
    d = rng.normal(np.where(same, 0.4 + 0.1 * folds, 1.0), 0.2)
    result = kfold_verification(d, same, folds)
    for row in result["folds"]:
        test = folds == row["fold"]
        assert row["threshold"] == best_threshold(d[~test], same[~test])[0]
        assert row["accuracy"] == pytest.approx(np.mean((d[test] <= row["threshold"]) == same[test]))
    assert result["accuracy"] == pytest.approx(np.mean([r["accuracy"] for r in result["folds"]]))
    scores = verification_scores(d, same, folds, 0.01)
    assert scores["pairs"] == 120 and "tar_at_far_0.01" in scores and 0.5 < scores["auc"] <= 1


def test_platt_scaling_recovers_a_logistic_relation():
    rng = np.random.default_rng(0)
    d = rng.uniform(0, 2, 20000)
    same = rng.random(d.size) < 1 / (1 + np.exp(-(-6.0 * d + 5.0)))
    platt = PlattScaling().fit(d, same)
    assert platt.a == pytest.approx(-6.0, rel=0.1) and platt.b == pytest.approx(5.0, rel=0.1)
    p = platt(np.array([0.0, 0.8, 1.6]))
    assert p[0] > p[1] > p[2]
    # Separable data stays finite thanks to Platt's smoothed targets.
    separable = PlattScaling().fit([0.1, 0.2, 0.8, 0.9], [True, True, False, False])
    assert np.isfinite([separable.a, separable.b]).all() and separable(0.1) > 0.5 > separable(0.9)


@pytest.mark.parametrize("relation", [-6.0, 6.0])  # a model that separates, and one whose distances mislead
def test_platt_scaling_at_the_threshold_agrees_with_the_verdict(relation):
    """With the decision threshold as midpoint, P(same) >= 0.5 exactly when the distance is within it."""
    rng = np.random.default_rng(1)
    d = rng.uniform(0, 2, 4000)
    same = rng.random(d.size) < 1 / (1 + np.exp(-(relation * d - relation)))
    platt = PlattScaling().fit(d, same, midpoint=0.7)
    p = platt(np.linspace(0, 2, 41))
    assert platt(0.7) == pytest.approx(0.5) and platt.a <= 0
    assert (p[np.linspace(0, 2, 41) <= 0.7] >= 0.5).all() and (p[np.linspace(0, 2, 41) > 0.7] <= 0.5).all()


def test_verification_pairs_are_identity_disjoint_per_fold():
    labels = np.repeat(np.arange(40), 5)
    first, second, same, folds = verification_pairs(labels, folds=4, pairs_per_fold=40, seed=1)
    assert len(first) == 160 and same.sum() == 80
    np.testing.assert_array_equal(labels[first] == labels[second], same)
    assert not np.any(first == second)
    assert len({(min(a, b), max(a, b)) for a, b in zip(first, second)}) == 160  # no pair twice
    identities = [set(labels[first[folds == f]]) | set(labels[second[folds == f]]) for f in range(4)]
    for i in range(4):
        for j in range(i + 1, 4):
            assert not identities[i] & identities[j]
    with pytest.raises(UserError, match="cannot fill 10 verification folds"):
        verification_pairs(np.repeat(np.arange(5), 3), folds=10)

