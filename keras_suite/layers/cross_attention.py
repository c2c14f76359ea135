import keras
from keras import ops

from keras_suite.choices import ATTENTION_SCORES as SCORES


@keras.saving.register_keras_serializable(package="keras_suite")
class CrossAttention(keras.layers.Layer):
    """Attention of decoder states over encoder outputs, returning the context and the weights.

    "bahdanau": additive score `v . tanh(W_q q + W_k k)` (Bahdanau et al., 2015, "Neural Machine
    Translation by Jointly Learning to Align and Translate", https://arxiv.org/abs/1409.0473).
    "luong": multiplicative "general" score `q . W k` (Luong et al., 2015, "Effective Approaches
    to Attention-based Neural Machine Translation", https://arxiv.org/abs/1508.04025).
    The scoring and softmax are Keras' `AdditiveAttention` / `Attention`; this layer adds the
    learned projections. Padded memory positions (mask False, or 0 in a float mask) get zero weight.

    Args:
        units: size of the projected query and keys (bahdanau); luong projects keys to the query size.
        score: "bahdanau" or "luong".

    Example:
    >>> context, weights = CrossAttention(32)(keras.ops.zeros((2, 5, 16)), keras.ops.zeros((2, 7, 24)))
    >>> context.shape, weights.shape
    ((2, 5, 24), (2, 5, 7))
    """

    def __init__(self, units, score="bahdanau", **kwargs):
        super().__init__(**kwargs)
        if score not in SCORES:
            raise ValueError(f"score must be one of {', '.join(SCORES)}, got '{score}'")
        self.units = units
        self.score = score
        self.supports_masking = True  # the query's padding needs no handling here: the loss ignores it
        self.query_dense = None
        self.key_dense = None
        if score == "bahdanau":
            self.query_dense = keras.layers.Dense(units, use_bias=False, dtype=self.dtype_policy, name="query")
            self.attention = keras.layers.AdditiveAttention(use_scale=True, dtype=self.dtype_policy)
        else:
            self.attention = keras.layers.Attention(dtype=self.dtype_policy)

    def build(self, query_shape, memory_shape):
        query_units = self.units if self.score == "bahdanau" else query_shape[-1]
        self.key_dense = keras.layers.Dense(query_units, use_bias=False, dtype=self.dtype_policy, name="key")
        self.key_dense.build(memory_shape)
        if self.score == "bahdanau":
            self.query_dense.build(query_shape)
        keys = (*memory_shape[:-1], query_units)
        self.attention.build([(*query_shape[:-1], query_units), memory_shape, keys])

    def call(self, query, memory, memory_mask=None):
        keys = self.key_dense(memory)
        if self.score == "bahdanau":
            query = self.query_dense(query)
        if memory_mask is None or not keras.backend.is_float_dtype(memory_mask.dtype):
            mask = None if memory_mask is None else [None, memory_mask]
            return self.attention([query, memory, keys], mask=mask, return_attention_scores=True)
        # a float mask (1 keep, 0 padding): Keras' masking as arithmetic, so no bool tensor reaches an exported
        # graph (LiteRT's GPU delegate runs float tensors only); the same numbers
        scores = self.attention._calculate_scores(query, keys)
        padding = ops.expand_dims(1.0 - ops.cast(memory_mask, scores.dtype), -2)
        weights = ops.softmax(scores - (65504.0 if scores.dtype == "float16" else 1.0e9) * padding, axis=-1)
        return ops.matmul(weights, memory), weights

    def compute_mask(self, query, memory, memory_mask=None, previous_mask=None):
        return None

    def compute_output_shape(self, query_shape, memory_shape):
        return (*query_shape[:-1], memory_shape[-1]), (*query_shape[:-1], memory_shape[-2])

    def get_config(self):
        return {**super().get_config(), "units": self.units, "score": self.score}
