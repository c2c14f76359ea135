import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_suite")
class MaskedSparseCrossentropy(keras.losses.Loss):
    """Sparse cross-entropy from logits with label smoothing, averaged over non-padding targets.

    With smoothing eps the target distribution is (1 - eps) on the true token plus eps spread
    uniformly over the vocabulary: loss = (1 - eps) * -log p_y + eps * mean_k(-log p_k)
    (Szegedy et al., 2016, "Rethinking the Inception Architecture", https://arxiv.org/abs/1512.00567;
    eps = 0.1 in Vaswani et al., 2017). Keras' SparseCategoricalCrossentropy has no smoothing.

    Args:
        label_smoothing: eps in [0, 1).
        pad_id: target id that contributes nothing (and is not counted in the mean).

    Example:
    >>> MaskedSparseCrossentropy(0.1)([[5, 3, 0]], logits)   # mean over the 2 real tokens
    """

    def __init__(self, label_smoothing=0.1, pad_id=0, name="masked_sparse_crossentropy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.label_smoothing = label_smoothing
        self.pad_id = pad_id

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, "int32")
        log_probs = ops.log_softmax(ops.cast(y_pred, "float32"), axis=-1)
        true = -ops.take_along_axis(log_probs, ops.expand_dims(y_true, -1), axis=-1)[..., 0]
        uniform = -ops.mean(log_probs, axis=-1)
        loss = (1.0 - self.label_smoothing) * true + self.label_smoothing * uniform
        mask = ops.cast(ops.not_equal(y_true, self.pad_id), "float32")
        # The default reduction divides by every position; rescale so the mean is over real tokens.
        scale = ops.cast(ops.size(mask), "float32") / ops.maximum(ops.sum(mask), 1.0)
        return loss * mask * scale

    def get_config(self):
        return {**super().get_config(), "label_smoothing": self.label_smoothing, "pad_id": self.pad_id}
