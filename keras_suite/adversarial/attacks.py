"""Gradient attacks on images in 0-255: the fast gradient sign method (Goodfellow, Shlens & Szegedy, 2015,
"Explaining and Harnessing Adversarial Examples", https://arxiv.org/abs/1412.6572) and projected gradient descent
in an L-inf or L2 ball with a random start (Madry et al., 2018, "Towards Deep Learning Models Resistant to
Adversarial Attacks", https://arxiv.org/abs/1706.06083).

`loss(x)` gives one number per image; an untargeted attack raises it, a targeted one (whose loss measures the
distance to the target) lowers it. L2 budgets are given per pixel (the root mean square change), so one `eps`
means the same visible strength in either norm: the ball's radius is eps * sqrt(pixels x channels)."""

import numpy as np
import tensorflow as tf

NORMS = ("linf", "l2")


def _gradient(loss, x):
    with tf.GradientTape() as tape:
        tape.watch(x)
        total = tf.reduce_sum(loss(x))
    return tape.gradient(total, x)


def _flat_norm(t):
    return tf.sqrt(tf.reduce_sum(tf.square(t), axis=[1, 2, 3], keepdims=True))


def project(delta, eps, norm):
    """`delta` brought back into the ball of `eps` (per-pixel units)."""
    if norm == "linf":
        return tf.clip_by_value(delta, -eps, eps)
    radius = eps * float(np.sqrt(np.prod(delta.shape[1:])))
    return delta * tf.minimum(1.0, radius / (_flat_norm(delta) + 1e-12))


def fgsm(loss, images, eps, targeted=False):
    """One step of size `eps` along the sign of the loss's gradient (against it when `targeted`), in 0-255."""
    x = tf.convert_to_tensor(np.asarray(images, np.float32))
    direction = -1.0 if targeted else 1.0
    return tf.clip_by_value(x + direction * eps * tf.sign(_gradient(loss, x)), 0.0, 255.0).numpy()


def pgd(loss, images, eps, steps=10, step_size=None, norm="linf", random_start=True, targeted=False, seed=0):
    """`steps` gradient steps of `step_size` (default 2.5 eps / steps), each projected back into the `norm` ball of
    `eps` around the images and into 0-255; from a uniform random point of the ball with `random_start`."""
    if norm not in NORMS:
        raise ValueError(f"norm must be one of {', '.join(NORMS)}, got '{norm}'")
    x = tf.convert_to_tensor(np.asarray(images, np.float32))
    if eps == 0:
        return x.numpy()
    step_size = 2.5 * eps / steps if step_size is None else step_size
    rng = np.random.default_rng(seed)
    delta = tf.zeros_like(x)
    if random_start:
        if norm == "linf":
            delta = tf.constant(rng.uniform(-eps, eps, x.shape).astype(np.float32))
        else:
            direction = rng.normal(size=x.shape).astype(np.float32)
            direction /= np.sqrt((direction ** 2).sum(axis=(1, 2, 3), keepdims=True))
            dims = np.prod(x.shape[1:])
            radius = eps * np.sqrt(dims) * rng.uniform(size=(len(x), 1, 1, 1)) ** (1 / dims)
            delta = tf.constant((direction * radius).astype(np.float32))
        delta = tf.clip_by_value(x + delta, 0.0, 255.0) - x
    direction = -1.0 if targeted else 1.0
    for _ in range(steps):
        g = _gradient(loss, x + delta) * direction
        step = tf.sign(g) if norm == "linf" else g / (_flat_norm(g) + 1e-12) * float(np.sqrt(np.prod(x.shape[1:])))
        delta = project(delta + step_size * step, eps, norm)
        delta = tf.clip_by_value(x + delta, 0.0, 255.0) - x
    return (x + delta).numpy()
