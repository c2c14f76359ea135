"""The feed-forward style transfer network of Johnson et al., 2016, "Perceptual Losses for Real-Time
Style Transfer and Super-Resolution" (https://arxiv.org/abs/1603.08155): two stride-2 convolutions,
residual blocks, and two resize-convolutions back to the input size, with instance normalization
(Ulyanov et al., 2016, https://arxiv.org/abs/1607.08022) in 4-D ops, so a GPU delegate runs the whole model."""

import keras

from keras_suite.layers import InstanceNormalization, ResizeConv2D


def _norm_act(x, name, activation=True):
    x = InstanceNormalization(epsilon=1e-3, name=f"{name}_in")(x)
    return keras.layers.Activation("relu", name=f"{name}_relu")(x) if activation else x


def build_stylizer(filters=32, residual_blocks=5, image_size=None):
    """(H, W, 3) pixels in [0, 255], any H and W (or `image_size` square) -> the stylized image, same size,
    in [0, 255], float32. Widths are `filters` x 1, 2, 4."""
    inputs = keras.Input((image_size, image_size, 3), name="images")
    x = keras.layers.Rescaling(1 / 127.5, offset=-1.0, name="scale")(inputs)
    full = _norm_act(keras.layers.Conv2D(filters, 9, padding="same", name="enc1_conv")(x), "enc1")
    half = _norm_act(keras.layers.Conv2D(2 * filters, 3, 2, padding="same", name="enc2_conv")(full), "enc2")
    x = _norm_act(keras.layers.Conv2D(4 * filters, 3, 2, padding="same", name="enc3_conv")(half), "enc3")
    for i in range(residual_blocks):
        y = _norm_act(keras.layers.Conv2D(4 * filters, 3, padding="same", name=f"res{i}_conv1")(x), f"res{i}_1")
        y = _norm_act(keras.layers.Conv2D(4 * filters, 3, padding="same", name=f"res{i}_conv2")(y), f"res{i}_2",
                      activation=False)
        x = keras.layers.Add(name=f"res{i}_add")([x, y])
    x = _norm_act(ResizeConv2D(2 * filters, 3, name="dec1")([x, half]), "dec1")
    x = _norm_act(ResizeConv2D(filters, 3, name="dec2")([x, full]), "dec2")
    x = keras.layers.Conv2D(3, 9, padding="same", name="out_conv", dtype="float32")(x)
    outputs = keras.layers.Activation("sigmoid", dtype="float32", name="out_sigmoid")(x)
    outputs = keras.layers.Rescaling(255.0, dtype="float32", name="pixels")(outputs)
    return keras.Model(inputs, outputs, name="stylizer")
