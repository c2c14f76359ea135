"""Face embedding networks: a convolutional backbone from reusable blocks, pooled, projected and
L2-normalized onto the unit hypersphere (Schroff et al., 2015, FaceNet, https://arxiv.org/abs/1503.03832)."""

import keras

from keras_suite.choices import EMBEDDING_BACKBONES as BACKBONES
from keras_suite.layers import InceptionResNetBlock, InvertedResidualBlock


def _conv_bn(x, filters, size, strides, name):
    x = keras.layers.Conv2D(filters, size, strides, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = keras.layers.BatchNormalization(name=f"{name}_bn")(x)
    return keras.layers.ReLU(name=f"{name}_relu")(x)


def build_embedding(image_size, dim=128, backbone="mobilenet", width=32, depths=(1, 2, 2, 2), dropout=0.0):
    """(image_size, image_size, 3) float pixels in [0, 255] -> (dim,) unit-length embedding.

    A stride-2 stem, then one stage per entry of `depths`, each stage after the first halving the
    resolution and doubling the width: MobileNetV2 inverted residual blocks (`mobilenet`) or a
    strided reduction convolution followed by Inception-ResNet-A blocks (`inception_resnet`).
    Then global average pooling, dropout, a linear projection to `dim` and L2 normalization
    (float32, also under mixed precision).
    """
    if backbone not in BACKBONES:
        raise ValueError(f"model.backbone must be one of {', '.join(BACKBONES)}, got '{backbone}'")
    if dim < 2 or width < 1 or not depths or min(depths) < 1:
        raise ValueError(f"model.dim must be >= 2, model.width >= 1 and model.depths positive, "
                         f"got dim={dim}, width={width}, depths={list(depths)}")
    if image_size < 2 ** len(depths) * 2:
        raise ValueError(f"data.image_size {image_size} is too small for {len(depths)} stages "
                         f"(needs >= {2 ** len(depths) * 2})")
    inputs = keras.Input((image_size, image_size, 3), name="images")
    x = keras.layers.Rescaling(1 / 127.5, offset=-1.0, name="scale")(inputs)
    x = _conv_bn(x, width, 3, 2, "stem")
    for stage, depth in enumerate(depths):
        filters = width * 2 ** stage
        if backbone == "mobilenet":
            for block in range(depth):
                x = InvertedResidualBlock(filters, strides=2 if stage and not block else 1,
                                          expansion=1 if not stage else 4, name=f"stage{stage}_block{block}")(x)
        else:
            if stage:
                x = _conv_bn(x, filters, 3, 2, f"stage{stage}_reduce")
            for block in range(depth):
                x = InceptionResNetBlock(max(8, filters // 4), name=f"stage{stage}_block{block}")(x)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="dropout")(x)
    x = keras.layers.Dense(dim, name="project")(x)
    outputs = keras.layers.UnitNormalization(dtype="float32", name="embedding")(x)
    return keras.Model(inputs, outputs, name=f"face_{backbone}")
