import keras
import numpy as np
import pytest

from keras_suite.losses import CEDiceLoss, DiceLoss, SparseFocalLoss
from keras_suite.metrics import MeanDice
from keras_suite.testing import assert_config_roundtrip

# Hand-made 2x2 case: truth [[0,0],[1,1]], prediction [[0,1],[1,1]].
TRUTH = np.array([[[0], [0]], [[1], [1]]])[None]
PRED = np.eye(2, dtype="float32")[np.array([[0, 1], [1, 1]])][None]


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
    weighted = CEDiceLoss(ce_weight=2.0, dice_weight=0.5)(TRUTH, probs)
    assert float(weighted) == pytest.approx(2 * ce + 0.5 * dice, rel=1e-5)
    assert_config_roundtrip(CEDiceLoss(ce_weight=2.0))


def test_losses_and_metrics_survive_keras_file(tmp_path):
    inp = keras.Input((4, 4, 3))
    model = keras.Model(inp, keras.layers.Conv2D(2, 1, activation="softmax")(inp))
    model.compile(loss=CEDiceLoss(), metrics=[MeanDice(2, sparse_y_pred=False)])
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    assert isinstance(loaded.loss, CEDiceLoss)

