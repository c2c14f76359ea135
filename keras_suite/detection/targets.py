"""YOLOv2/v3 target assignment: each ground truth box goes to the grid cell holding its centre, at the
anchor (over all scales) whose shape best matches it by IoU; with `extra_iou` (YOLOv4-style), also at
every other anchor matching it at least that well, each at its own scale's cell.

Runs in TensorFlow (inside tf.data). Boxes are (cx, cy, w, h) fractions of the image side; rows with
class < 0 or zero size are padding. When two boxes land on the same cell and anchor, the last wins.
"""

import tensorflow as tf

from keras_suite.detection.grid import AnchorGrid


def _wh_iou(wh, anchors):
    inter = tf.minimum(wh[:, None, 0], anchors[None, :, 0]) * tf.minimum(wh[:, None, 1], anchors[None, :, 1])
    return inter / (wh[:, None, 0] * wh[:, None, 1] + anchors[None, :, 0] * anchors[None, :, 1] - inter)


def assign_targets(boxes, classes, grid: AnchorGrid, num_classes, extra_iou=None):
    """(boxes (M, 4), classes (M,)) of one image -> targets (P, 5 + C): box, objectness 1, one-hot class
    at assigned positions, zeros elsewhere."""
    boxes = tf.reshape(tf.cast(boxes, tf.float32), (-1, 4))
    classes = tf.reshape(tf.cast(classes, tf.int32), (-1,))
    valid = (classes >= 0) & (boxes[:, 2] > 0) & (boxes[:, 3] > 0)
    boxes, classes = tf.boolean_mask(boxes, valid), tf.boolean_mask(classes, valid)
    anchors = tf.constant(grid.all_anchors)
    iou = _wh_iou(boxes[:, 2:4], anchors)  # (M, A)
    chosen = tf.one_hot(tf.argmax(iou, axis=1), len(grid.all_anchors), on_value=True, off_value=False)
    if extra_iou is not None:
        chosen = chosen | (iou >= extra_iou)
    pair = tf.where(chosen)  # (K, 2): box index, global anchor index
    box_index, anchor_index = pair[:, 0], pair[:, 1]
    per_scale = [len(a) for a in grid.anchors]
    scale_of = tf.constant([s for s, n in enumerate(per_scale) for _ in range(n)], tf.int64)
    within = tf.constant([b for n in per_scale for b in range(n)], tf.int64)
    first = tf.constant([grid.offset(s) for s in range(len(per_scale))], tf.int64)
    sizes = tf.constant(grid.sizes, tf.int64)
    scale = tf.gather(scale_of, anchor_index)
    size = tf.gather(sizes, scale)
    b = tf.gather(boxes, box_index)
    col = tf.minimum(tf.cast(tf.floor(b[:, 0] * tf.cast(size, tf.float32)), tf.int64), size - 1)
    row = tf.minimum(tf.cast(tf.floor(b[:, 1] * tf.cast(size, tf.float32)), tf.int64), size - 1)
    n_anchors = tf.gather(tf.constant(per_scale, tf.int64), scale)
    position = tf.gather(first, scale) + (row * size + col) * n_anchors + tf.gather(within, anchor_index)
    values = tf.concat([b, tf.ones_like(b[:, :1]), tf.one_hot(tf.gather(classes, box_index), num_classes)], axis=1)
    return tf.tensor_scatter_nd_update(tf.zeros((grid.positions, 5 + num_classes)), position[:, None], values)
