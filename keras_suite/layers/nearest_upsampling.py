import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_suite")
class NearestUpsampling2D(keras.layers.Layer):
    """Nearest-neighbour upsampling by an integer factor, as `keras.layers.UpSampling2D` computes it, built from
    4-D concatenations and reshapes only.

    The feature-pyramid upsampling of YOLOv3 (Redmon & Farhadi, 2018, https://arxiv.org/abs/1804.02767) and FPN
    (Lin et al., 2017, https://arxiv.org/abs/1612.03144). `UpSampling2D` becomes a 5-D reshape and tile in
    TFLite, which LiteRT's GPU delegate refuses, and a resize op has no gradient under XLA; copying each column
    `factor` times along the channels and each row along the width, then reshaping, has neither problem and
    gives the same values.

    Example:
    >>> NearestUpsampling2D(2)(keras.ops.ones((1, 4, 5, 8))).shape
    (1, 8, 10, 8)
    """

    def __init__(self, factor=2, **kwargs):
        super().__init__(**kwargs)
        if int(factor) < 1:
            raise ValueError(f"factor must be a positive integer, got {factor}")
        self.factor = int(factor)

    def call(self, x):
        f = self.factor
        _, height, width, channels = x.shape
        columns = ops.reshape(ops.concatenate([x] * f, axis=-1), (-1, height, width * f, channels))
        return ops.reshape(ops.concatenate([columns] * f, axis=2), (-1, height * f, width * f, channels))

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        return (n, None if h is None else h * self.factor, None if w is None else w * self.factor, c)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}
