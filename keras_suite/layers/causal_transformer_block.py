import keras
from keras import ops

from keras_suite.layers.transformer_encoder_block import TransformerEncoderBlock


def causal_mask(length):
    """(1, length, length) bool: position i sees positions <= i."""
    return ops.expand_dims(ops.arange(length)[:, None] >= ops.arange(length)[None, :], 0)


@keras.saving.register_keras_serializable(package="keras_suite")
class CausalTransformerBlock(TransformerEncoderBlock):
    """A decoder-only (GPT) block: masked self-attention, so each position sees only itself and the past, and a
    feed-forward network, each with a residual connection and layer normalization.

    Radford et al., 2018, "Improving Language Understanding by Generative Pre-Training" (GPT); Vaswani et al.,
    2017, "Attention Is All You Need", https://arxiv.org/abs/1706.03762. `call` runs whole sequences (training);
    `prefill` runs a sequence and returns its key/value cache; `step` runs one token against the cache
    (see `CachedMultiHeadAttention`) and gives the numbers `call` gives at that position.

    Args: as `TransformerEncoderBlock`.

    Example:
    >>> block = CausalTransformerBlock(4, 128, activation="gelu")
    >>> block(keras.ops.zeros((2, 7, 32))).shape
    (2, 7, 32)
    >>> y, cache = block.prefill(keras.ops.zeros((2, 3, 32)), cache_length=16)  # cache (2, 2, 16, 4, 8)
    >>> y, cache = block.step(keras.ops.zeros((2, 1, 32)), 3, cache)
    """

    def call(self, x, padding_mask=None, training=None):
        mask = causal_mask(ops.shape(x)[1])
        if padding_mask is not None:
            mask = ops.logical_and(mask, ops.expand_dims(ops.cast(padding_mask, "bool"), 1))
        x = self._residual(x, self.norms[0], lambda h: self.attention(h, h, attention_mask=mask, training=training),
                           training)
        return self._feed_forward(x, training)

    def _attend_cached(self, x, cache, mask, index=None):
        """The self-attention sublayer over `cache` (written at `index` first when given) -> (x, cache)."""
        h = self.norms[0](x) if self.norm_first else x
        out, cache = self.attention(h, h, attention_mask=mask, cache=cache, cache_update_index=index)
        return (x + out if self.norm_first else self.norms[0](x + out)), cache

    def prefill(self, x, cache_length):
        """x (batch, L, d), L <= cache_length -> (output, cache (batch, 2, cache_length, heads, key_dim)) with the
        keys and values of positions 0..L-1 and zeros after."""
        length = ops.shape(x)[1]
        cache = self.attention.project(self.norms[0](x) if self.norm_first else x)
        x, _ = self._attend_cached(x, cache, causal_mask(length))
        cache = ops.pad(cache, [[0, 0], [0, 0], [0, cache_length - length], [0, 0], [0, 0]])
        return self._feed_forward(x, False), cache

    def step(self, x, index, cache):
        """One token x (batch, 1, d) at position `index` -> (output, cache with its key and value written)."""
        visible = ops.expand_dims(ops.arange(ops.shape(cache)[2]) <= index, 0)[None]  # (1, 1, cache length)
        x, cache = self._attend_cached(x, cache, visible, index)
        return self._feed_forward(x, False), cache
