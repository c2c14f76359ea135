"""Language-model metrics from the mean per-token cross-entropy (nats): perplexity and bits per character."""

import math

import keras
from keras import ops


class _TokenCrossEntropy(keras.metrics.Mean):
    def __init__(self, from_logits=True, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.from_logits = from_logits

    def update_state(self, y_true, y_pred, sample_weight=None):
        ce = keras.losses.sparse_categorical_crossentropy(y_true, y_pred, from_logits=self.from_logits)
        return super().update_state(ce, sample_weight)

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
        return ops.exp(super().result())


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
        return super().result() / math.log(2.0)
