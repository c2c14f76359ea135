import numpy as np
import pytest

from keras_suite.losses.perceptual import (
    PerceptualLoss,
    content_loss,
    gram_matrix,
    style_loss,
    total_variation_loss,
)
from keras_suite.models.vgg_features import VGGFeatures

LAYERS = ("block1_conv1", "block2_conv1", "block3_conv1")


@pytest.fixture(scope="module")
def vgg():
    return VGGFeatures(LAYERS, weights="random")


def test_gram_matrix_by_hand():
    f = np.arange(2 * 2 * 3, dtype=np.float32).reshape(1, 2, 2, 3)  # positions (0,1,2) (3,4,5) (6,7,8) (9,10,11)
    flat = f.reshape(4, 3)
    expected = np.array([[sum(flat[p, c] * flat[p, d] for p in range(4)) / 4 for d in range(3)] for c in range(3)])
    np.testing.assert_allclose(gram_matrix(f)[0], expected, rtol=1e-6)
    assert expected[0, 0] == (0 + 9 + 36 + 81) / 4


def test_content_style_and_tv_losses_by_hand():
    a, b = np.zeros((1, 2, 2, 1), np.float32), np.full((1, 2, 2, 1), 3.0, np.float32)
    np.testing.assert_allclose(content_loss(a, b), [9.0])
    g, t = np.array([[[1.0, 2.0], [2.0, 5.0]]], np.float32), np.zeros((1, 2, 2), np.float32)
    np.testing.assert_allclose(style_loss(g, t), [0.25 * (1 + 4 + 4 + 25) / 4])  # Gatys: sum / (4 C^2)
    image = np.zeros((1, 2, 3, 3), np.float32)
    image[0, :, 2] = 6.0  # rows [0 0 6] and, after the next line, [2 2 8]: mean |dx| = 3, mean |dy| = 2
    image[0, 1] += 2.0
    np.testing.assert_allclose(total_variation_loss(image), [3.0 + 2.0])


def test_perceptual_terms_vanish_at_their_targets(vgg):
    rng = np.random.default_rng(0)
    content, style = rng.uniform(0, 255, (2, 32, 32, 3)).astype(np.float32)
    loss = PerceptualLoss(vgg, "block3_conv1", {n: 1.0 for n in LAYERS}, [(style, 1.0)], 1.0, 1.0, 0.5)
    at_style = loss.terms(style[None], loss.content_features(content[None]))
    at_content = loss.terms(content[None], loss.content_features(content[None]))
    assert float(at_style["style"][0]) < 1e-6 * float(at_content["style"][0])
    assert float(at_content["content"][0]) == 0.0
    np.testing.assert_allclose(at_content["total"], at_content["style"] + 0.5 * at_content["tv"], rtol=1e-6)
    # two styles blend by weight: the style term is the weighted sum of each style's term
    blend = PerceptualLoss(vgg, "block3_conv1", {n: 1.0 for n in LAYERS}, [(style, 0.25), (content, 2.0)])
    terms = blend.terms(content[None], loss.content_features(content[None]))
    np.testing.assert_allclose(terms["style"], 0.25 * at_content["style"], rtol=1e-5)

