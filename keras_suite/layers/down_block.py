import keras

from keras_suite.layers.conv_block import ConvBlock


@keras.saving.register_keras_serializable(package="keras_suite")
class DownBlock(keras.layers.Layer):
    """U-Net contracting step: a ConvBlock whose output is kept as the skip, then 2x2 max pooling.

    Ronneberger et al., 2015, "U-Net", https://arxiv.org/abs/1505.04597.

    Args:
        filters: channels of the ConvBlock.
        batch_norm: batch norm inside the ConvBlock.
        dropout: dropout rate of the ConvBlock.

    Returns `(skip, pooled)`.

    Example:
    >>> skip, pooled = DownBlock(8)(keras.ops.zeros((1, 32, 32, 3)))
    >>> skip.shape, pooled.shape
    ((1, 32, 32, 8), (1, 16, 16, 8))
    """

    def __init__(self, filters, batch_norm=True, dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        self.filters = filters
        self.batch_norm = batch_norm
        self.dropout = dropout
        self.conv = ConvBlock(filters, batch_norm=batch_norm, dropout=dropout, dtype=self.dtype_policy)
        self.pool = keras.layers.MaxPooling2D(2, dtype=self.dtype_policy)

    def build(self, input_shape):
        self.conv.build(input_shape)
        self.pool.build(self.conv.compute_output_shape(input_shape))

    def call(self, inputs, training=None):
        skip = self.conv(inputs, training=training)
        return skip, self.pool(skip)

    def compute_output_shape(self, input_shape):
        skip = self.conv.compute_output_shape(input_shape)
        return skip, self.pool.compute_output_shape(skip)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "batch_norm": self.batch_norm,
                "dropout": self.dropout}
