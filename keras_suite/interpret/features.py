"""Feature visualization by gradient ascent on the input (Erhan et al., 2009; Olah, Mordvintsev & Schubert, 2017,
"Feature Visualization", https://distill.pub/2017/feature-visualization/): an image is optimized from noise to
raise the mean activation of one channel of a layer, with what keeps it natural: random jitter each step, an L2
and total-variation penalty, a blur every few steps, and optionally a parameterization in a decorrelated space
(the image's Fourier coefficients scaled by 1/frequency, so that every frequency learns at the same pace)."""

import keras
import numpy as np
import tensorflow as tf

SKIPPED = ("InputLayer", "Rescaling", "Normalization")  # layers that only scale the pixels


def feature_layers(model):
    """{name: layer output} of the layers with one 4-D output (B, H, W, C) that an image reaches: the model's own
    and those of nested models fed by its input (an autoencoder's "encoder/conv1"), in order."""
    found = {}
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            if layer.inputs and len(layer.inputs) == 1 and tuple(layer.inputs[0].shape) == tuple(model.inputs[0].shape):
                found.update({f"{layer.name}/{k}": v for k, v in feature_layers(layer).items()})
            continue
        if type(layer).__name__ in SKIPPED:
            continue
        output = getattr(layer, "output", None)
        if output is not None and not isinstance(output, (list, tuple, dict)) and len(output.shape) == 4:
            found[layer.name] = output
    return found


def feature_model(model, name):
    """images -> the activations of layer `name` (as `feature_layers` names it)."""
    if "/" in name:
        outer, inner = name.split("/", 1)
        sub = model.get_layer(outer)
        return keras.Model(sub.inputs, feature_layers(sub)[inner])
    return keras.Model(model.inputs, feature_layers(model)[name])


def most_active(features, images, k):
    """The `k` channels with the highest mean activation over `images`, most active first."""
    mean = np.mean(np.asarray(features.predict(np.asarray(images, np.float32), verbose=0)), axis=(0, 1, 2))
    return [int(c) for c in np.argsort(-mean)[:k]]


def _fourier_scale(size):
    """1/frequency per coefficient of a `size` x `size` real FFT, times `size` (the inverse FFT divides by size**2):
    Lucid's spectrum scaling."""
    fy = np.fft.fftfreq(size)[:, None]
    fx = np.fft.rfftfreq(size)[None, :]
    return (size / np.maximum(np.sqrt(fx ** 2 + fy ** 2), 1.0 / size)).astype(np.float32)


def _blur(x):
    kernel = tf.constant([1.0, 2.0, 1.0]) / 4.0
    kernel = tf.tile((kernel[:, None] * kernel[None, :])[:, :, None, None], [1, 1, x.shape[-1], 1])
    return tf.nn.depthwise_conv2d(tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]], "REFLECT"), kernel, [1] * 4, "VALID")


class Visualizer:
    """Optimizes images (pixels 0-255) that excite channels of `features` (images -> (B, H, W, C)).

    Args:
        features: the model from the image to the layer.
        size, channels: the image's side and colour channels.
        steps: ascent steps (Adam, `learning_rate`).
        jitter: pixels of random shift each step (0: none).
        l2, tv: weights of the mean squared pixel (centred, 0-1 scale) and total-variation penalties.
        blur_every: blur the pixels every this many steps (0: never; not with `decorrelate`).
        decorrelate: optimize Fourier coefficients scaled by 1/frequency instead of pixels.
        seed: the starting noise.
    """

    def __init__(self, features, size, channels=3, steps=256, learning_rate=0.05, jitter=4, l2=0.0, tv=0.0,
                 blur_every=0, decorrelate=True, seed=0):
        self.features, self.size, self.channels = features, size, channels
        self.steps, self.learning_rate, self.jitter = steps, learning_rate, jitter
        self.l2, self.tv, self.blur_every, self.decorrelate, self.seed = l2, tv, blur_every, decorrelate, seed
        self.scale = tf.constant(_fourier_scale(size))

    def pixels(self, params):
        """The image (B, S, S, C) in [0, 1] of the parameters."""
        if not self.decorrelate:
            return tf.sigmoid(params)
        spectrum = tf.complex(params[0], params[1]) * tf.cast(self.scale, tf.complex64)[None, None]
        image = tf.signal.irfft2d(spectrum, fft_length=[self.size, self.size])  # (B, C, S, S)
        return tf.sigmoid(tf.transpose(image, [0, 2, 3, 1]) / 4.0)

    def _start(self, count):
        rng = np.random.default_rng(self.seed)
        if not self.decorrelate:
            return tf.Variable(rng.normal(0, 0.1, (count, self.size, self.size, self.channels)).astype(np.float32))
        shape = (2, count, self.channels, self.size, self.size // 2 + 1)
        return tf.Variable(rng.normal(0, 0.01, shape).astype(np.float32))

    def __call__(self, channels):
        """(uint8 images (K, S, S, C), activation of each before every step (K, steps + 1)) for the `channels`."""
        params = self._start(len(channels))
        index = tf.constant(list(channels))
        rng = tf.random.Generator.from_seed(self.seed)
        optimizer = keras.optimizers.Adam(self.learning_rate)

        @tf.function
        def step(shift):
            with tf.GradientTape() as tape:
                pixels = self.pixels(params)
                if self.jitter:
                    pixels = tf.roll(pixels, shift, axis=[1, 2])
                score, act = self.objective(pixels, index)
                total = tf.reduce_sum(score)
            optimizer.apply_gradients([(-tape.gradient(total, params), params)])  # ascent
            return act

        trace = []
        for n in range(self.steps):
            shift = (rng.uniform([2], -self.jitter, self.jitter + 1, tf.int32) if self.jitter
                     else tf.zeros([2], tf.int32))
            trace.append(step(shift).numpy())
            if self.blur_every and not self.decorrelate and (n + 1) % self.blur_every == 0:
                params.assign(_logit(_blur(tf.sigmoid(params))))
        final = self.pixels(params)
        trace.append(self.objective(final, index)[1].numpy())
        images = np.clip(np.round(final.numpy() * 255.0), 0, 255).astype(np.uint8)
        return images, np.stack(trace, axis=1)

    def objective(self, pixels, index):
        """(objective, mean activation) of image k on channel index[k]: the activation minus the penalties."""
        act = tf.reduce_mean(self.features(pixels * 255.0, training=False), axis=[1, 2])  # (K, C)
        act = tf.gather(act, index, batch_dims=1)
        penalty = self.l2 * tf.reduce_mean(tf.square(pixels - 0.5), axis=[1, 2, 3])
        if self.tv:
            penalty += self.tv * tf.image.total_variation(pixels) / float(self.size * self.size)
        return act - penalty, act


def _logit(p):
    p = tf.clip_by_value(p, 1e-4, 1 - 1e-4)
    return tf.math.log(p / (1 - p))
