import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_suite.interpret.features import Visualizer, feature_layers, feature_model, most_active
from keras_suite.interpret.saliency import blurred, gradients, heat, integrated_gradients, smoothgrad
from keras_suite.models.autoencoder import build_autoencoder


def small_net(seed=0):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((16, 16, 3))
    x = keras.layers.Rescaling(1 / 255.0)(inputs)
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv1")(x)
    x = keras.layers.Conv2D(6, 3, strides=2, padding="same", activation="tanh", name="conv2")(x)
    y = keras.layers.Dense(1)(keras.layers.GlobalAveragePooling2D()(x))
    return keras.Model(inputs, y)


def test_integrated_gradients_add_up_to_the_change_of_the_output():
    model = small_net()
    f = lambda x: model(x)[:, 0]  # noqa: E731
    images = np.random.default_rng(0).uniform(0, 255, (2, 16, 16, 3)).astype(np.float32)
    for baseline in (np.zeros_like(images), blurred(images, 3.0)):
        attr = integrated_gradients(f, images, baseline, steps=128)
        change = f(images).numpy() - f(tf.constant(baseline)).numpy()
        np.testing.assert_allclose(attr.sum(axis=(1, 2, 3)), change, rtol=0.01, atol=1e-4)


def test_smoothgrad_without_noise_is_the_gradient_and_heat_is_normalized():
    model = small_net(1)
    f = lambda x: model(x)[:, 0]  # noqa: E731
    images = np.random.default_rng(1).uniform(0, 255, (1, 16, 16, 3))
    np.testing.assert_allclose(smoothgrad(f, images, samples=3, noise=0.0), gradients(f, images), rtol=1e-5)
    h = heat(gradients(f, images))
    assert h.shape == (1, 16, 16) and h.min() >= 0 and h.max() == 1.0


def test_blur_keeps_a_flat_image_and_smooths_noise():
    flat = np.full((1, 20, 20, 3), 90.0, np.float32)
    np.testing.assert_allclose(blurred(flat, 2.0), flat, rtol=1e-5)
    noise = np.random.default_rng(0).uniform(0, 255, (1, 20, 20, 1)).astype(np.float32)
    assert blurred(noise, 2.0).std() < 0.3 * noise.std()


def test_gradient_ascent_raises_the_channel_monotonically_on_a_fixed_seed():
    features = feature_model(small_net(2), "conv2")
    visualizer = Visualizer(features, 16, steps=30, learning_rate=0.01, jitter=0, decorrelate=False, seed=3)
    images, trace = visualizer([0, 4])
    assert images.shape == (2, 16, 16, 3) and images.dtype == np.uint8 and trace.shape == (2, 31)
    assert (np.diff(trace, axis=1) >= -1e-6).all() and (trace[:, -1] > trace[:, 0]).all()


@pytest.mark.parametrize("decorrelate", [True, False])
def test_regularized_ascent_with_jitter_and_blur_still_raises_the_channel(decorrelate):
    features = feature_model(small_net(4), "conv1")
    visualizer = Visualizer(features, 16, steps=40, jitter=2, l2=0.1, tv=0.1, blur_every=8, decorrelate=decorrelate)
    _, trace = visualizer([1])
    assert trace[0, -1] > trace[0, 0]


def test_feature_layers_reach_into_an_encoder_and_rank_channels():
    model = build_autoencoder((16, 16, 1), code_dim=4, filters=4, depth=2)
    names = list(feature_layers(model))
    assert names[:2] == ["encoder/down0", "encoder/conv0"] and not any(n.startswith("decoder") for n in names)
    features = feature_model(model, "encoder/conv1")
    assert features.output_shape == (None, 4, 4, 8)
    ranked = most_active(features, np.random.default_rng(0).uniform(0, 255, (4, 16, 16, 1)), 3)
    assert len(set(ranked)) == 3 and all(0 <= c < 8 for c in ranked)
    assert "scale" not in feature_layers(small_net())
