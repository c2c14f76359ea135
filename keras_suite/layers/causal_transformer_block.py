import keras
from keras import ops

from keras_suite.layers.cached_multi_head_attention import cache_mask, causal_mask
from keras_suite.layers.transformer_encoder_block import TransformerEncoderBlock


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

    def _attention_mask(self, x, padding_mask):
        """The past and the position itself, less padding."""
        causal, padding = causal_mask(ops.shape(x)[1]), super()._attention_mask(x, padding_mask)
        return causal if padding is None else ops.logical_and(causal, padding)

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
        x, cache = self._attend_cached(x, cache, cache_mask(ops.shape(cache)[2], index), index)
        return self._feed_forward(x, False), cache
