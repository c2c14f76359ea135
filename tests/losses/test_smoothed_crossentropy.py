import numpy as np
import pytest

from keras_suite.losses import MaskedSparseCrossentropy
from keras_suite.testing import assert_config_roundtrip


def test_label_smoothed_loss_by_hand():
    logits = np.log(np.array([[[0.7, 0.2, 0.1], [0.1, 0.6, 0.3], [0.3, 0.3, 0.4]]], np.float32))
    targets = np.array([[0, 2, 0]])  # the last position is padding (id 0) -> left out
    eps = 0.1
    expected = np.mean([(1 - eps) * -np.log(p[t]) + eps * np.mean(-np.log(p))
                        for p, t in ((np.array([0.7, 0.2, 0.1]), 0), (np.array([0.1, 0.6, 0.3]), 2))])
    # The first target is the padding id too, so use pad_id=-1 there to check the smoothing alone.
    all_real = MaskedSparseCrossentropy(eps, pad_id=-1)(targets[:, :2], logits[:, :2])
    assert float(all_real) == pytest.approx(expected, rel=1e-5)
    padded = MaskedSparseCrossentropy(0.0)(np.array([[1, 2, 0]]), logits)
    assert float(padded) == pytest.approx(np.mean([-np.log(0.2), -np.log(0.3)]), rel=1e-5)
    assert_config_roundtrip(MaskedSparseCrossentropy(0.2))

