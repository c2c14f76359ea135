import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_suite.data.style_images import CONTENT, STYLES, builtin_image, cover, random_crops, style_at
from keras_suite.errors import UserError
from keras_suite.layers import ResizeConv2D
from keras_suite.losses.perceptual import (
    PerceptualLoss,
    content_loss,
    gram_matrix,
    style_loss,
    total_variation_loss,
)
from keras_suite.models.stylizer import build_stylizer
from keras_suite.models.vgg_features import VGGFeatures
from keras_suite.style_optimization import _lbfgs_direction, optimize_image, preserve_colour

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


def test_style_images_and_crops():
    for name in CONTENT + STYLES:
        image = builtin_image(name)
        assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[-1] == 3, name
    assert style_at(builtin_image("starry_night"), 256, "starry_night").shape[1] == 256
    with pytest.raises(UserError, match="far smaller than size 512"):
        style_at(np.zeros((60, 80, 3), np.uint8), 512, "tiny.png")
    crops = random_crops([builtin_image("chelsea"), builtin_image("coffee")], 48, 5, seed=0)
    assert crops.shape == (5, 48, 48, 3)
    np.testing.assert_array_equal(crops, random_crops([builtin_image("chelsea"), builtin_image("coffee")], 48, 5, 0))
    assert cover(builtin_image("starry_night"), (30, 70)).shape == (30, 70, 3)
