import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="keras_suite")
class ResizeConv2D(keras.layers.Layer):
    """Upsampling without checkerboard artifacts: nearest-neighbour resize of `x` to the spatial size of
    `like`, then a convolution (Odena et al., 2016, "Deconvolution and Checkerboard Artifacts",
    https://distill.pub/2016/deconv-checkerboard/). Resizing to a reference, not by a factor, keeps odd
    input sizes exact through a stride-2 encoder.

    Example:
    >>> x, like = keras.ops.zeros((1, 5, 5, 8)), keras.ops.zeros((1, 9, 9, 4))
    >>> ResizeConv2D(4, 3)([x, like]).shape
    (1, 9, 9, 4)
    """

    def __init__(self, filters, kernel_size=3, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.kernel_size = filters, kernel_size
        self.conv = keras.layers.Conv2D(filters, kernel_size, padding="same", dtype=self.dtype_policy)

    def build(self, input_shapes):
        x_shape, like_shape = input_shapes
        self.conv.build((*like_shape[:-1], x_shape[-1]))

    def call(self, inputs):
        x, like = inputs
        # tf.image: keras.ops.image.resize wants a static size, and the reference's is dynamic
        resized = tf.image.resize(x, tf.shape(like)[1:3], method="nearest")
        return self.conv(tf.cast(resized, x.dtype))

    def compute_output_shape(self, input_shapes):
        return (*input_shapes[1][:-1], self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size}
