import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_suite")
class MeanDice(keras.metrics.MeanIoU):
    """Mean Dice coefficient `2TP / (2TP + FP + FN)` over classes, from the accumulated confusion matrix.

    Shares the confusion-matrix accumulation of `keras.metrics.MeanIoU`; classes absent from both
    labels and predictions are left out of the mean. Dice (1945) / Sørensen (1948); see Milletari et
    al., 2016, https://arxiv.org/abs/1606.04797 for its use in segmentation.

    Args: as `keras.metrics.MeanIoU` (num_classes, sparse_y_pred=False for probabilities, ...).

    Example:
    >>> m = MeanDice(num_classes=2, sparse_y_pred=False)
    >>> m.update_state(labels, probabilities); m.result()
    """

    def __init__(self, num_classes, name="mean_dice", **kwargs):
        super().__init__(num_classes=num_classes, name=name, **kwargs)

    def result(self):
        cm = ops.cast(self.total_cm, "float32")
        true_positives = ops.diagonal(cm)
        denominator = ops.sum(cm, axis=0) + ops.sum(cm, axis=1)
        present = ops.cast(denominator > 0, "float32")
        dice = ops.divide_no_nan(2.0 * true_positives, denominator)
        return ops.divide_no_nan(ops.sum(dice * present), ops.sum(present))
