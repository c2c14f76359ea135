import numpy as np
import pytest
import tensorflow as tf

from keras_suite.apps.style.optimization import _lbfgs_direction, optimize_image, preserve_colour
from keras_suite.losses.perceptual import (
    PerceptualLoss,
)
from keras_suite.models.vgg_features import VGGFeatures

LAYERS = ("block1_conv1", "block2_conv1", "block3_conv1")


@pytest.fixture(scope="module")
def vgg():
    return VGGFeatures(LAYERS, weights="random")


@pytest.mark.parametrize("optimizer", ["adam", "lbfgs"])
def test_a_few_steps_lower_the_total_loss(vgg, optimizer):
    rng = np.random.default_rng(3)
    content, style = rng.uniform(0, 255, (2, 32, 32, 3)).astype(np.float32)
    loss = PerceptualLoss(vgg, "block3_conv1", {n: 1.0 for n in LAYERS}, [(style, 1.0)], 1.0, 1e-3, 1.0)
    seen = []
    image, history = optimize_image(loss, content, 6, 10.0, optimizer, every=3, verbose=0,
                                    on_snapshot=lambda step, img, terms: seen.append(step))
    assert history[-1]["total"] < 0.9 * history[0]["total"]
    assert seen == [3, 6] and image.dtype == np.uint8 and image.shape == (32, 32, 3)


def test_lbfgs_direction_meets_the_secant_condition():
    """The two-loop recursion applies the BFGS inverse-Hessian H, which maps the newest gradient change
    to the newest step (H y = s); on a quadratic that is A^-1 y. With no history it is the gradient."""
    a = np.diag([1.0, 4.0, 9.0])
    xs = [np.array([1.0, 1, 1]), np.array([0.5, 0.2, 0.1]), np.array([0.3, 0.9, -0.2]), np.array([0.1, -0.3, 0.4])]
    pairs = [(b - a_, a @ (b - a_)) for a_, b in zip(xs, xs[1:])]
    s, y = pairs[-1]
    np.testing.assert_allclose(_lbfgs_direction(y, pairs), -s, rtol=1e-8, atol=1e-12)
    g = np.array([0.3, -2.0, 1.0])
    np.testing.assert_allclose(_lbfgs_direction(g, []), -g)
    assert _lbfgs_direction(g, pairs) @ g < 0  # a descent direction


def test_preserve_colour_keeps_content_chrominance():
    rng = np.random.default_rng(4)
    stylized, content = rng.uniform(40, 200, (2, 6, 6, 3)).astype(np.float32)
    out = preserve_colour(stylized, content)
    yuv = tf.image.rgb_to_yuv(out / 255.0)
    np.testing.assert_allclose(yuv[..., 0], tf.image.rgb_to_yuv(stylized / 255.0)[..., 0], atol=1e-4)
    np.testing.assert_allclose(yuv[..., 1:], tf.image.rgb_to_yuv(content / 255.0)[..., 1:], atol=1e-4)

