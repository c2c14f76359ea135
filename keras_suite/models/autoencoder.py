"""Convolutional autoencoders (Goodfellow, Bengio & Courville, 2016, "Deep Learning", ch. 14): an encoder of
stride-2 convolutions to a code vector and a mirrored decoder back to pixels in [0, 1].

Kinds: "undercomplete" (a code smaller than the image), "sparse" (a penalty on the code: L1, or a KL sparsity
target on sigmoid units), "denoising" (the same network, trained on corrupted inputs with clean targets: Vincent
et al., 2008, "Extracting and Composing Robust Features with Denoising Autoencoders"; the noise lives in the
input pipeline) and "variational" (the encoder gives q(z|x) = N(mean, exp(log_var)), the code a draw from it;
Kingma & Welling, 2014). The decoder upsamples by transposed convolution (whose uneven kernel overlap draws
checkerboard patterns) or by nearest resize then convolution (Odena et al., 2016, https://distill.pub/2016/
deconv-checkerboard/).

The training model is images (0-255) -> reconstruction (0-1); its `encoder` (images -> code, or [mean, log_var])
and `decoder` (code -> reconstruction) are sub-models for encoding, sampling and export.
"""

import keras

from keras_suite.choices import AUTOENCODER_KINDS, UPSAMPLING
from keras_suite.layers import GaussianSampling, SparsityPenalty


def build_encoder(image_shape, code_dim, kind="undercomplete", filters=32, depth=2, sparsity="l1"):
    """(S, S, C) pixels in [0, 255] -> the code (code_dim,), or [mean, log_var] for "variational"; a "sparse" code
    is sigmoid units for the KL sparsity target, ReLU units for L1."""
    inputs = keras.Input(image_shape, name="images")
    x = keras.layers.Rescaling(1 / 255.0, name="scale")(inputs)
    for i in range(depth):
        x = keras.layers.Conv2D(filters * 2 ** i, 3, 2, padding="same", activation="relu", name=f"down{i}")(x)
        x = keras.layers.Conv2D(filters * 2 ** i, 3, padding="same", activation="relu", name=f"conv{i}")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    if kind == "variational":
        outputs = [keras.layers.Dense(code_dim, name="mean")(x), keras.layers.Dense(code_dim, name="log_var")(x)]
    else:
        activation = {"l1": "relu", "kl": "sigmoid"}[sparsity] if kind == "sparse" else None
        outputs = keras.layers.Dense(code_dim, activation=activation, name="code")(x)
    return keras.Model(inputs, outputs, name="encoder")


def build_decoder(image_shape, code_dim, filters=32, depth=2, upsampling="resize"):
    """code (code_dim,) -> pixels (S, S, C) in [0, 1]: a dense layer to the encoder's last grid, then `depth`
    doublings (transposed convolution, or nearest resize and a convolution) and a sigmoid convolution."""
    size, channels = image_shape[0] // 2 ** depth, image_shape[-1]
    code = keras.Input((code_dim,), name="code")
    width = filters * 2 ** (depth - 1)
    x = keras.layers.Dense(size * size * width, activation="relu", name="expand")(code)
    x = keras.layers.Reshape((size, size, width), name="grid")(x)
    for i in reversed(range(depth)):
        if upsampling == "transpose":
            x = keras.layers.Conv2DTranspose(filters * 2 ** i, 3, 2, padding="same", activation="relu",
                                             name=f"up{i}")(x)
        else:
            x = keras.layers.UpSampling2D(2, interpolation="nearest", name=f"resize{i}")(x)
            x = keras.layers.Conv2D(filters * 2 ** i, 3, padding="same", activation="relu", name=f"up{i}")(x)
        x = keras.layers.Conv2D(filters * 2 ** i, 3, padding="same", activation="relu", name=f"upconv{i}")(x)
    pixels = keras.layers.Conv2D(channels, 3, padding="same", activation="sigmoid", dtype="float32",
                                 name="pixels")(x)
    return keras.Model(code, pixels, name="decoder")


def build_autoencoder(image_shape, kind="undercomplete", code_dim=32, filters=32, depth=2, upsampling="resize",
                      sparsity="l1", sparsity_weight=1e-3, sparsity_target=0.05, beta=1.0, seed=None,
                      name="autoencoder"):
    """Training model: images (B, S, S, C) in [0, 255] -> reconstruction (B, S, S, C) in [0, 1]; penalties (the
    sparsity penalty, the VAE's KL term) are the model's added losses. S must be divisible by 2**depth."""
    if kind not in AUTOENCODER_KINDS:
        raise ValueError(f"kind must be one of {', '.join(AUTOENCODER_KINDS)}, got '{kind}'")
    if upsampling not in UPSAMPLING:
        raise ValueError(f"upsampling must be one of {', '.join(UPSAMPLING)}, got '{upsampling}'")
    if image_shape[0] != image_shape[1] or image_shape[0] % 2 ** depth:
        raise ValueError(f"images must be square with a side divisible by {2 ** depth} (depth {depth}), "
                         f"got {image_shape[:2]}")
    encoder = build_encoder(image_shape, code_dim, kind, filters, depth, sparsity)
    decoder = build_decoder(image_shape, code_dim, filters, depth, upsampling)
    images = keras.Input(image_shape, name="images")
    code = encoder(images)
    if kind == "variational":
        code = GaussianSampling(beta, seed, name="sampling")(code)
    elif kind == "sparse":
        code = SparsityPenalty(sparsity, sparsity_weight, sparsity_target, name="sparsity")(code)
    return keras.Model(images, decoder(code), name=name)


def is_variational(model):
    return any(layer.name == "sampling" for layer in model.layers)


def encode(model, images):
    """The code of each image (the mean of q(z|x) for a VAE)."""
    out = model.get_layer("encoder")(images, training=False)
    return out[0] if isinstance(out, (list, tuple)) else out
