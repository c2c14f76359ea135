"""U-Net (Ronneberger et al., 2015, https://arxiv.org/abs/1505.04597) with an optional MobileNetV2 encoder."""

import keras

from keras_suite.layers import ConvBlock, DownBlock, UpBlock
from keras_suite.models.pretrained import load_application

# MobileNetV2 activations at strides 2, 4, 8, 16 used as skips, as in the TF segmentation tutorial.
_MOBILENET_SKIPS = ("block_1_expand_relu", "block_3_expand_relu", "block_6_expand_relu", "block_13_expand_relu")


def build_unet(num_classes, image_size, depth=4, filters=32, dropout=0.0, batch_norm=True,
               encoder="unet", weights=None, name="unet"):
    """A U-Net taking float RGB in [0, 255] (normalization inside) and returning per-pixel softmax.

    Args:
        num_classes: output classes per pixel.
        image_size: square input size; must be divisible by 2**depth (32 for mobilenet_v2).
        depth: number of down/up steps of the plain encoder.
        filters: channels of the first level; doubled at each level.
        dropout: dropout in the ConvBlocks (the bottleneck gets twice this).
        batch_norm: batch norm in every ConvBlock.
        encoder: "unet" (plain, trained from scratch) or "mobilenet_v2".
        weights: for mobilenet_v2: "imagenet" (offline falls back to None with a warning), None, or a path.
    """
    step = 32 if encoder == "mobilenet_v2" else 2 ** depth
    if image_size % step:
        raise ValueError(f"image_size {image_size} must be divisible by {step} for encoder '{encoder}'")
    inputs = keras.Input((image_size, image_size, 3), name="image")
    if encoder == "mobilenet_v2":
        x = keras.layers.Rescaling(1 / 127.5, offset=-1.0, name="normalize")(inputs)
        backbone, _ = load_application(keras.applications.MobileNetV2, weights, include_top=False,
                                       input_shape=(image_size, image_size, 3))
        features = keras.Model(backbone.input, [backbone.get_layer(n).output for n in _MOBILENET_SKIPS]
                               + [backbone.get_layer("block_16_project").output], name="encoder")
        *skips, x = features(x)
        widths = [filters * 2 ** i for i in range(len(skips))]
    else:
        x = keras.layers.Rescaling(1 / 255.0, name="normalize")(inputs)
        skips, widths = [], [filters * 2 ** i for i in range(depth)]
        for i, width in enumerate(widths):
            skip, x = DownBlock(width, batch_norm=batch_norm, dropout=dropout, name=f"down_{i}")(x)
            skips.append(skip)
        x = ConvBlock(filters * 2 ** depth, batch_norm=batch_norm, dropout=2 * dropout, name="bottleneck")(x)
    for i in reversed(range(len(skips))):
        x = UpBlock(widths[i], batch_norm=batch_norm, dropout=dropout, name=f"up_{i}")([x, skips[i]])
    if encoder == "mobilenet_v2":
        x = keras.layers.Conv2DTranspose(filters, 2, strides=2, padding="same", name="up_full")(x)
    logits = keras.layers.Conv2D(num_classes, 1, name="logits")(x)
    probs = keras.layers.Activation("softmax", dtype="float32", name="probabilities")(logits)
    return keras.Model(inputs, probs, name=name)
