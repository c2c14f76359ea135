import numpy as np
import pytest

from keras_suite.models.embedding import build_embedding
from keras_suite.testing import assert_keras_roundtrip


@pytest.mark.parametrize("backbone", ["mobilenet", "inception_resnet"])
def test_embedding_is_unit_length_and_round_trips(backbone, tmp_path):
    model = build_embedding(32, dim=16, backbone=backbone, width=8, depths=(1, 1))
    x = np.random.default_rng(0).uniform(0, 255, (3, 32, 32, 3)).astype("float32")
    e = model.predict(x, verbose=0)
    assert e.shape == (3, 16)
    np.testing.assert_allclose(np.linalg.norm(e, axis=1), 1.0, atol=1e-5)
    assert_keras_roundtrip(model, x, tmp_path, atol=1e-5)


def test_embedding_refuses_bad_settings():
    with pytest.raises(ValueError, match="backbone"):
        build_embedding(32, backbone="vgg")
    with pytest.raises(ValueError, match="too small"):
        build_embedding(16, depths=(1, 1, 1, 1))
    with pytest.raises(ValueError, match="dim"):
        build_embedding(32, dim=1)

