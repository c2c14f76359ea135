import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="keras_suite")
class GaussianSampling(keras.layers.Layer):
    """The variational autoencoder's code: from the encoder's `[mean, log_var]` of q(z|x), a draw
    z = mean + exp(log_var / 2) * eps, eps ~ N(0, I) in training (the reparameterization trick) and the mean
    otherwise; adds `kl_weight * beta * KL(q(z|x) || N(0, I))` (nats per example, summed over the code) to the
    model's losses (Kingma & Welling, 2014, "Auto-Encoding Variational Bayes", https://arxiv.org/abs/1312.6114;
    beta: Higgins et al., 2017, "beta-VAE"). `kl_weight` is a non-trainable variable, 1 unless a KL warm-up
    schedule (Bowman et al., 2016, https://arxiv.org/abs/1511.06349) raises it from 0.

    Example:
    >>> mean, log_var = keras.ops.zeros((2, 3)), keras.ops.zeros((2, 3))
    >>> GaussianSampling()([mean, log_var]).shape
    (2, 3)
    """

    def __init__(self, beta=1.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.beta, self.seed = beta, seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.kl_weight = self.add_weight(shape=(), initializer="ones", trainable=False, name="kl_weight")

    @staticmethod
    def kl(mean, log_var):
        """KL(N(mean, exp(log_var)) || N(0, I)) per example, in nats."""
        return 0.5 * tf.reduce_sum(tf.square(mean) + tf.exp(log_var) - 1.0 - log_var, axis=-1)

    def call(self, inputs, training=False):
        mean, log_var = inputs
        self.add_loss(self.kl_weight * self.beta * tf.reduce_mean(self.kl(mean, log_var)))
        if not training:
            return mean
        noise = keras.random.normal(tf.shape(mean), seed=self.seed_generator, dtype=mean.dtype)
        return mean + tf.exp(0.5 * log_var) * noise

    def compute_output_shape(self, input_shapes):
        return input_shapes[0]

    def get_config(self):
        return {**super().get_config(), "beta": self.beta, "seed": self.seed}
