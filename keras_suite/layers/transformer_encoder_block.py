import keras
from keras import ops

from keras_suite.layers.cached_multi_head_attention import CachedMultiHeadAttention
from keras_suite.layers.layer_normalization import LayerNormalization


@keras.saving.register_keras_serializable(package="keras_suite")
class TransformerEncoderBlock(keras.layers.Layer):
    """Self-attention and a position-wise feed-forward network, each with a residual connection and
    layer normalization, before (pre-norm) or after (post-norm, as in the paper) the sublayer.

    Vaswani et al., 2017, "Attention Is All You Need", https://arxiv.org/abs/1706.03762; pre-norm:
    Xiong et al., 2020, "On Layer Normalization in the Transformer Architecture",
    https://arxiv.org/abs/2002.04745. Padded positions (mask False, or 0 in a float mask) are never attended to.

    Args:
        num_heads: attention heads; the model size must divide by it.
        ff_dim: hidden size of the feed-forward network.
        dropout: dropout after attention, feed-forward and on attention weights.
        norm_first: pre-norm (True) or post-norm (False).
        activation: of the feed-forward network's hidden layer (the paper's "relu"; GPT's "gelu").

    Example:
    >>> TransformerEncoderBlock(4, 64)(keras.ops.zeros((2, 7, 32)), keras.ops.ones((2, 7), "bool")).shape
    (2, 7, 32)
    """

    def __init__(self, num_heads, ff_dim, dropout=0.1, norm_first=True, activation="relu", **kwargs):
        super().__init__(**kwargs)
        self.num_heads, self.ff_dim, self.dropout, self.norm_first = num_heads, ff_dim, dropout, norm_first
        self.activation = activation

    def build(self, x_shape):
        input_shape = x_shape
        dim = input_shape[-1]
        if dim % self.num_heads:
            raise ValueError(f"model size {dim} does not divide into {self.num_heads} heads")
        policy = self.dtype_policy
        self.attention = CachedMultiHeadAttention(self.num_heads, dim // self.num_heads, dropout=self.dropout,
                                                  dtype=policy, name="self_attention")
        self.attention.build(input_shape, input_shape)
        self.ff_in = keras.layers.Dense(self.ff_dim, activation=self.activation, dtype=policy, name="ff_in")
        self.ff_in.build(input_shape)
        self.ff_out = keras.layers.Dense(dim, dtype=policy, name="ff_out")
        self.ff_out.build((*input_shape[:-1], self.ff_dim))
        self.norms = [LayerNormalization(epsilon=1e-6, dtype=policy, name=f"norm_{i}") for i in range(2)]
        for norm in self.norms:
            norm.build(input_shape)
        self.drop = keras.layers.Dropout(self.dropout, dtype=policy)

    def _residual(self, x, norm, sublayer, training):
        if self.norm_first:
            return x + self.drop(sublayer(norm(x)), training=training)
        return norm(x + self.drop(sublayer(x), training=training))

    def _feed_forward(self, x, training):
        return self._residual(x, self.norms[1], lambda h: self.ff_out(self.ff_in(h)), training)

    def _attention_mask(self, x, padding_mask):
        """What each position may attend to: every key that is not padding."""
        if padding_mask is None:
            return None
        floating = keras.backend.is_float_dtype(padding_mask.dtype)  # kept float: see the attention
        return ops.expand_dims(padding_mask if floating else ops.cast(padding_mask, "bool"), 1)

    def call(self, x, padding_mask=None, training=None):
        attention_mask = self._attention_mask(x, padding_mask)
        x = self._residual(x, self.norms[0], lambda h: self.attention(h, h, attention_mask=attention_mask,
                                                                       training=training), training)
        return self._feed_forward(x, training)

    def compute_output_shape(self, x_shape, padding_mask_shape=None):
        return x_shape

    def get_config(self):
        return {**super().get_config(), "num_heads": self.num_heads, "ff_dim": self.ff_dim, "dropout": self.dropout,
                "norm_first": self.norm_first, "activation": self.activation}
