import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_suite")
class SparseFocalLoss(keras.losses.Loss):
    """Focal loss `-alpha (1 - p_t)^gamma log p_t` for sparse integer labels and probabilities.

    Lin et al., 2017, "Focal Loss for Dense Object Detection", https://arxiv.org/abs/1708.02002.

    Args:
        gamma: focusing parameter; 0 gives cross-entropy.
        alpha: constant weight of every term.

    Example:
    >>> SparseFocalLoss(gamma=0.0)(np.array([1]), np.array([[0.5, 0.5]]))  # log 2
    """

    def __init__(self, gamma=2.0, alpha=1.0, name="focal_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        self.gamma = gamma
        self.alpha = alpha

    def call(self, y_true, y_pred):
        labels = ops.cast(ops.reshape(y_true, ops.shape(y_pred)[:-1]), "int32")
        onehot = ops.one_hot(labels, ops.shape(y_pred)[-1], dtype=y_pred.dtype)
        p_t = ops.clip(ops.sum(onehot * y_pred, axis=-1), keras.config.epsilon(), 1.0)
        return -self.alpha * ops.power(1.0 - p_t, self.gamma) * ops.log(p_t)

    def get_config(self):
        return {**super().get_config(), "gamma": self.gamma, "alpha": self.alpha}
