import keras
import numpy as np
import pytest

from keras_suite.layers import ResizeConv2D
from keras_suite.models.stylizer import build_stylizer


@pytest.mark.parametrize("shape", [(33, 47), (17, 17), (5, 9), (64, 64)])
def test_stylizer_keeps_odd_sizes(shape):
    model = build_stylizer(4, 1)
    out = model(np.zeros((2, *shape, 3), np.float32))
    assert out.shape == (2, *shape, 3)
    assert float(keras.ops.min(out)) >= 0.0 and float(keras.ops.max(out)) <= 255.0


def test_resize_conv_and_stylizer_round_trip(tmp_path):
    layer = ResizeConv2D(5, 3)
    assert layer([np.zeros((1, 3, 4, 2)), np.zeros((1, 7, 9, 6))]).shape == (1, 7, 9, 5)
    model = build_stylizer(4, 2)
    x = np.random.default_rng(5).uniform(0, 255, (1, 21, 30, 3)).astype(np.float32)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    np.testing.assert_allclose(loaded(x), model(x), atol=1e-4)

