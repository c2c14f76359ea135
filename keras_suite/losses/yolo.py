import keras
import tensorflow as tf
from keras import ops

from keras_suite.choices import BOX_LOSSES
from keras_suite.detection.grid import AnchorGrid, cxcywh_to_xyxy


def generalized_iou(a, b):
    """Elementwise GIoU of xyxy boxes (..., 4) (Rezatofighi et al., 2019, https://arxiv.org/abs/1902.09630)."""
    lt, rb = ops.maximum(a[..., :2], b[..., :2]), ops.minimum(a[..., 2:], b[..., 2:])
    inter = ops.prod(ops.maximum(rb - lt, 0.0), axis=-1)
    area_a = ops.prod(ops.maximum(a[..., 2:] - a[..., :2], 0.0), axis=-1)
    area_b = ops.prod(ops.maximum(b[..., 2:] - b[..., :2], 0.0), axis=-1)
    union = area_a + area_b - inter
    hull = ops.prod(ops.maximum(ops.maximum(a[..., 2:], b[..., 2:]) - ops.minimum(a[..., :2], b[..., :2]), 0.0), -1)
    return inter / ops.maximum(union, 1e-9) - (hull - union) / ops.maximum(hull, 1e-9)


def complete_iou(a, b):
    """Elementwise CIoU of xyxy boxes (..., 4) with Keras' implementation (Zheng et al., 2020,
    https://arxiv.org/abs/1911.08287)."""
    shape = ops.shape(a)[:-1]
    flat = keras.utils.bounding_boxes.compute_ciou(ops.reshape(a, (-1, 4)), ops.reshape(b, (-1, 4)), "xyxy")
    return ops.reshape(flat, shape)


def _pairwise_iou(a, b):
    """(N, P, 4) x (N, K, 4) xyxy -> (N, P, K)."""
    lt = ops.maximum(a[:, :, None, :2], b[:, None, :, :2])
    rb = ops.minimum(a[:, :, None, 2:], b[:, None, :, 2:])
    inter = ops.prod(ops.maximum(rb - lt, 0.0), axis=-1)
    area_a = ops.prod(ops.maximum(a[..., 2:] - a[..., :2], 0.0), axis=-1)[:, :, None]
    area_b = ops.prod(ops.maximum(b[..., 2:] - b[..., :2], 0.0), axis=-1)[:, None, :]
    return inter / ops.maximum(area_a + area_b - inter, 1e-9)


def _masked_mean(values, mask):
    mask = ops.cast(mask, "float32")
    return ops.sum(values * mask) / ops.maximum(ops.sum(mask), 1.0)


@keras.saving.register_keras_serializable(package="keras_suite")
class YoloLoss(keras.losses.Loss):
    """YOLOv3-style detection loss on the flattened multi-scale head (see `AnchorGrid`):

    box_weight * mean over assigned positions of (1 - CIoU or GIoU)
    + objectness BCE: mean over assigned positions (target 1) + noobj_weight * mean over the other
      positions (target 0), leaving out predictions whose box overlaps a ground truth box by more
      than `ignore_iou` (they are good boxes on the wrong anchor, not background)
    + class_weight * mean over assigned positions of the per-class BCE (multi-label, as YOLOv3).

    Redmon & Farhadi, 2018, https://arxiv.org/abs/1804.02767. `y_true` is `assign_targets` output,
    `y_pred` the raw head (N, P, 5 + C). `max_boxes` bounds the ground truth compared for ignoring.
    """

    def __init__(self, image_size, strides, anchors, num_classes, box="ciou", box_weight=5.0,
                 object_weight=1.0, noobj_weight=1.0, class_weight=1.0, ignore_iou=0.5, max_boxes=100,
                 name="yolo_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        if box not in BOX_LOSSES:
            raise ValueError(f"box must be one of {', '.join(BOX_LOSSES)}, got '{box}'")
        self.grid = AnchorGrid(image_size, strides, anchors)
        self.num_classes, self.box = num_classes, box
        self.box_weight, self.object_weight, self.noobj_weight = box_weight, object_weight, noobj_weight
        self.class_weight, self.ignore_iou, self.max_boxes = class_weight, ignore_iou, max_boxes

    def components(self, y_true, y_pred):
        """{"box", "object", "noobj", "class"}: the loss terms before weighting."""
        y_true = ops.cast(y_true, "float32")
        boxes, obj_logit, cls_logit = self.grid.decode(y_pred)
        positive = y_true[..., 4] > 0.5
        pred_xyxy, true_xyxy = cxcywh_to_xyxy(boxes), cxcywh_to_xyxy(y_true[..., :4])
        overlap = (complete_iou if self.box == "ciou" else generalized_iou)(pred_xyxy, true_xyxy)
        # The ground truth of each image: its (at most max_boxes) assigned positions.
        k = min(self.max_boxes, self.grid.positions)
        objectness, index = tf.math.top_k(y_true[..., 4], k=k)
        gt = tf.gather(true_xyxy, index, batch_dims=1)
        best = ops.max(_pairwise_iou(pred_xyxy, gt) * objectness[:, None, :], axis=-1)
        negative = ops.logical_and(ops.logical_not(positive), best <= self.ignore_iou)
        bce = ops.binary_crossentropy
        obj_target = ops.cast(positive, "float32")
        obj_bce = bce(obj_target, obj_logit, from_logits=True)  # elementwise, (N, P)
        cls_bce = ops.mean(bce(y_true[..., 5:], cls_logit, from_logits=True), axis=-1)
        return {"box": _masked_mean(1.0 - overlap, positive), "object": _masked_mean(obj_bce, positive),
                "noobj": _masked_mean(obj_bce, negative), "class": _masked_mean(cls_bce, positive)}

    def call(self, y_true, y_pred):
        c = self.components(y_true, y_pred)
        total = (self.box_weight * c["box"] + self.object_weight * (c["object"] + self.noobj_weight * c["noobj"])
                 + self.class_weight * c["class"])
        return ops.reshape(total, (1,))  # one value per batch: the default reduction keeps it

    def get_config(self):
        return {**super().get_config(), **self.grid.get_config(), "num_classes": self.num_classes,
                "box": self.box, "box_weight": self.box_weight, "object_weight": self.object_weight,
                "noobj_weight": self.noobj_weight, "class_weight": self.class_weight, "ignore_iou": self.ignore_iou,
                "max_boxes": self.max_boxes}
