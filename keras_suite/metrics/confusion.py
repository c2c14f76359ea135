"""Segmentation scores from a confusion matrix (rows: truth, columns: prediction)."""

import numpy as np


def confusion_matrix(truth, prediction, num_classes):
    """(num_classes, num_classes) pixel counts, rows truth, columns prediction, of two label arrays."""
    truth, prediction = np.asarray(truth, np.int64).ravel(), np.asarray(prediction, np.int64).ravel()
    return np.bincount(truth * num_classes + prediction, minlength=num_classes ** 2).reshape(num_classes, num_classes)


def confusion_scores(cm, class_names=None):
    """Per-class IoU and Dice, their means over present classes, and pixel accuracy.

    A class absent from both truth and prediction gets NaN and is left out of the means.
    """
    cm = np.asarray(cm, dtype=np.float64)
    tp = np.diag(cm)
    truth, pred = cm.sum(axis=1), cm.sum(axis=0)
    union = truth + pred - tp
    present = union > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = np.where(present, tp / union, np.nan)
        dice = np.where(present, 2 * tp / (truth + pred), np.nan)
    names = list(class_names) if class_names is not None else [str(i) for i in range(len(tp))]
    total = cm.sum()
    return {
        "mean_iou": float(np.nanmean(iou)) if present.any() else float("nan"),
        "mean_dice": float(np.nanmean(dice)) if present.any() else float("nan"),
        "pixel_accuracy": float(tp.sum() / total) if total else float("nan"),
        "per_class": {n: {"iou": float(i), "dice": float(d), "pixels": int(t)}
                      for n, i, d, t in zip(names, iou, dice, truth)},
    }
