"""A YOLO detector: CSP or MobileNetV2 backbone, a top-down feature pyramid, and per scale a 1x1
convolution predicting B x (5 + C) values per cell, flattened into (N, P, 5 + C) in the order
`AnchorGrid` decodes (Redmon & Farhadi, 2018, https://arxiv.org/abs/1804.02767; the neck follows
Lin et al., 2017, "Feature Pyramid Networks", https://arxiv.org/abs/1612.03144). The head's biases
start at a prior (Lin et al., 2017, "Focal Loss", https://arxiv.org/abs/1708.02002, section 3.3)."""

import math

import keras
import numpy as np

from keras_suite.choices import YOLO_BACKBONES as BACKBONES
from keras_suite.layers import CSPBlock, InvertedResidualBlock, NearestUpsampling2D

BN_MOMENTUM = 0.97  # as YOLOv5: statistics keep up with the weights in short CPU trainings


def _conv(x, filters, size, strides, name):
    x = keras.layers.Conv2D(filters, size, strides, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = keras.layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_bn")(x)
    return keras.layers.Activation("silu", name=f"{name}_act")(x)


def head_prior(size, anchors, num_classes, objects_per_image):
    """Initial biases of one scale's head: objectness at the share of the size x size x anchors positions
    that hold an object, classes at 1 / C, boxes at 0 (the anchor's shape, the cell's centre)."""
    p_object = min(0.5, objects_per_image / (size * size * anchors))
    p_class = 1.0 / max(num_classes, 2)
    row = np.zeros(5 + num_classes, np.float32)
    row[4] = math.log(p_object / (1 - p_object))
    row[5:] = math.log(p_class / (1 - p_class))
    return np.tile(row, anchors)


def build_yolo(image_size, num_classes, strides=(8, 16, 32), anchors_per_scale=2, backbone="csp", width=16, depth=1,
               objects_per_image=4.0):
    """(image_size, image_size, 3) pixels in [0, 255] -> raw head (N, P, 5 + C), float32.

    The backbone halves the resolution 5 times (widths `width` x 1, 2, 4, 8, 16); the pyramid takes the
    stages at `strides` (a subset of 4, 8, 16, 32), merges them top-down (upsample, concatenate, CSP)
    and predicts `anchors_per_scale` boxes per cell at every scale. `objects_per_image` sets the
    objectness prior of the head (`head_prior`).
    """
    if backbone not in BACKBONES:
        raise ValueError(f"model.backbone must be one of {', '.join(BACKBONES)}, got '{backbone}'")
    if not set(strides) <= {4, 8, 16, 32} or list(strides) != sorted(set(strides)):
        raise ValueError(f"model.strides must be an ascending subset of 4, 8, 16, 32, got {list(strides)}")
    if image_size % max(strides):
        raise ValueError(f"data.image_size {image_size} must be divisible by the largest stride {max(strides)}")
    inputs = keras.Input((image_size, image_size, 3), name="images")
    x = keras.layers.Rescaling(1 / 255.0, name="scale")(inputs)
    x = _conv(x, width, 3, 2, "stem")  # stride 2
    features = {}
    for stage, stride in enumerate((4, 8, 16, 32)):
        filters = width * 2 ** (stage + 1)
        if backbone == "csp":
            x = _conv(x, filters, 3, 2, f"stage{stage}_down")
            x = CSPBlock(filters, depth=depth, name=f"stage{stage}_csp")(x)
        else:
            x = InvertedResidualBlock(filters, strides=2, name=f"stage{stage}_down")(x)
            for block in range(depth):
                x = InvertedResidualBlock(filters, name=f"stage{stage}_block{block}")(x)
        features[stride] = x
    outputs = []
    top = None
    for stride in sorted(strides, reverse=True):
        f = features[stride]
        if top is not None:
            up = NearestUpsampling2D(top[1] // stride, name=f"p{stride}_up")(
                _conv(top[0], f.shape[-1] // 2, 1, 1, f"p{stride}_lateral"))
            f = CSPBlock(f.shape[-1], depth=depth, shortcut=False, name=f"p{stride}_csp")(
                keras.layers.Concatenate(name=f"p{stride}_cat")([up, f]))
        top = (f, stride)
        b = anchors_per_scale
        size = image_size // stride
        head = keras.layers.Conv2D(b * (5 + num_classes), 1, name=f"head{stride}", dtype="float32")
        raw = head(f)
        head.bias.assign(head_prior(size, b, num_classes, objects_per_image / len(strides)))
        name = "raw" if len(strides) == 1 else f"flat{stride}"  # "raw": the head's output, whatever the scales
        outputs.append((stride, keras.layers.Reshape((size * size * b, 5 + num_classes), name=name)(raw)))
    outputs = [o for _, o in sorted(outputs)]  # the grid's scale order: smallest stride first
    raw = keras.layers.Concatenate(axis=1, name="raw", dtype="float32")(outputs) if len(outputs) > 1 else outputs[0]
    return keras.Model(inputs, raw, name=f"yolo_{backbone}")
