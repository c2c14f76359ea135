import numpy as np
import pytest
import tensorflow as tf

from keras_suite.detection.grid import AnchorGrid
from keras_suite.detection.targets import assign_targets
from keras_suite.losses.yolo import YoloLoss, complete_iou, generalized_iou
from keras_suite.testing import assert_config_roundtrip, perfect_yolo_head

ANCHORS = [[(0.1, 0.1), (0.2, 0.2)], [(0.5, 0.5), (0.8, 0.4)]]
C = 3


@pytest.fixture
def grid():
    return AnchorGrid(64, (16, 32), ANCHORS)  # grids 4x4 and 2x2, 2 anchors each: 40 positions


def test_box_overlaps_by_hand():
    a = tf.constant([[0.0, 0, 1, 1], [0, 0, 1, 1]])
    b = tf.constant([[0.0, 0, 1, 1], [2, 0, 3, 1]])
    np.testing.assert_allclose(generalized_iou(a, b), [1.0, -1 / 3], atol=1e-6)
    # CIoU of (0,0,10,10) and (5,0,15,10): IoU 1/3 - centre distance 25 / hull diagonal 325
    np.testing.assert_allclose(complete_iou(tf.constant([[[0.0, 0, 10, 10]]]), tf.constant([[[5.0, 0, 15, 10]]])),
                               [[1 / 3 - 25 / 325]], atol=1e-5)


def test_yolo_loss_on_hand_made_predictions(grid):
    boxes = np.array([[0.3, 0.6, 0.18, 0.2], [0.7, 0.2, 0.75, 0.45]], np.float32)
    targets = assign_targets(boxes, [2, 0], grid, C).numpy()[None]
    loss = YoloLoss(64, (16, 32), ANCHORS, C)
    raw = perfect_yolo_head(grid, targets)
    parts = {k: float(v) for k, v in loss.components(targets, raw).items()}
    assert all(v < 1e-4 for v in parts.values()), parts
    assert float(loss(targets, raw)) < 1e-3

    wrong_class = raw.copy()
    wrong_class[0, 19, 5:] = [20.0, -20.0, -20.0]
    assert float(loss.components(targets, wrong_class)["class"]) == pytest.approx(40 / 3 / 2, rel=1e-3)

    shifted = raw.copy()
    shifted[0, 19, 0] += 1.0  # the centre moves right
    assert float(loss.components(targets, shifted)["box"]) > 0.01

    # A confident box on the wrong anchor over a ground truth box is ignored, not called background...
    near = raw.copy()
    near[0, 18, :4] = raw[0, 19, :4]
    near[0, 18, 2:4] = np.log([0.18 / 0.1, 0.2 / 0.1])  # decodes to the same box as position 19
    near[0, 18, 4] = 20.0
    assert float(loss.components(targets, near)["noobj"]) < 1e-4
    # ...unless the ignore threshold is 1.
    strict = YoloLoss(64, (16, 32), ANCHORS, C, ignore_iou=1.0)
    # 38 background positions
    assert float(strict.components(targets, near)["noobj"]) == pytest.approx(20.0 / 38, rel=1e-3)
    giou = YoloLoss(64, (16, 32), ANCHORS, C, box="giou")
    assert float(giou.components(targets, shifted)["box"]) > 0.01
    clone = assert_config_roundtrip(loss)
    assert float(clone(targets, raw)) == pytest.approx(float(loss(targets, raw)), abs=1e-6)

