import keras
from keras import ops

from keras_suite.layers.cached_multi_head_attention import CachedMultiHeadAttention, causal_mask
from keras_suite.layers.layer_normalization import LayerNormalization


@keras.saving.register_keras_serializable(package="keras_suite")
class TransformerDecoderBlock(keras.layers.Layer):
    """Masked (causal) self-attention, cross-attention over the encoder output and a feed-forward
    network, each with a residual connection and layer normalization (pre-norm or post-norm).

    Vaswani et al., 2017, "Attention Is All You Need", https://arxiv.org/abs/1706.03762.
    `call` runs a whole target sequence (teacher forcing) and returns the output and the
    cross-attention weights (batch, heads, T, S); `step` runs one token against key/value caches
    (see `CachedMultiHeadAttention`) for incremental decoding and gives the same numbers.

    Args:
        num_heads: attention heads; the model size must divide by it.
        ff_dim: hidden size of the feed-forward network.
        dropout: dropout after each sublayer and on attention weights.
        norm_first: pre-norm (True) or post-norm (False).

    Example:
    >>> y, weights = TransformerDecoderBlock(4, 64)(keras.ops.zeros((2, 5, 32)), keras.ops.zeros((2, 7, 32)))
    >>> y.shape, weights.shape
    ((2, 5, 32), (2, 4, 5, 7))
    """

    def __init__(self, num_heads, ff_dim, dropout=0.1, norm_first=True, **kwargs):
        super().__init__(**kwargs)
        self.num_heads, self.ff_dim, self.dropout, self.norm_first = num_heads, ff_dim, dropout, norm_first

    def build(self, x_shape, memory_shape):
        dim = x_shape[-1]
        if dim % self.num_heads:
            raise ValueError(f"model size {dim} does not divide into {self.num_heads} heads")
        policy = self.dtype_policy
        self.self_attention = CachedMultiHeadAttention(self.num_heads, dim // self.num_heads, dropout=self.dropout,
                                                       dtype=policy, name="self_attention")
        self.self_attention.build(x_shape, x_shape)
        self.cross_attention = CachedMultiHeadAttention(self.num_heads, dim // self.num_heads, dropout=self.dropout,
                                                        dtype=policy, name="cross_attention")
        self.cross_attention.build(x_shape, memory_shape)
        self.ff_in = keras.layers.Dense(self.ff_dim, activation="relu", dtype=policy, name="ff_in")
        self.ff_in.build(x_shape)
        self.ff_out = keras.layers.Dense(dim, dtype=policy, name="ff_out")
        self.ff_out.build((*x_shape[:-1], self.ff_dim))
        self.norms = [LayerNormalization(epsilon=1e-6, dtype=policy, name=f"norm_{i}") for i in range(3)]
        for norm in self.norms:
            norm.build(x_shape)
        self.drop = keras.layers.Dropout(self.dropout, dtype=policy)

    def _residual(self, x, norm, sublayer, training):
        """Returns (new x, extra outputs of the sublayer)."""
        if self.norm_first:
            out, *extra = sublayer(norm(x))
            return x + self.drop(out, training=training), extra
        out, *extra = sublayer(x)
        return norm(x + self.drop(out, training=training)), extra

    def _feed_forward(self, x, training):
        return self._residual(x, self.norms[2], lambda h: (self.ff_out(self.ff_in(h)),), training)[0]

    def call(self, x, memory, memory_mask=None, training=None):
        causal = causal_mask(ops.shape(x)[1])
        cross_mask = None if memory_mask is None else ops.expand_dims(ops.cast(memory_mask, "bool"), 1)
        x, _ = self._residual(x, self.norms[0], lambda h: (self.self_attention(
            h, h, attention_mask=causal, training=training),), training)
        x, (weights,) = self._residual(x, self.norms[1], lambda h: self.cross_attention(
            h, memory, attention_mask=cross_mask, return_attention_scores=True, training=training), training)
        return self._feed_forward(x, training), weights

    def step(self, x, slot, visible, self_cache, cross_cache, memory_mask=None):
        """One token x (batch, 1, d) -> (output, updated self-attention cache).

        `slot` (batch, T) float marks the token's position, `visible` (batch, T) float the positions it attends
        to (those written so far and its own); the caches are (keys, values) pairs (see `CachedMultiHeadAttention`),
        `memory_mask` (batch, S) marks the memory positions that are not padding. Float masks and tensors of at
        most 4 dimensions only, so a step exports to ops LiteRT's GPU delegate runs."""
        cross_mask = None if memory_mask is None else ops.expand_dims(ops.cast(memory_mask, x.dtype), 1)
        x, (self_cache,) = self._residual(x, self.norms[0], lambda h: self.self_attention(
            h, h, attention_mask=ops.expand_dims(visible, 1), cache=self_cache, cache_update_slot=slot), False)
        x, _ = self._residual(x, self.norms[1], lambda h: self.cross_attention(
            h, None, attention_mask=cross_mask, cache=cross_cache), False)
        return self._feed_forward(x, False), self_cache

    def compute_output_shape(self, x_shape, memory_shape, memory_mask_shape=None):
        return x_shape, (x_shape[0], self.num_heads, x_shape[1], memory_shape[1])

    def get_config(self):
        return {**super().get_config(), "num_heads": self.num_heads, "ff_dim": self.ff_dim, "dropout": self.dropout,
                "norm_first": self.norm_first}
