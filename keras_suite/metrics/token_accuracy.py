"""Token accuracy over the real (non-padding) positions of padded target sequences."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_suite")
class MaskedAccuracy(keras.metrics.Mean):
    """Share of target tokens whose arg-max prediction is right, padding positions left out.

    The teacher-forced token accuracy of sequence models (Vaswani et al., 2017, "Attention Is All
    You Need", https://arxiv.org/abs/1706.03762, report it beside BLEU).

    Args:
        pad_id: the padding id in the targets.

    Example:
    >>> m = MaskedAccuracy(); m.update_state([[5, 3, 0]], logits); m.result()   # over 2 tokens
    """

    def __init__(self, pad_id=0, name="token_accuracy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.pad_id = pad_id

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = ops.cast(y_true, "int32")
        correct = ops.cast(ops.equal(ops.cast(ops.argmax(y_pred, axis=-1), "int32"), y_true), self.dtype)
        weight = ops.cast(ops.not_equal(y_true, self.pad_id), self.dtype)
        if sample_weight is not None:
            weight = weight * ops.cast(sample_weight, self.dtype)
        return super().update_state(correct, weight)

    def get_config(self):
        return {**super().get_config(), "pad_id": self.pad_id}
