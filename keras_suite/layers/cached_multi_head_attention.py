import keras
from keras import ops


def causal_mask(length):
    """(1, length, length) bool: position i attends to positions <= i."""
    return ops.expand_dims(ops.arange(length)[:, None] >= ops.arange(length)[None, :], 0)


def cache_mask(cache_length, index):
    """(1, 1, cache_length) bool: the token written at `index` attends to cache positions <= index."""
    return ops.expand_dims(ops.arange(cache_length) <= index, 0)[None]


@keras.saving.register_keras_serializable(package="keras_suite")
class CachedMultiHeadAttention(keras.layers.MultiHeadAttention):
    """`keras.layers.MultiHeadAttention` that can attend over cached key/value projections.

    Incremental decoding (as in KerasHub's CachedMultiHeadAttention, and Vaswani et al., 2017,
    "Attention Is All You Need", https://arxiv.org/abs/1706.03762) projects only the new token's
    key and value each step and writes them into a fixed-size cache at `cache_update_index`, so a
    step costs O(T) instead of re-running the O(T^2) prefix. Without a cache it is the Keras layer.

    `cache` is (batch, 2, T_max, heads, key_dim): keys then values, already projected.
    - `cache_update_index` given: self-attention; the step's key/value go in at that position
      (selected with a one-hot mask, which converts to TFLite builtin ops) and the updated cache is
      returned. Mask out positions after the index with `attention_mask`.
    - `cache_update_index` None: a static cache (cross-attention over precomputed memory
      projections, see `project`); returned unchanged.

    Example:
    >>> mha = CachedMultiHeadAttention(num_heads=2, key_dim=4)
    >>> out, cache = mha(x_t, x_t, cache=cache, cache_update_index=3, attention_mask=mask)
    """

    def project(self, value, key=None):
        """The (batch, 2, S, heads, key_dim) key/value cache of a fixed memory."""
        return ops.stack([self._key_dense(value if key is None else key), self._value_dense(value)], axis=1)

    def call(self, query, value, key=None, attention_mask=None, cache=None, cache_update_index=None,
             return_attention_scores=False, training=None, **kwargs):
        if cache is None:
            return super().call(query, value, key, attention_mask=attention_mask,
                                return_attention_scores=return_attention_scores, training=training, **kwargs)
        if cache_update_index is not None:
            new = self.project(value, key)  # (batch, 2, 1, heads, key_dim)
            slot = ops.one_hot(cache_update_index, ops.shape(cache)[2], dtype=cache.dtype)[None, None, :, None, None]
            cache = cache * (1 - slot) + new * slot
        output, scores = self._compute_attention(self._query_dense(query), cache[:, 0], cache[:, 1], attention_mask,
                                                 training, return_attention_scores=True)
        output = self._output_dense(output)
        return (output, cache, scores) if return_attention_scores else (output, cache)
