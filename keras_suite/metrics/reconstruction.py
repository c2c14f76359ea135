"""Image reconstruction quality: PSNR per image (a Keras metric for training, NumPy scores for reports) and SSIM
(Wang et al., 2004, "Image Quality Assessment: From Error Visibility to Structural Similarity"), both from
tf.image on pixels in [0, 1]."""

import keras
import numpy as np
import tensorflow as tf


@keras.saving.register_keras_serializable(package="keras_suite")
class PSNR(keras.metrics.Mean):
    """Mean peak signal-to-noise ratio (dB) of the images of a batch, pixels in [0, 1]: 10 log10(1 / MSE).

    Example:
    >>> m = PSNR(); m.update_state(np.zeros((1, 4, 4, 1)), np.full((1, 4, 4, 1), 0.1)); m.result()  # 20 dB
    """

    def __init__(self, name="psnr", **kwargs):
        super().__init__(name=name, **kwargs)

    def update_state(self, y_true, y_pred, sample_weight=None):
        return super().update_state(tf.image.psnr(tf.cast(y_true, tf.float32), tf.cast(y_pred, tf.float32), 1.0),
                                    sample_weight)


def reconstruction_scores(clean, images):
    """Per-image MSE, PSNR (dB) and SSIM of `images` against `clean` (float (N, S, S, C) in [0, 1]); SSIM's
    Gaussian window shrinks to fit images under 11 pixels."""
    clean, images = tf.constant(clean, tf.float32), tf.constant(images, tf.float32)
    window = min(11, clean.shape[1], clean.shape[2])
    return {"mse": tf.reduce_mean(tf.square(clean - images), axis=[1, 2, 3]).numpy(),
            "psnr": np.minimum(tf.image.psnr(clean, images, 1.0).numpy(), 100.0),
            "ssim": tf.image.ssim(clean, images, 1.0, filter_size=window).numpy()}
