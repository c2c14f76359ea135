import numpy as np
import pytest

from keras_suite.metrics import MaskedAccuracy


def test_masked_accuracy_by_hand():
    logits = np.eye(5, dtype="float32")[[[1, 2, 0, 0], [3, 3, 4, 0]]]  # predicts 1,2,0,0 and 3,3,4,0
    targets = np.array([[1, 4, 0, 0], [3, 3, 3, 0]])  # 2 + 3 real tokens, 1 + 2 right
    metric = MaskedAccuracy()
    metric.update_state(targets, logits)
    assert float(metric.result()) == pytest.approx(3 / 5)

