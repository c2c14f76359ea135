"""Optimization-based style transfer (Gatys et al., 2016, "Image Style Transfer Using Convolutional
Neural Networks"): the pixels of one image are optimized against a `PerceptualLoss`, by Adam or by
L-BFGS (Nocedal, 1980: two-loop recursion, backtracking line search), starting from the content image
plus optional noise. Colour preservation keeps the content's chrominance (Gatys et al., 2016,
"Preserving Color in Neural Artistic Style Transfer", https://arxiv.org/abs/1606.05897)."""

import math

import keras
import numpy as np
import tensorflow as tf

from keras_suite.choices import STYLE_OPTIMIZERS as OPTIMIZERS
from keras_suite.errors import UserError


def preserve_colour(stylized, content):
    """Luminance of `stylized` with the chrominance (YUV U, V) of `content`; uint8-range float images."""
    y = tf.image.rgb_to_yuv(tf.cast(stylized, tf.float32) / 255.0)[..., :1]
    uv = tf.image.rgb_to_yuv(tf.cast(content, tf.float32) / 255.0)[..., 1:]
    return tf.clip_by_value(tf.image.yuv_to_rgb(tf.concat([y, uv], -1)) * 255.0, 0.0, 255.0)


class NonFiniteLoss(UserError):
    """The loss became NaN or infinite; `step` names where."""

    def __init__(self, step):
        super().__init__(f"the loss became non-finite at step {step}; lower style.style_weight or "
                         f"stylize.learning_rate")
        self.step = step


def _lbfgs_direction(grad, history):
    """-H g by the two-loop recursion over [(s, y)] pairs, oldest first."""
    q, alphas = grad.copy(), []
    for s, y in reversed(history):
        a = s.dot(q) / y.dot(s)
        alphas.append(a)
        q -= a * y
    if history:
        s, y = history[-1]
        q *= s.dot(y) / y.dot(y)
    for (s, y), a in zip(history, reversed(alphas)):
        q += s * (a - y.dot(q) / y.dot(s))
    return -q


def optimize_image(loss, content, steps, learning_rate=5.0, optimizer="adam", noise=0.0, seed=0, every=0,
                   on_snapshot=None, history_size=10, verbose=1):
    """Optimize an image (H, W, 3) from `content` (in [0, 255]) for `steps` steps of `optimizer`.

    `loss` is a `PerceptualLoss` (its style targets already set). Every `every` steps (and at the
    end) `on_snapshot(step, image uint8, terms)` is called. Returns (image uint8, [terms per step]).
    A non-finite loss raises `NonFiniteLoss` after the last good snapshot was handed on.
    """
    if optimizer not in OPTIMIZERS:
        raise UserError(f"stylize.optimizer must be one of {', '.join(OPTIMIZERS)}, got '{optimizer}'")
    content = tf.convert_to_tensor(np.asarray(content, np.float32)[None])
    target = loss.content_features(content)
    rng = np.random.default_rng(seed)
    start = content + (rng.normal(0, noise, content.shape).astype(np.float32) if noise else 0.0)
    image = tf.Variable(tf.clip_by_value(start, 0.0, 255.0))

    @tf.function
    def value_and_grad(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            terms = loss.terms(x, target)
            total = tf.reduce_sum(terms["total"])
        return {k: tf.reduce_sum(v) for k, v in terms.items()}, tape.gradient(total, x)

    adam = keras.optimizers.Adam(learning_rate, beta_1=0.99, epsilon=0.1)
    progress = keras.utils.Progbar(steps, stateful_metrics=["total", "content", "style", "tv"], verbose=verbose)
    history, pairs, previous, cached = [], [], None, None
    for step in range(1, steps + 1):
        terms, grad = cached or value_and_grad(image)
        terms = {k: float(v) for k, v in terms.items()}
        if not all(math.isfinite(v) for v in terms.values()):
            raise NonFiniteLoss(step)
        if optimizer == "adam":
            adam.apply_gradients([(grad, image)])
            image.assign(tf.clip_by_value(image, 0.0, 255.0))
        else:
            previous, cached = _lbfgs_step(value_and_grad, image, terms["total"], grad, pairs, previous,
                                           history_size)
        history.append(terms)
        progress.update(step, [(k, terms[k]) for k in ("total", "content", "style", "tv")])
        if on_snapshot and (step == steps or (every and step % every == 0)):
            on_snapshot(step, np.asarray(image[0]).round().astype(np.uint8), terms)
    return np.asarray(image[0]).round().astype(np.uint8), history


def _lbfgs_step(value_and_grad, image, value, grad, pairs, previous, history_size):
    """One L-BFGS step on the flattened image, with an Armijo backtracking line search inside [0, 255].
    Returns ((x, g) before the step, (terms, gradient) at the accepted point, for the next step)."""
    x, g = image.numpy().ravel().astype(np.float64), grad.numpy().ravel().astype(np.float64)
    if previous is not None:
        s, y = x - previous[0], g - previous[1]
        if s.dot(y) > 1e-10:
            pairs.append((s, y))
            del pairs[:-history_size]
    direction = _lbfgs_direction(g, pairs)
    if direction.dot(g) >= 0:  # not a descent direction: restart from the gradient
        pairs.clear()
        direction = -g
    step = 1.0 if pairs else 1.0 / max(np.abs(g).max(), 1e-12)
    for _ in range(20):
        candidate = tf.constant(np.clip(x + step * direction, 0.0, 255.0).reshape(image.shape), tf.float32)
        terms, new_grad = value_and_grad(candidate)
        if float(terms["total"]) <= value + 1e-4 * g.dot(candidate.numpy().ravel() - x):
            break
        step *= 0.5
    image.assign(candidate)
    return (x, g), (terms, new_grad)
