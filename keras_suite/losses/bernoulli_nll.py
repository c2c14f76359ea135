"""The negative log-likelihood of images under independent Bernoulli pixels, in nats per image."""

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="keras_suite")
class BernoulliNLL(keras.losses.Loss):
    """-log p(x | z) = the binary cross-entropy of every pixel (targets and predictions in [0, 1]), summed over each
    image: the reconstruction term of a variational autoencoder's ELBO in nats, so that it adds up with the KL term
    (Kingma & Welling, 2014, https://arxiv.org/abs/1312.6114, appendix C.1). Grey levels between 0 and 1 make it
    the cross-entropy of the continuous targets, as is usual for MNIST-like digits.

    Example:
    >>> BernoulliNLL()(np.ones((1, 2, 2, 1)), np.full((1, 2, 2, 1), 0.5))  # 4 log 2 = 2.77
    """

    def __init__(self, name="bernoulli_nll", **kwargs):
        super().__init__(name=name, **kwargs)

    def call(self, y_true, y_pred):
        y_true = tf.cast(y_true, y_pred.dtype)
        p = tf.clip_by_value(y_pred, 1e-7, 1 - 1e-7)
        bce = -(y_true * tf.math.log(p) + (1 - y_true) * tf.math.log(1 - p))
        return tf.reduce_sum(bce, axis=tf.range(1, tf.rank(bce)))
