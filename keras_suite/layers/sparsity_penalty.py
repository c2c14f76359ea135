import keras
import tensorflow as tf

from keras_suite.choices import SPARSITY


@keras.saving.register_keras_serializable(package="keras_suite")
class SparsityPenalty(keras.layers.Layer):
    """Passes a code through and adds a sparsity penalty on it to the model's losses: `weight` times the L1 norm
    of each example's code ("l1", averaged over the batch), or the KL divergence between a `target` activation
    rate and each unit's mean activation over the batch ("kl": codes in (0, 1), e.g. after a sigmoid; Ng, 2011,
    "Sparse autoencoder", CS294A lecture notes).

    Example:
    >>> SparsityPenalty("kl", weight=1.0, target=0.05)(keras.ops.full((4, 8), 0.5)).shape
    (4, 8)
    """

    def __init__(self, kind="l1", weight=1e-3, target=0.05, **kwargs):
        super().__init__(**kwargs)
        if kind not in SPARSITY:
            raise ValueError(f"sparsity must be one of {', '.join(SPARSITY)}, got '{kind}'")
        self.kind, self.weight, self.target = kind, weight, target

    def penalty(self, code):
        if self.kind == "l1":
            return tf.reduce_mean(tf.reduce_sum(tf.abs(code), axis=-1))
        rho, eps = self.target, 1e-6
        rate = tf.clip_by_value(tf.reduce_mean(code, axis=0), eps, 1 - eps)
        return tf.reduce_sum(rho * tf.math.log(rho / rate) + (1 - rho) * tf.math.log((1 - rho) / (1 - rate)))

    def call(self, code):
        self.add_loss(self.weight * self.penalty(code))
        return code

    def get_config(self):
        return {**super().get_config(), "kind": self.kind, "weight": self.weight, "target": self.target}
