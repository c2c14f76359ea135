import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_suite.adversarial.attacks import fgsm, pgd


def classifier(seed=0):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((12, 12, 3))
    x = keras.layers.Rescaling(1 / 255.0)(inputs)
    x = keras.layers.Conv2D(8, 3, activation="relu")(x)
    x = keras.layers.Conv2D(8, 3, strides=2, activation="tanh")(x)
    return keras.Model(inputs, keras.layers.Dense(4)(keras.layers.Flatten()(x)))


def ce_loss(model, labels):
    return lambda x: keras.losses.sparse_categorical_crossentropy(labels, model(x), from_logits=True)


IMAGES = np.random.default_rng(0).uniform(0, 255, (6, 12, 12, 3)).astype(np.float32)
IMAGES[0, :4] = 0.0  # pixels at the edge of the range
IMAGES[1, :4] = 255.0


@pytest.mark.parametrize("norm", ["linf", "l2"])
def test_perturbations_stay_in_the_ball_and_the_pixel_range(norm):
    model = classifier()
    loss = ce_loss(model, np.arange(6) % 4)
    for eps in (2.0, 8.0):
        adv = pgd(loss, IMAGES, eps, steps=5, norm=norm, seed=1)
        delta = adv - IMAGES
        assert adv.min() >= 0 and adv.max() <= 255
        if norm == "linf":
            assert np.abs(delta).max() <= eps + 1e-3
        else:
            radius = eps * np.sqrt(12 * 12 * 3)
            assert np.sqrt((delta ** 2).sum(axis=(1, 2, 3))).max() <= radius * (1 + 1e-4)
    adv = fgsm(loss, IMAGES, 4.0)
    assert np.abs(adv - IMAGES).max() <= 4.0 + 1e-4 and adv.min() >= 0 and adv.max() <= 255
    np.testing.assert_array_equal(pgd(loss, IMAGES, 0.0), IMAGES)


def test_pgd_never_does_worse_than_fgsm_on_the_loss():
    for seed in range(3):
        model = classifier(seed)
        loss = ce_loss(model, np.arange(6) % 4)
        for eps in (2.0, 6.0):
            one = loss(tf.constant(fgsm(loss, IMAGES, eps))).numpy()
            many = loss(tf.constant(pgd(loss, IMAGES, eps, steps=20, seed=seed))).numpy()
            assert many.mean() >= one.mean() - 1e-4 and loss(tf.constant(IMAGES)).numpy().mean() < many.mean()


def test_a_targeted_attack_lowers_the_loss_towards_its_target():
    model = classifier(2)
    target = np.full(6, 3)
    loss = ce_loss(model, target)
    before = loss(tf.constant(IMAGES)).numpy()
    after = loss(tf.constant(pgd(loss, IMAGES, 8.0, steps=10, targeted=True))).numpy()
    assert (after < before).all()
    with pytest.raises(ValueError, match="norm must be one of"):
        pgd(loss, IMAGES, 1.0, norm="l1")
