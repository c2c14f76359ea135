import keras
from keras import ops


def causal_mask(length):
    """(1, length, length) bool: position i attends to positions <= i."""
    return ops.expand_dims(ops.arange(length)[:, None] >= ops.arange(length)[None, :], 0)


def cache_mask(cache_length, index):
    """(1, 1, cache_length) bool: the token written at `index` attends to cache positions <= index."""
    return ops.expand_dims(ops.arange(cache_length) <= index, 0)[None]


def _is_float(mask):
    return mask is not None and keras.backend.is_float_dtype(mask.dtype)


def _write(cache, new, slot):
    """`cache` (batch, T, heads, dim) with `new` (batch, 1, heads, dim) at the position `slot` (batch, T) marks:
    an outer product by a matrix multiplication, so every tensor stays float and at most 4-D."""
    length, heads, dim = cache.shape[1], cache.shape[2], cache.shape[3]
    written = ops.matmul(ops.expand_dims(slot, -1), ops.reshape(new, (-1, 1, heads * dim)))
    kept = ops.reshape(1 - slot, (-1, length, 1, 1))
    return cache * kept + ops.reshape(written, (-1, length, heads, dim))


@keras.saving.register_keras_serializable(package="keras_suite")
class CachedMultiHeadAttention(keras.layers.MultiHeadAttention):
    """`keras.layers.MultiHeadAttention` that can attend over cached key/value projections.

    Incremental decoding (as in KerasHub's CachedMultiHeadAttention, and Vaswani et al., 2017,
    "Attention Is All You Need", https://arxiv.org/abs/1706.03762) projects only the new token's
    key and value each step and writes them into a fixed-size cache at `cache_update_index`, so a
    step costs O(T) instead of re-running the O(T^2) prefix. Without a cache it is the Keras layer.

    Two cache forms:
    - stacked, (batch, 2, T_max, heads, key_dim): keys then values, already projected (`project`). With
      `cache_update_index` given: self-attention; the step's key/value go in at that position (selected with a
      one-hot mask, which converts to TFLite builtin ops) and the updated cache is returned. Mask out positions
      after the index with `attention_mask`.
    - a (keys, values) pair, each (batch, T_max, heads, key_dim) (`project_pair`): tensors of at most 4
      dimensions, as LiteRT's GPU delegate requires. With `cache_update_slot` given (float (batch, T_max), 1 at
      the position to write): the step's key/value are written there by a matrix product, with no integer op.
    Without an update: a static cache (cross-attention over precomputed memory projections), returned unchanged.

    `attention_mask` may be float (1 attend, 0 not) as well as bool: a float mask stays float up to the softmax,
    so an exported graph holds no reshape of a bool tensor (the GPU delegate runs float tensors only).

    Example:
    >>> mha = CachedMultiHeadAttention(num_heads=2, key_dim=4)
    >>> out, cache = mha(x_t, x_t, cache=cache, cache_update_index=3, attention_mask=mask)
    """

    def project(self, value, key=None):
        """The (batch, 2, S, heads, key_dim) key/value cache of a fixed memory."""
        return ops.stack(self.project_pair(value, key), axis=1)

    def _masked_softmax(self, attention_scores, attention_mask=None):
        if not _is_float(attention_mask):
            return super()._masked_softmax(attention_scores, attention_mask)
        # Keras' masking as arithmetic (its softmax would compare the mask into a bool tensor): masked scores
        # far below the rest, masked weights zero; the same numbers
        mask = attention_mask
        for _ in range(len(attention_scores.shape) - len(mask.shape)):
            mask = ops.expand_dims(mask, axis=-len(self._attention_axes) * 2 - 1)
        big = 3e4 if attention_scores.dtype == "float16" else 1e9  # Keras' softmax mask values
        return ops.softmax(attention_scores - big * (1 - mask), axis=-1) * mask

    def project_pair(self, value, key=None):
        """The keys and the values (batch, S, heads, key_dim) of a fixed memory, as two tensors."""
        return self._key_dense(value if key is None else key), self._value_dense(value)

    def call(self, query, value, key=None, attention_mask=None, cache=None, cache_update_index=None,
             cache_update_slot=None, return_attention_scores=False, training=None, **kwargs):
        if cache is None and not _is_float(attention_mask):
            return super().call(query, value, key, attention_mask=attention_mask,
                                return_attention_scores=return_attention_scores, training=training, **kwargs)
        if cache is None:  # a float mask: Keras' own mask handling would turn it into bool tensors
            keys, values = self.project_pair(value, key)
        elif isinstance(cache, (tuple, list)):
            keys, values = cache
            if cache_update_slot is not None:
                new = self.project_pair(value, key)  # each (batch, 1, heads, key_dim)
                keys, values = (_write(c, n, cache_update_slot) for c, n in zip(cache, new))
            cache = (keys, values)
        else:
            if cache_update_index is not None:
                new = self.project(value, key)  # (batch, 2, 1, heads, key_dim)
                slot = ops.reshape(ops.one_hot(cache_update_index, ops.shape(cache)[2], dtype=cache.dtype),
                                   (1, 1, -1, 1, 1))
                cache = cache * (1 - slot) + new * slot
            keys, values = cache[:, 0], cache[:, 1]
        output, scores = self._compute_attention(self._query_dense(query), keys, values, attention_mask, training,
                                                 return_attention_scores=True)
        output = self._output_dense(output)
        if cache is None:
            return (output, scores) if return_attention_scores else output
        return (output, cache, scores) if return_attention_scores else (output, cache)
