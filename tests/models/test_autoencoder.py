import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_suite.layers import GaussianSampling, SparsityPenalty
from keras_suite.losses import BernoulliNLL
from keras_suite.metrics import PSNR, reconstruction_scores
from keras_suite.models.autoencoder import build_autoencoder, encode, is_variational


@pytest.mark.parametrize("kind", ["undercomplete", "sparse", "denoising", "variational"])
@pytest.mark.parametrize("upsampling", ["transpose", "resize"])
def test_every_kind_maps_images_to_pixels_in_0_1_through_a_code(kind, upsampling):
    model = build_autoencoder((16, 16, 3), kind, code_dim=5, filters=4, depth=2, upsampling=upsampling)
    x = np.random.default_rng(0).uniform(0, 255, (3, 16, 16, 3)).astype(np.float32)
    y = model.predict(x, verbose=0)
    assert y.shape == (3, 16, 16, 3) and y.min() >= 0 and y.max() <= 1
    assert encode(model, x).shape == (3, 5) and is_variational(model) == (kind == "variational")
    assert model.get_layer("decoder").input_shape == (None, 5)
    assert len(model.losses) == (kind in ("sparse", "variational"))  # a penalty only where the kind has one


def test_sizes_the_encoder_cannot_halve_are_refused():
    with pytest.raises(ValueError, match="divisible by 8"):
        build_autoencoder((20, 20, 1), depth=3)
    with pytest.raises(ValueError, match="kind must be one of"):
        build_autoencoder((16, 16, 1), kind="contractive")


def test_kl_term_is_the_closed_form_and_scales_with_beta_and_the_warmup_weight():
    mean = np.array([[1.0, -2.0], [0.0, 0.0]], np.float32)
    log_var = np.array([[0.0, math.log(4.0)], [0.0, 0.0]], np.float32)
    # KL(N(m, s^2) || N(0, 1)) = (m^2 + s^2 - 1 - log s^2) / 2 per dimension
    expected = [0.5 * (1 + 1 - 1 - 0) + 0.5 * (4 + 4 - 1 - math.log(4.0)), 0.0]
    np.testing.assert_allclose(GaussianSampling.kl(mean, log_var).numpy(), expected, rtol=1e-6)
    layer = GaussianSampling(beta=2.0, seed=0)
    np.testing.assert_array_equal(layer([mean, log_var]).numpy(), mean)  # inference: the mean
    np.testing.assert_allclose(float(layer.losses[0]), 2.0 * np.mean(expected), rtol=1e-6)
    layer.kl_weight.assign(0.25)
    layer([mean, log_var])
    np.testing.assert_allclose(float(layer.losses[0]), 0.5 * np.mean(expected), rtol=1e-6)


def test_training_draws_follow_the_posterior():
    layer = GaussianSampling(seed=1)
    mean, log_var = np.full((20_000, 2), [1.0, -3.0], np.float32), np.full((20_000, 2), math.log(0.25), np.float32)
    z = layer([mean, log_var], training=True).numpy()
    np.testing.assert_allclose(z.mean(axis=0), [1.0, -3.0], atol=0.02)
    np.testing.assert_allclose(z.std(axis=0), [0.5, 0.5], atol=0.02)


def test_sparsity_penalties_by_hand():
    code = np.array([[0.5, -1.0, 0.0], [1.5, 0.0, 2.0]], np.float32)
    l1 = SparsityPenalty("l1", weight=0.1)
    np.testing.assert_array_equal(l1(code).numpy(), code)  # passes the code through
    np.testing.assert_allclose(float(l1.losses[0]), 0.1 * (1.5 + 3.5) / 2, rtol=1e-6)
    rates = np.array([[0.2, 0.05], [0.0, 0.05]], np.float32)  # mean activations 0.1 and 0.05
    kl = SparsityPenalty("kl", weight=1.0, target=0.05)
    kl(rates)
    rho, rho_hat = 0.05, 0.1
    expected = rho * math.log(rho / rho_hat) + (1 - rho) * math.log((1 - rho) / (1 - rho_hat))  # unit 2 is on target
    np.testing.assert_allclose(float(kl.losses[0]), expected, rtol=1e-5)


def test_bernoulli_nll_sums_the_pixels_cross_entropy():
    y = np.array([[[[1.0], [0.0]], [[0.5], [1.0]]]], np.float32)
    p = np.array([[[[0.5], [0.25]], [[0.5], [0.9]]]], np.float32)
    expected = math.log(2) - math.log(0.75) + math.log(2) - math.log(0.9)  # x = 0.5 at p = 0.5: log 2
    np.testing.assert_allclose(BernoulliNLL(reduction=None)(y, p).numpy(), [expected], rtol=1e-5)


def test_psnr_and_ssim():
    clean = np.zeros((2, 16, 16, 1), np.float32)
    noisy = clean + 0.1
    m = PSNR()
    m.update_state(clean, noisy)
    np.testing.assert_allclose(float(m.result()), 20.0, rtol=1e-4)  # MSE 0.01: 10 log10(1 / 0.01)
    scores = reconstruction_scores(np.random.default_rng(0).uniform(size=(2, 8, 8, 3)),
                                   np.random.default_rng(0).uniform(size=(2, 8, 8, 3)))
    np.testing.assert_allclose(scores["ssim"], 1.0, rtol=1e-5)
    assert (scores["psnr"] == 100.0).all() and (scores["mse"] == 0).all()


def test_the_variational_model_learns_with_its_kl_term_in_the_loss():
    x = np.random.default_rng(0).integers(0, 2, (64, 8, 8, 1)).astype(np.float32) * 255
    model = build_autoencoder((8, 8, 1), "variational", code_dim=2, filters=4, depth=1, seed=0)
    model.compile(keras.optimizers.Adam(1e-2), BernoulliNLL())
    before = model.evaluate(x, x / 255.0, verbose=0)
    model.fit(x, x / 255.0, epochs=5, batch_size=16, verbose=0)
    after = model.evaluate(x, x / 255.0, verbose=0)
    nll = float(tf.reduce_mean(BernoulliNLL(reduction=None)(x / 255.0, model.predict(x, verbose=0))))
    assert after < before and after > nll  # the loss is the reconstruction term plus the (positive) KL
