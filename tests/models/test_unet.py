import keras
import numpy as np
import pytest

from keras_suite.layers import DownBlock
from keras_suite.models.unet import build_unet
from keras_suite.testing import assert_keras_roundtrip


def test_unet_shapes_and_roundtrip(tmp_path):
    model = build_unet(num_classes=3, image_size=32, depth=3, filters=4)
    x = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    probs = model.predict(x, verbose=0)
    assert probs.shape == (2, 32, 32, 3)
    np.testing.assert_allclose(probs.sum(-1), 1.0, atol=1e-5)
    assert [l.name for l in model.layers if isinstance(l, DownBlock)] == ["down_0", "down_1", "down_2"]
    assert_keras_roundtrip(model, x, tmp_path)


def test_unet_rejects_indivisible_size():
    with pytest.raises(ValueError, match="divisible by 16"):
        build_unet(2, 40, depth=4)


def test_mobilenet_encoder_offline_falls_back(caplog):
    model = build_unet(num_classes=2, image_size=64, filters=8, encoder="mobilenet_v2", weights="imagenet")
    assert model.output_shape == (None, 64, 64, 2)
    model_none = build_unet(num_classes=2, image_size=64, filters=8, encoder="mobilenet_v2", weights=None)
    assert model_none.count_params() == model.count_params()


def test_mixed_precision_output_is_float32():
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        model = build_unet(num_classes=2, image_size=16, depth=2, filters=4)
        assert model.output.dtype == "float32"
        assert model.get_layer("down_0").compute_dtype == "float16"
    finally:
        keras.mixed_precision.set_global_policy("float32")

