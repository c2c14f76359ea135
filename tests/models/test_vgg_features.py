import keras
import numpy as np
import pytest

from keras_suite.errors import UserError
from keras_suite.models.vgg_features import VGGFeatures

LAYERS = ("block1_conv1", "block2_conv1", "block3_conv1")


@pytest.fixture(scope="module")
def vgg():
    return VGGFeatures(LAYERS, weights="random")


def test_vgg_preprocessing_and_weights_file(vgg, tmp_path):
    x = np.random.default_rng(1).uniform(0, 255, (2, 8, 8, 3)).astype(np.float32)
    np.testing.assert_allclose(VGGFeatures.preprocess(x), keras.applications.vgg19.preprocess_input(x.copy()),
                               atol=1e-4)
    path = tmp_path / "vgg19_notop.weights.h5"
    source = keras.applications.VGG19(weights=None, include_top=False)
    source.save_weights(path)
    from_file = VGGFeatures(("block2_conv1",), weights=str(path))
    assert from_file.weights == str(path)
    expected = keras.Model(source.input, source.get_layer("block2_conv1").output)(VGGFeatures.preprocess(x))
    np.testing.assert_allclose(from_file(x)["block2_conv1"], expected, rtol=1e-5, atol=1e-4)
    with pytest.raises(UserError, match="unknown VGG19 layer"):
        VGGFeatures(("block9_conv1",), weights="random")
    with pytest.raises(UserError, match="no such weights file"):
        VGGFeatures(LAYERS, weights=str(tmp_path / "missing.h5"))


def test_random_vgg_keeps_feature_scale(vgg):
    x = np.random.default_rng(2).uniform(0, 255, (1, 32, 32, 3)).astype(np.float32)
    deep = VGGFeatures(("block5_conv1",), weights="random")
    stds = [float(np.std(v)) for v in (*vgg(x).values(), *deep(x).values())]
    assert min(stds) > 0.1 * max(stds), stds  # He-normal: no layer's features vanish or explode
    np.testing.assert_allclose(vgg(x)["block1_conv1"], VGGFeatures(LAYERS, weights="random")(x)["block1_conv1"])

