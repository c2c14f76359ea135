import keras
from keras import ops


def soft_dice(y_true, y_pred, smooth=1.0):
    """Per-sample mean over classes of soft Dice between sparse labels and probabilities."""
    num_classes = ops.shape(y_pred)[-1]
    labels = ops.cast(ops.reshape(y_true, ops.shape(y_pred)[:-1]), "int32")
    onehot = ops.one_hot(labels, num_classes, dtype=y_pred.dtype)
    axes = tuple(range(1, len(y_pred.shape) - 1))
    intersection = ops.sum(onehot * y_pred, axis=axes)
    total = ops.sum(onehot, axis=axes) + ops.sum(y_pred, axis=axes)
    return ops.mean((2.0 * intersection + smooth) / (total + smooth), axis=-1)


@keras.saving.register_keras_serializable(package="keras_suite")
class DiceLoss(keras.losses.Loss):
    """Soft Dice loss `1 - mean_c (2|P∩G| + s) / (|P| + |G| + s)` for sparse labels.

    Milletari et al., 2016, "V-Net", https://arxiv.org/abs/1606.04797.

    Args:
        smooth: additive smoothing `s` that keeps empty classes finite.

    Example:
    >>> DiceLoss()(np.zeros((1, 2, 2, 1)), np.eye(2)[np.zeros((1, 2, 2), int)])  # perfect -> 0
    """

    def __init__(self, smooth=1.0, name="dice_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        self.smooth = smooth

    def call(self, y_true, y_pred):
        return 1.0 - soft_dice(y_true, y_pred, self.smooth)

    def get_config(self):
        return {**super().get_config(), "smooth": self.smooth}
