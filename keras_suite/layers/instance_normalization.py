import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_suite")
class InstanceNormalization(keras.layers.Layer):
    """Normalizes each channel of each image over its height and width, then scales and shifts it per channel
    (Ulyanov et al., 2016, "Instance Normalization: The Missing Ingredient for Fast Stylization",
    https://arxiv.org/abs/1607.08022).

    The function and weights of `keras.layers.GroupNormalization(groups=-1)`, computed with 4-D ops only (means
    over height and width), which LiteRT's GPU delegate runs; GroupNormalization reshapes to 5-D, which it does
    not. Statistics are taken in float32 under a mixed precision policy.

    Args:
        epsilon: added to the variance.

    Example:
    >>> InstanceNormalization()(keras.ops.ones((2, 8, 8, 3))).shape
    (2, 8, 8, 3)
    """

    def __init__(self, epsilon=1e-3, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = epsilon

    def build(self, input_shape):
        self.gamma = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="gamma")
        self.beta = self.add_weight(shape=(input_shape[-1],), initializer="zeros", name="beta")

    def call(self, x):
        x32 = ops.cast(x, "float32")
        mean = ops.mean(x32, axis=(1, 2), keepdims=True)
        variance = ops.mean(ops.square(x32 - mean), axis=(1, 2), keepdims=True)
        normalized = (x32 - mean) * ops.rsqrt(variance + self.epsilon)
        return ops.cast(normalized * ops.cast(self.gamma, "float32") + ops.cast(self.beta, "float32"),
                        self.compute_dtype)

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}
