"""COCO-style detection scores: per-class average precision with 101-point interpolated precision,
mAP@0.5 and mAP@[.5:.95], and mAP by object area (Lin et al., 2014, "Microsoft COCO: Common Objects
in Context", https://arxiv.org/abs/1405.0312; the matching rules of the official evaluation).

Boxes are (x1, y1, x2, y2) in pixels. Per image, class and IoU threshold, detections (at most
`max_detections`, highest score first) are matched greedily to the unmatched ground truth box with
the highest IoU at or above the threshold. Ground truth outside an area range is ignored for that
range, as are detections matched to it and unmatched detections outside the range.
"""

import numpy as np

IOU_THRESHOLDS = np.round(np.linspace(0.5, 0.95, 10), 2)
RECALL_POINTS = np.linspace(0.0, 1.0, 101)
AREA_RANGES = {"all": (0.0, 1e10), "small": (0.0, 32.0 ** 2), "medium": (32.0 ** 2, 96.0 ** 2),
               "large": (96.0 ** 2, 1e10)}


def box_area(boxes):
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    return np.clip(boxes[:, 2] - boxes[:, 0], 0, None) * np.clip(boxes[:, 3] - boxes[:, 1], 0, None)


def box_iou(a, b):
    """(N, M) IoU of xyxy boxes."""
    a, b = np.asarray(a, np.float64).reshape(-1, 4), np.asarray(b, np.float64).reshape(-1, 4)
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=-1)
    union = box_area(a)[:, None] + box_area(b)[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def _match(det_boxes, gt_boxes, iou_threshold, gt_ignore, det_outside):
    """Greedy matching of score-sorted detections: (true positive flags, ignored flags) per detection."""
    n = len(det_boxes)
    tp, ignored = np.zeros(n, bool), np.zeros(n, bool)
    if not len(gt_boxes):
        return tp, det_outside.copy()
    order = np.argsort(gt_ignore, kind="stable")  # real ground truth first, ignored last (as COCO does)
    gt_boxes, gt_ignore = gt_boxes[order], gt_ignore[order]
    ious = box_iou(det_boxes, gt_boxes)
    taken = np.zeros(len(gt_boxes), bool)
    for d in range(n):
        best, best_iou = -1, min(iou_threshold, 1 - 1e-10)
        for g in range(len(gt_boxes)):
            if taken[g]:
                continue
            if best > -1 and not gt_ignore[best] and gt_ignore[g]:
                break  # a real match exists; ignored boxes come after
            if ious[d, g] < best_iou:
                continue
            best, best_iou = g, ious[d, g]
        if best > -1:
            taken[best] = True
            tp[d], ignored[d] = not gt_ignore[best], gt_ignore[best]
        else:
            ignored[d] = det_outside[d]
    return tp, ignored


def interpolated_precision(tp, scores, num_gt):
    """(precision at the 101 recall points, recall curve, precision curve) for one class."""
    if num_gt == 0:
        return None, np.zeros(0), np.zeros(0)
    order = np.argsort(-np.asarray(scores), kind="mergesort")
    tp = np.asarray(tp, bool)[order]
    tps, fps = np.cumsum(tp), np.cumsum(~tp)
    recall = tps / num_gt
    precision = tps / np.maximum(tps + fps, np.finfo(np.float64).eps)
    envelope = np.maximum.accumulate(precision[::-1])[::-1] if len(precision) else precision
    index = np.searchsorted(recall, RECALL_POINTS, side="left")
    points = np.array([envelope[i] if i < len(envelope) else 0.0 for i in index])
    return points, recall, precision


def evaluate_detections(detections, ground_truth, num_classes, max_detections=100):
    """COCO metrics for a set of images.

    Args:
        detections: per image (boxes (N, 4), scores (N,), classes (N,)).
        ground_truth: per image (boxes (M, 4), classes (M,)).

    Returns a dict: map (@[.5:.95]), map50, map75, map_small/medium/large, per_class {ap, ap50,
    ground_truth} and pr_curves {class: (recall, precision)} at IoU 0.5 (area all). Classes without
    ground truth have AP None and are left out of the means, as in COCO.
    """
    if len(detections) != len(ground_truth):
        raise ValueError(f"{len(detections)} detection sets for {len(ground_truth)} images")
    # precision[t, class, area] -> 101 points (or None)
    table = {}
    curves = {}
    for c in range(num_classes):
        for area_name, (lo, hi) in AREA_RANGES.items():
            per_threshold = {t: ([], []) for t in IOU_THRESHOLDS}
            num_gt = 0
            for (d_boxes, d_scores, d_classes), (g_boxes, g_classes) in zip(detections, ground_truth):
                d_mask, g_mask = np.asarray(d_classes) == c, np.asarray(g_classes) == c
                d_boxes = np.asarray(d_boxes, np.float64).reshape(-1, 4)[d_mask]
                d_scores = np.asarray(d_scores, np.float64)[d_mask]
                order = np.argsort(-d_scores, kind="mergesort")[:max_detections]
                d_boxes, d_scores = d_boxes[order], d_scores[order]
                g_boxes = np.asarray(g_boxes, np.float64).reshape(-1, 4)[g_mask]
                g_area, d_area = box_area(g_boxes), box_area(d_boxes)
                g_ignore = (g_area < lo) | (g_area > hi)
                d_outside = (d_area < lo) | (d_area > hi)
                num_gt += int((~g_ignore).sum())
                for t in IOU_THRESHOLDS:
                    tp, ignored = _match(d_boxes, g_boxes, t, g_ignore, d_outside)
                    per_threshold[t][0].append(tp[~ignored])
                    per_threshold[t][1].append(d_scores[~ignored])
            for t, (tps, scores) in per_threshold.items():
                points, recall, precision = interpolated_precision(np.concatenate(tps), np.concatenate(scores), num_gt)
                table[t, c, area_name] = points
                if t == 0.5 and area_name == "all":
                    curves[c] = (recall, precision)

    def mean_ap(thresholds, area_name, classes=range(num_classes)):
        aps = [float(np.mean(table[t, c, area_name])) for c in classes for t in thresholds
               if table[t, c, area_name] is not None]
        return float(np.mean(aps)) if aps else None

    per_class = {}
    for c in range(num_classes):
        per_class[c] = {"ap": mean_ap(IOU_THRESHOLDS, "all", [c]), "ap50": mean_ap([0.5], "all", [c]),
                        "ground_truth": int(sum(int(np.sum(np.asarray(g) == c)) for _, g in ground_truth))}
    return {"map": mean_ap(IOU_THRESHOLDS, "all"), "map50": mean_ap([0.5], "all"), "map75": mean_ap([0.75], "all"),
            **{f"map_{a}": mean_ap(IOU_THRESHOLDS, a) for a in ("small", "medium", "large")},
            "per_class": per_class, "pr_curves": curves}
