import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_suite")
class LearnedPositionEmbedding(keras.layers.Layer):
    """A trained vector per position (the learned alternative to sinusoids in Vaswani et al., 2017,
    "Attention Is All You Need", https://arxiv.org/abs/1706.03762; used by BERT and GPT), returned
    for the positions of `inputs` (batch, T, d) starting at `start_index`, to add to them.

    Args:
        max_length: the most positions a sequence may have.

    Example:
    >>> LearnedPositionEmbedding(16)(keras.ops.zeros((2, 5, 8))).shape
    (2, 5, 8)
    """

    def __init__(self, max_length, **kwargs):
        super().__init__(**kwargs)
        self.max_length = max_length

    def build(self, input_shape):
        self.embeddings = self.add_weight(shape=(self.max_length, input_shape[-1]), initializer="glorot_uniform",
                                          name="embeddings")

    def call(self, inputs, start_index=0):
        positions = ops.arange(ops.shape(inputs)[1]) + start_index
        return ops.broadcast_to(ops.take(self.embeddings, positions, axis=0)[None], ops.shape(inputs))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "max_length": self.max_length}
