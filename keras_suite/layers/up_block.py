import keras

from keras_suite.layers.conv_block import ConvBlock


@keras.saving.register_keras_serializable(package="keras_suite")
class UpBlock(keras.layers.Layer):
    """U-Net expanding step: 2x2 transposed convolution, concatenation with the skip, ConvBlock.

    Ronneberger et al., 2015, "U-Net", https://arxiv.org/abs/1505.04597.

    Args:
        filters: channels of the transposed convolution and the ConvBlock.
        batch_norm: batch norm inside the ConvBlock.
        dropout: dropout rate of the ConvBlock.

    Called on `[x, skip]` where `skip` has twice the spatial size of `x`.

    Example:
    >>> UpBlock(8)([keras.ops.zeros((1, 8, 8, 16)), keras.ops.zeros((1, 16, 16, 8))]).shape
    (1, 16, 16, 8)
    """

    def __init__(self, filters, batch_norm=True, dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        self.filters = filters
        self.batch_norm = batch_norm
        self.dropout = dropout
        self.up = keras.layers.Conv2DTranspose(filters, 2, strides=2, padding="same", dtype=self.dtype_policy)
        self.concat = keras.layers.Concatenate(dtype=self.dtype_policy)
        self.conv = ConvBlock(filters, batch_norm=batch_norm, dropout=dropout, dtype=self.dtype_policy)

    def build(self, input_shape):
        x_shape, skip_shape = input_shape
        up_shape = self.up.compute_output_shape(x_shape)
        self.up.build(x_shape)
        self.conv.build((*skip_shape[:-1], up_shape[-1] + skip_shape[-1]))

    def call(self, inputs, training=None):
        x, skip = inputs
        return self.conv(self.concat([self.up(x), skip]), training=training)

    def compute_output_shape(self, input_shape):
        return (*input_shape[1][:-1], self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "batch_norm": self.batch_norm,
                "dropout": self.dropout}
