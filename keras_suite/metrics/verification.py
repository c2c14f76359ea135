"""Face verification scores on pairs: ROC, AUC, best threshold, FAR/FRR, TAR@FAR and the LFW 10-fold
protocol (Huang et al., 2007, "Labeled Faces in the Wild", where each fold's threshold is chosen on
the other nine). A pair is called "same" when its distance is at most the threshold."""

import numpy as np


def _counts(distances, same):
    """Sorted unique distances and, for a threshold at each, the same/different pairs at or below it."""
    distances, same = np.asarray(distances, np.float64), np.asarray(same, bool)
    order = np.argsort(distances, kind="stable")
    d, s = distances[order], same[order]
    last = np.r_[d[1:] != d[:-1], True]  # the last index of each run of equal distances
    return d[last], np.cumsum(s)[last], np.cumsum(~s)[last], int(s.sum()), int((~s).sum())


def roc_curve(distances, same):
    """(far, tar, thresholds) from the strictest threshold (nothing accepted) to the loosest."""
    thresholds, accepted_same, accepted_diff, n_same, n_diff = _counts(distances, same)
    far = np.r_[0.0, accepted_diff / max(n_diff, 1)]
    tar = np.r_[0.0, accepted_same / max(n_same, 1)]
    return far, tar, np.r_[-np.inf, thresholds]


def auc(far, tar):
    """Area under the ROC curve by the trapezoidal rule."""
    return float(np.trapezoid(tar, far))


def tar_at_far(far, tar, target):
    """The best true accept rate with a false accept rate at or below `target`."""
    ok = far <= target
    return float(tar[ok].max()) if ok.any() else 0.0


def best_threshold(distances, same):
    """(threshold, accuracy) maximizing accuracy; the threshold sits halfway to the next distance."""
    thresholds, accepted_same, accepted_diff, n_same, n_diff = _counts(distances, same)
    correct = np.r_[n_diff, accepted_same + (n_diff - accepted_diff)]
    best = int(np.argmax(correct))
    below = np.r_[thresholds[0] - 1.0, thresholds]
    above = np.r_[thresholds, thresholds[-1] + 1.0]
    return float((below[best] + above[best]) / 2), float(correct[best] / (n_same + n_diff))


def rates_at(distances, same, threshold):
    """Accuracy, FAR (different pairs accepted), FRR (same pairs rejected) and TAR at `threshold`."""
    distances, same = np.asarray(distances), np.asarray(same, bool)
    accept = distances <= threshold
    far = float(accept[~same].mean()) if (~same).any() else 0.0
    tar = float(accept[same].mean()) if same.any() else 0.0
    return {"accuracy": float(np.mean(accept == same)), "far": far, "frr": 1.0 - tar, "tar": tar}


def kfold_verification(distances, same, folds):
    """LFW protocol: for each fold, the threshold is chosen on the other folds and scored on this one."""
    distances, same, folds = np.asarray(distances), np.asarray(same, bool), np.asarray(folds)
    rows = []
    for fold in np.unique(folds):
        test = folds == fold
        threshold, _ = best_threshold(distances[~test], same[~test])
        rows.append({"fold": int(fold), "threshold": threshold, **rates_at(distances[test], same[test], threshold)})
    accuracies = [r["accuracy"] for r in rows]
    return {"accuracy": float(np.mean(accuracies)), "accuracy_std": float(np.std(accuracies)),
            "threshold": float(np.mean([r["threshold"] for r in rows])), "folds": rows}


def verification_scores(distances, same, folds, far_target=1e-3):
    """Everything `face evaluate` reports: 10-fold accuracy, AUC, TAR@FAR, and rates at the pooled
    best threshold."""
    far, tar, _ = roc_curve(distances, same)
    threshold, _ = best_threshold(distances, same)
    return {"pairs": int(len(distances)), "same_pairs": int(np.sum(same)), **kfold_verification(distances, same, folds),
            "auc": auc(far, tar), f"tar_at_far_{far_target:g}": tar_at_far(far, tar, far_target),
            "pooled_threshold": threshold, "at_pooled_threshold": rates_at(distances, same, threshold)}


class PlattScaling:
    """P(same | distance) = sigmoid(a * distance + b), fitted by Newton's method on labelled pairs
    (Platt, 1999): the probability `face verify` prints.

    With `midpoint` (the decision threshold), the fit keeps P(same) = 0.5 there and a <= 0, so the
    probability agrees with the verdict: >= 0.5 exactly when the distance is within the threshold.
    """

    def __init__(self, a=-1.0, b=0.0):
        self.a, self.b = float(a), float(b)

    def fit(self, distances, same, midpoint=None, iterations=50):
        x, y = np.asarray(distances, np.float64), np.asarray(same, np.float64)
        # Platt's smoothed targets keep the fit finite on separable data.
        n_pos, n_neg = y.sum(), len(y) - y.sum()
        t = np.where(y > 0, (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2))
        if midpoint is None:
            features, w = np.stack([x, np.ones_like(x)], axis=1), np.array([self.a, self.b])
        else:
            features, w = (x - midpoint)[:, None], np.array([min(self.a, 0.0)])
        for _ in range(iterations):
            p = 1 / (1 + np.exp(-np.clip(features @ w, -50, 50)))
            gradient = features.T @ (p - t)
            hessian = features.T @ (features * (p * (1 - p))[:, None]) + 1e-9 * np.eye(len(w))
            step = np.linalg.solve(hessian, gradient)
            w -= step
            if np.abs(step).max() < 1e-10:
                break
        if midpoint is None:
            self.a, self.b = float(w[0]), float(w[1])
        else:  # a > 0 would mean farther faces are likelier the same: no evidence either way, 0.5
            self.a = min(float(w[0]), 0.0)
            self.b = -self.a * float(midpoint)
        return self

    def __call__(self, distances):
        return 1 / (1 + np.exp(-np.clip(self.a * np.asarray(distances, np.float64) + self.b, -50, 50)))
