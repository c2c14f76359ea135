"""Anchor boxes from the training boxes by k-means with the 1 - IoU distance (Redmon & Farhadi, 2017,
"YOLO9000: Better, Faster, Stronger", https://arxiv.org/abs/1612.08242): boxes and centroids are
compared as if centred at one point, so large boxes do not dominate as they would under L2."""

import numpy as np


def wh_iou(wh, anchors):
    """(N, K) IoU of (N, 2) and (K, 2) width/height pairs sharing a centre."""
    wh, anchors = np.asarray(wh, np.float64)[:, None], np.asarray(anchors, np.float64)[None]
    inter = np.minimum(wh[..., 0], anchors[..., 0]) * np.minimum(wh[..., 1], anchors[..., 1])
    return inter / (wh[..., 0] * wh[..., 1] + anchors[..., 0] * anchors[..., 1] - inter)


def kmeans_anchors(wh, k, seed=0, iterations=300):
    """`k` anchors (w, h) sorted by area, and the mean best IoU of the boxes with them.

    Centroids start from k-means++ seeding under the IoU distance; each is the median of its boxes.
    """
    wh = np.asarray(wh, np.float64).reshape(-1, 2)
    if len(wh) < k:
        raise ValueError(f"{len(wh)} boxes cannot make {k} anchors")
    if np.any(wh <= 0):
        raise ValueError("anchor k-means needs boxes of positive width and height")
    rng = np.random.default_rng(seed)
    centroids = [wh[rng.integers(len(wh))]]
    for _ in range(1, k):
        distance = 1 - wh_iou(wh, np.array(centroids)).max(axis=1)
        weights = distance ** 2
        centroids.append(wh[rng.choice(len(wh), p=weights / weights.sum())] if weights.sum() > 0
                         else wh[rng.integers(len(wh))])
    centroids = np.array(centroids)
    assignment = None
    for _ in range(iterations):
        new = np.argmax(wh_iou(wh, centroids), axis=1)
        if assignment is not None and np.array_equal(new, assignment):
            break
        assignment = new
        for j in range(k):
            members = wh[assignment == j]
            if len(members):
                centroids[j] = np.median(members, axis=0)
    centroids = centroids[np.argsort(centroids.prod(axis=1))]
    return centroids, float(wh_iou(wh, centroids).max(axis=1).mean())


def per_scale_anchors(anchors, anchors_per_scale, scales):
    """The flat (w, h) `anchors`, smallest first, dealt to `scales` scales, `anchors_per_scale` each, smallest
    stride first."""
    if len(anchors) != scales * anchors_per_scale or np.any(np.asarray(anchors, np.float64) <= 0):
        raise ValueError(f"model.anchors needs {scales * anchors_per_scale} positive (w, h) pairs ({scales} scales x "
                         f"{anchors_per_scale}), got {[list(a) for a in anchors]}")
    n = anchors_per_scale
    return [np.asarray(anchors[i * n:(i + 1) * n], np.float64) for i in range(scales)]
