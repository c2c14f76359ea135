import keras


@keras.saving.register_keras_serializable(package="keras_suite")
class ConvBlock(keras.layers.Layer):
    """Two 3x3 convolutions, each followed by optional batch norm and an activation.

    The basic unit of U-Net (Ronneberger et al., 2015, "U-Net: Convolutional Networks for
    Biomedical Image Segmentation", https://arxiv.org/abs/1505.04597).

    Args:
        filters: output channels of both convolutions.
        kernel_size: convolution kernel size.
        batch_norm: add BatchNormalization after each convolution.
        dropout: spatial dropout rate after the block (0 disables it).
        activation: activation applied after each convolution.

    Example:
    >>> ConvBlock(16)(keras.ops.zeros((1, 32, 32, 3))).shape
    (1, 32, 32, 16)
    """

    def __init__(self, filters, kernel_size=3, batch_norm=True, dropout=0.0, activation="relu", **kwargs):
        super().__init__(**kwargs)
        self.filters = filters
        self.kernel_size = kernel_size
        self.batch_norm = batch_norm
        self.dropout = dropout
        self.activation = activation
        self.stack = []
        for _ in range(2):
            self.stack.append(keras.layers.Conv2D(filters, kernel_size, padding="same", use_bias=not batch_norm,
                                                    kernel_initializer="he_normal", dtype=self.dtype_policy))
            if batch_norm:
                self.stack.append(keras.layers.BatchNormalization(dtype=self.dtype_policy))
            self.stack.append(keras.layers.Activation(activation, dtype=self.dtype_policy))
        self.spatial_dropout = keras.layers.SpatialDropout2D(dropout, dtype=self.dtype_policy) if dropout else None

    def build(self, input_shape):
        shape = input_shape
        for layer in self.stack:
            layer.build(shape)
            shape = layer.compute_output_shape(shape)

    def call(self, inputs, training=None):
        x = inputs
        for layer in self.stack:
            x = layer(x, training=training)
        if self.spatial_dropout is not None:
            x = self.spatial_dropout(x, training=training)
        return x

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
                "batch_norm": self.batch_norm, "dropout": self.dropout, "activation": self.activation}
