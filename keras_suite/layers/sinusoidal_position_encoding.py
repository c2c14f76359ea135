import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_suite")
class SinusoidalPositionEncoding(keras.layers.Layer):
    """Fixed sinusoidal position encodings for the positions of `inputs` (batch, T, d), to add to them.

    PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i+1) = cos(pos / 10000^(2i/d)) (Vaswani et al.,
    2017, "Attention Is All You Need", https://arxiv.org/abs/1706.03762). No weights; positions
    start at `start_index` so one-token decoding steps get the right position.

    Args:
        max_wavelength: the base (10000 in the paper).

    Example:
    >>> SinusoidalPositionEncoding()(keras.ops.zeros((2, 5, 8))).shape
    (2, 5, 8)
    """

    def __init__(self, max_wavelength=10000, **kwargs):
        super().__init__(**kwargs)
        self.max_wavelength = max_wavelength

    def call(self, inputs, start_index=0):
        length, dim = ops.shape(inputs)[1], ops.shape(inputs)[2]
        positions = ops.cast(ops.arange(length) + start_index, self.compute_dtype)
        pair = ops.cast(ops.arange(dim) // 2 * 2, self.compute_dtype)  # 2i for both columns of a pair
        angles = positions[:, None] / ops.power(ops.cast(self.max_wavelength, self.compute_dtype), pair / dim)
        encoding = ops.where(ops.arange(dim) % 2 == 0, ops.sin(angles), ops.cos(angles))
        return ops.broadcast_to(encoding[None], ops.shape(inputs))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "max_wavelength": self.max_wavelength}
