import keras
import numpy as np
import pytest

from keras_suite.metrics import MeanDice, confusion_matrix, confusion_scores
from keras_suite.testing import assert_config_roundtrip

# Hand-made 2x2 case: truth [[0,0],[1,1]], prediction [[0,1],[1,1]].
TRUTH = np.array([[[0], [0]], [[1], [1]]])[None]
PRED = np.eye(2, dtype="float32")[np.array([[0, 1], [1, 1]])][None]


def test_confusion_matrix_by_hand():
    truth = np.array([[0, 0, 1], [2, 2, 1]], np.uint8)
    prediction = np.array([[0, 1, 1], [2, 0, 1]])
    np.testing.assert_array_equal(confusion_matrix(truth, prediction, 3), [[1, 1, 0], [0, 2, 0], [1, 0, 1]])


def test_confusion_scores_by_hand():
    cm = np.array([[1, 1], [0, 2]])  # rows truth, columns prediction
    s = confusion_scores(cm, ["bg", "fg"])
    assert s["per_class"]["bg"]["iou"] == pytest.approx(1 / 2)
    assert s["per_class"]["fg"]["iou"] == pytest.approx(2 / 3)
    assert s["per_class"]["bg"]["dice"] == pytest.approx(2 / 3)
    assert s["per_class"]["fg"]["dice"] == pytest.approx(4 / 5)
    assert s["mean_iou"] == pytest.approx(7 / 12)
    assert s["mean_dice"] == pytest.approx(11 / 15)
    assert s["pixel_accuracy"] == pytest.approx(3 / 4)


def test_confusion_scores_skip_absent_classes():
    s = confusion_scores(np.array([[4, 0, 0], [0, 0, 0], [0, 0, 2]]))
    assert np.isnan(s["per_class"]["1"]["iou"])
    assert s["mean_iou"] == 1.0 and s["mean_dice"] == 1.0


def test_keras_mean_iou_and_mean_dice_on_hand_made_masks():
    iou = keras.metrics.MeanIoU(2, sparse_y_pred=False)
    dice = MeanDice(2, sparse_y_pred=False)
    iou.update_state(TRUTH, PRED)
    dice.update_state(TRUTH, PRED)
    assert float(iou.result()) == pytest.approx(7 / 12, abs=1e-6)
    assert float(dice.result()) == pytest.approx(11 / 15, abs=1e-6)
    assert_config_roundtrip(dice)

