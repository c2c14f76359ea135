import keras
from keras import ops

from keras_suite.losses.dice import soft_dice


@keras.saving.register_keras_serializable(package="keras_suite")
class CEDiceLoss(keras.losses.Loss):
    """`ce_weight * CE + dice_weight * (1 - soft Dice)`: pixel-wise accuracy plus region overlap.

    The combination used by nnU-Net (Isensee et al., 2021, https://arxiv.org/abs/1809.10486).

    Args:
        ce_weight: weight of sparse categorical cross-entropy.
        dice_weight: weight of the soft Dice loss.
        smooth: Dice smoothing.

    Example:
    >>> CEDiceLoss()(labels, probabilities)
    """

    def __init__(self, ce_weight=1.0, dice_weight=1.0, smooth=1.0, name="ce_dice_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        self.ce_weight = ce_weight
        self.dice_weight = dice_weight
        self.smooth = smooth

    def call(self, y_true, y_pred):
        ce = keras.losses.sparse_categorical_crossentropy(y_true, y_pred)
        ce = ops.mean(ops.reshape(ce, (ops.shape(ce)[0], -1)), axis=-1)
        return self.ce_weight * ce + self.dice_weight * (1.0 - soft_dice(y_true, y_pred, self.smooth))

    def get_config(self):
        return {**super().get_config(), "ce_weight": self.ce_weight, "dice_weight": self.dice_weight,
                "smooth": self.smooth}
