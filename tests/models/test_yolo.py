import numpy as np
import pytest

from keras_suite.detection.grid import AnchorGrid
from keras_suite.models.yolo import build_yolo
from keras_suite.testing import assert_keras_roundtrip

ANCHORS = [[(0.1, 0.15), (0.15, 0.2)], [(0.2, 0.3), (0.3, 0.4)]]


@pytest.mark.parametrize("backbone", ["csp", "mobilenet"])
def test_yolo_model_matches_the_grid(backbone, tmp_path):
    model = build_yolo(64, 10, anchors_per_scale=2, strides=(16, 32), backbone=backbone, width=8)
    grid = AnchorGrid(64, (16, 32), ANCHORS)
    x = np.random.default_rng(0).uniform(0, 255, (2, 64, 64, 3)).astype("float32")
    assert model.predict(x, verbose=0).shape == (2, grid.positions, 15)
    assert_keras_roundtrip(model, x, tmp_path, atol=1e-5)
    with pytest.raises(ValueError, match="ascending subset"):
        build_yolo(64, 10, anchors_per_scale=2, strides=(32, 16))
    with pytest.raises(ValueError, match="divisible"):
        build_yolo(72, 10, anchors_per_scale=2, strides=(16, 32))


def test_head_starts_at_the_object_and_class_prior():
    """With zero features the head outputs its biases: P(object) is the share of positions holding an
    object (objects_per_image spread over the scales), P(class) is 1 / C."""
    model = build_yolo(64, 10, anchors_per_scale=2, strides=(16, 32), width=8, objects_per_image=3.0)
    grid = AnchorGrid(64, (16, 32), ANCHORS)
    for scale, stride in enumerate((16, 32)):
        bias = model.get_layer(f"head{stride}").bias.numpy().reshape(2, 15)
        cells = (64 // stride) ** 2
        np.testing.assert_allclose(1 / (1 + np.exp(-bias[:, 4])), 1.5 / (cells * 2), rtol=1e-5)
        np.testing.assert_allclose(1 / (1 + np.exp(-bias[:, 5:])), 0.1, rtol=1e-5)
        np.testing.assert_array_equal(bias[:, :4], 0.0)
    assert grid.positions == 4 * 4 * 2 + 2 * 2 * 2

