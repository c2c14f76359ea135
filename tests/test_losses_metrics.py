import keras
import numpy as np
import pytest

from keras_suite.losses import CEDiceLoss, DiceLoss, SparseFocalLoss
from keras_suite.metrics import MeanDice, confusion_scores
from keras_suite.testing import assert_config_roundtrip

# Hand-made 2x2 case: truth [[0,0],[1,1]], prediction [[0,1],[1,1]].
TRUTH = np.array([[[0], [0]], [[1], [1]]])[None]
PRED = np.eye(2, dtype="float32")[np.array([[0, 1], [1, 1]])][None]


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


def test_dice_loss():
    assert float(DiceLoss(smooth=0.0)(TRUTH, np.eye(2, dtype="float32")[TRUTH[..., 0]])) == pytest.approx(0.0, abs=1e-6)
    assert float(DiceLoss(smooth=0.0)(TRUTH, PRED)) == pytest.approx(1 - 11 / 15, abs=1e-6)
    probs = np.full((1, 2, 2, 2), 0.5, "float32")
    # each class: intersection 2*0.5 = 1, |P| = 2, |G| = 2 -> dice 2/4
    assert float(DiceLoss(smooth=0.0)(TRUTH, probs)) == pytest.approx(0.5, abs=1e-6)
    assert_config_roundtrip(DiceLoss(smooth=2.0))


def test_focal_loss_by_hand():
    y, p = np.array([[1]]), np.array([[[0.2, 0.8]]], "float32")
    assert float(SparseFocalLoss(gamma=0.0)(y, p)) == pytest.approx(-np.log(0.8), rel=1e-5)
    assert float(SparseFocalLoss(gamma=2.0)(y, p)) == pytest.approx(-(0.2 ** 2) * np.log(0.8), rel=1e-5)
    ce = keras.losses.SparseCategoricalCrossentropy()(TRUTH, np.clip(PRED, 0.1, 0.9))
    assert float(SparseFocalLoss(gamma=0.0)(TRUTH, np.clip(PRED, 0.1, 0.9))) == pytest.approx(float(ce), rel=1e-5)
    assert_config_roundtrip(SparseFocalLoss(gamma=1.5, alpha=0.25))


def test_ce_dice_is_weighted_sum():
    probs = np.clip(PRED, 0.1, 0.9)
    ce = float(keras.losses.SparseCategoricalCrossentropy()(TRUTH, probs))
    dice = float(DiceLoss()(TRUTH, probs))
    assert float(CEDiceLoss(ce_weight=2.0, dice_weight=0.5)(TRUTH, probs)) == pytest.approx(2 * ce + 0.5 * dice, rel=1e-5)
    assert_config_roundtrip(CEDiceLoss(ce_weight=2.0))


def test_losses_and_metrics_survive_keras_file(tmp_path):
    inp = keras.Input((4, 4, 3))
    model = keras.Model(inp, keras.layers.Conv2D(2, 1, activation="softmax")(inp))
    model.compile(loss=CEDiceLoss(), metrics=[MeanDice(2, sparse_y_pred=False)])
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    assert isinstance(loaded.loss, CEDiceLoss)
