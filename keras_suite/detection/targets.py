"""YOLO target assignment: each ground truth box goes to the grid cell holding its centre, at the anchor (over all
scales) whose shape best matches it by IoU (YOLOv2/v3); with `extra_iou` (YOLOv4), also at every other anchor
matching it at least that well, each at its own scale's cell; with `neighbors` (YOLOv5), also at the two
neighbouring cells nearest the centre (left or right, above or below), whose predicted centre offsets reach it
(`AnchorGrid.decode`): three times the positive positions, for faster learning.

Runs in TensorFlow (inside tf.data). Boxes are (cx, cy, w, h) fractions of the image side; rows with
class < 0 or zero size are padding. When two boxes land on the same cell and anchor, a box whose centre is in the
cell wins over a neighbour's; between two of the same kind, the last wins.
"""

import tensorflow as tf

from keras_suite.detection.grid import AnchorGrid


def _wh_iou(wh, anchors):
    inter = tf.minimum(wh[:, None, 0], anchors[None, :, 0]) * tf.minimum(wh[:, None, 1], anchors[None, :, 1])
    return inter / (wh[:, None, 0] * wh[:, None, 1] + anchors[None, :, 0] * anchors[None, :, 1] - inter)


def assign_targets(boxes, classes, grid: AnchorGrid, num_classes, extra_iou=None, neighbors=False):
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
    xy = b[:, :2] * tf.cast(size, tf.float32)[:, None]
    cell = tf.minimum(tf.cast(tf.floor(xy), tf.int64), size[:, None] - 1)  # (K, 2) column, row
    if neighbors:
        # one step towards the nearer edge of the cell, on each axis
        side = tf.where(xy - tf.floor(xy) < 0.5, tf.constant(-1, tf.int64), tf.constant(1, tf.int64))
        moves = [side * [1, 0], side * [0, 1], tf.zeros_like(side)]  # the own cell last, so that it wins
        cells = tf.concat([cell + move for move in moves], 0)
        inside = tf.reduce_all((cells >= 0) & (cells < tf.tile(size, [3])[:, None]), axis=1)

        def repeat(t):
            return tf.boolean_mask(tf.concat([t] * 3, 0), inside)

        cell = tf.boolean_mask(cells, inside)
        box_index, anchor_index, scale, size, b = map(repeat, (box_index, anchor_index, scale, size, b))
    col, row = cell[:, 0], cell[:, 1]
    n_anchors = tf.gather(tf.constant(per_scale, tf.int64), scale)
    position = tf.gather(first, scale) + (row * size + col) * n_anchors + tf.gather(within, anchor_index)
    values = tf.concat([b, tf.ones_like(b[:, :1]), tf.one_hot(tf.gather(classes, box_index), num_classes)], axis=1)
    return tf.tensor_scatter_nd_update(tf.zeros((grid.positions, 5 + num_classes)), position[:, None], values)
