"""The loss network of style transfer: VGG19's convolution outputs (Simonyan & Zisserman, 2015,
https://arxiv.org/abs/1409.1556), as used by Gatys et al. (2016) and Johnson et al. (2016)."""

import logging
from pathlib import Path

import keras
import numpy as np
from keras import ops

from keras_suite.errors import UserError
from keras_suite.models.pretrained import load_application

log = logging.getLogger("keras_suite")

VGG19_LAYERS = tuple(f"block{b}_conv{c}" for b, n in ((1, 2), (2, 2), (3, 4), (4, 4), (5, 4)) for c in range(1, n + 1))
# ImageNet channel means in BGR order: VGG's caffe preprocessing (keras.applications.vgg19.preprocess_input).
BGR_MEAN = (103.939, 116.779, 123.68)


def _random_he(model, seed):
    """Deterministic He-normal weights (zero biases): with no ImageNet weights, activations keep their scale
    through the 16 ReLU convolutions, so every layer's features (and Gram matrices) stay usable."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            kernel, bias = layer.get_weights()
            fan_in = np.prod(kernel.shape[:3])
            layer.set_weights([rng.normal(0, np.sqrt(2.0 / fan_in), kernel.shape).astype(np.float32),
                               np.zeros_like(bias)])


class VGGFeatures:
    """images (N, H, W, 3) RGB in [0, 255] -> {layer: features}, preprocessed as VGG expects (RGB to BGR,
    ImageNet means subtracted). Only the network up to the deepest requested layer is built.

    `weights`: "imagenet" (cached under KERAS_HOME or downloaded; offline, a warning and random weights),
    "random" (seeded He-normal), or the path of a VGG19 notop weights file (.h5 / .weights.h5).
    """

    def __init__(self, layers, weights="imagenet", seed=0):
        unknown = [n for n in layers if n not in VGG19_LAYERS]
        if unknown:
            raise UserError(f"unknown VGG19 layer(s) {', '.join(unknown)}; choose from {', '.join(VGG19_LAYERS)}")
        if weights not in ("imagenet", "random") and not Path(weights).is_file():
            raise UserError(f"style.weights: no such weights file '{weights}' (or use imagenet or random)")
        source = None if weights == "random" else weights
        try:
            base, loaded = load_application(keras.applications.VGG19, source, include_top=False,
                                            input_shape=(None, None, 3))
        except (ValueError, OSError) as e:
            raise UserError(f"could not load VGG19 weights from '{weights}': {str(e).splitlines()[0][:200]}") from None
        if loaded is None:
            _random_he(base, seed)
        self.weights = loaded or "random"
        self.layers = tuple(layers)
        self.model = keras.Model(base.input, [base.get_layer(n).output for n in self.layers], name="vgg19_features")
        self.model.trainable = False

    @staticmethod
    def preprocess(images):
        bgr = ops.flip(ops.cast(images, "float32"), axis=-1)
        return bgr - ops.convert_to_tensor(BGR_MEAN, "float32")

    def __call__(self, images):
        outputs = self.model(self.preprocess(images), training=False)
        return dict(zip(self.layers, outputs if isinstance(outputs, (list, tuple)) else [outputs]))
