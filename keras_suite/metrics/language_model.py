"""Language-model metrics from the mean per-token cross-entropy (nats): perplexity and bits per character.

The mean is over tokens, across every update: a batch of long sequences counts for more than one of short
ones, as the definition exp(-1/N sum log p) asks."""

import math

import keras
from keras import ops


class _TokenCrossEntropy(keras.metrics.Metric):
    def __init__(self, from_logits=True, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.from_logits = from_logits
        self.total = self.add_variable(shape=(), initializer="zeros", dtype="float32", name="total")
        self.count = self.add_variable(shape=(), initializer="zeros", dtype="float32", name="count")

    def update_state(self, y_true, y_pred, sample_weight=None):
        ce = ops.cast(keras.losses.sparse_categorical_crossentropy(y_true, y_pred, from_logits=self.from_logits),
                      "float32")
        weight = ops.ones_like(ce) if sample_weight is None else ops.broadcast_to(
            ops.cast(sample_weight, "float32"), ops.shape(ce))
        self.total.assign_add(ops.sum(ce * weight))
        self.count.assign_add(ops.sum(weight))

    def reset_state(self):
        self.total.assign(0.0)
        self.count.assign(0.0)

    def mean(self):
        return ops.divide_no_nan(self.total, self.count)

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits}


@keras.saving.register_keras_serializable(package="keras_suite")
class Perplexity(_TokenCrossEntropy):
    """`exp(mean cross-entropy)`: the effective number of equally likely next tokens.

    Jelinek et al., 1977, "Perplexity—a measure of the difficulty of speech recognition tasks".

    Args:
        from_logits: predictions are logits (True) or probabilities.

    Example:
    >>> m = Perplexity(); m.update_state(targets, logits); m.result()
    """

    def __init__(self, from_logits=True, name="perplexity", **kwargs):
        super().__init__(from_logits=from_logits, name=name, **kwargs)

    def result(self):
        return ops.exp(self.mean())


@keras.saving.register_keras_serializable(package="keras_suite")
class BitsPerCharacter(_TokenCrossEntropy):
    """Mean cross-entropy in bits (`nats / ln 2`), the usual unit of character-level models.

    Graves, 2013, "Generating Sequences With Recurrent Neural Networks", https://arxiv.org/abs/1308.0850.

    Args:
        from_logits: predictions are logits (True) or probabilities.

    Example:
    >>> m = BitsPerCharacter(); m.update_state(targets, logits); m.result()
    """

    def __init__(self, from_logits=True, name="bits_per_char", **kwargs):
        super().__init__(from_logits=from_logits, name=name, **kwargs)

    def result(self):
        return self.mean() / math.log(2.0)
