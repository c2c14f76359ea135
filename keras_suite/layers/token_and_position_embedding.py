import math

import keras

from keras_suite.choices import POSITIONAL_ENCODINGS as POSITIONAL
from keras_suite.layers.learned_position_embedding import LearnedPositionEmbedding
from keras_suite.layers.sinusoidal_position_encoding import SinusoidalPositionEncoding


@keras.saving.register_keras_serializable(package="keras_suite")
class TokenAndPositionEmbedding(keras.layers.Layer):
    """Token embedding scaled by sqrt(d) plus a sinusoidal or learned position encoding.

    As in Vaswani et al., 2017, "Attention Is All You Need" (https://arxiv.org/abs/1706.03762),
    section 3.4. `start_index` offsets the positions for one-token decoding steps.

    Args:
        vocab_size: number of token ids.
        max_length: most positions (the learned table's size).
        dim: embedding size d.
        positional: "sinusoidal" or "learned".

    Example:
    >>> TokenAndPositionEmbedding(100, 32, 16)(keras.ops.ones((2, 7), "int32")).shape
    (2, 7, 16)
    """

    def __init__(self, vocab_size, max_length, dim, positional="sinusoidal", **kwargs):
        super().__init__(**kwargs)
        if positional not in POSITIONAL:
            raise ValueError(f"positional must be one of {', '.join(POSITIONAL)}, got '{positional}'")
        self.vocab_size, self.max_length, self.dim, self.positional = vocab_size, max_length, dim, positional
        self.token = keras.layers.Embedding(vocab_size, dim, dtype=self.dtype_policy, name="token")
        self.position = (SinusoidalPositionEncoding(dtype=self.dtype_policy, name="position")
                         if positional == "sinusoidal"
                         else LearnedPositionEmbedding(max_length, dtype=self.dtype_policy, name="position"))

    def build(self, input_shape):
        self.token.build(input_shape)
        self.position.build((*input_shape, self.dim))

    def call(self, tokens, start_index=0):
        x = self.token(tokens) * math.sqrt(self.dim)
        return x + self.position(x, start_index=start_index)

    def compute_output_shape(self, input_shape):
        return (*input_shape, self.dim)

    def get_config(self):
        return {**super().get_config(), "vocab_size": self.vocab_size, "max_length": self.max_length,
                "dim": self.dim, "positional": self.positional}
