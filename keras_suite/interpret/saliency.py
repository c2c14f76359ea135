"""Which pixels a model's output depends on, for one input: vanilla gradients (Simonyan et al., 2014, "Deep Inside
Convolutional Networks", https://arxiv.org/abs/1312.6034), SmoothGrad (Smilkov et al., 2017,
https://arxiv.org/abs/1706.03825: gradients averaged over noisy copies) and integrated gradients (Sundararajan et
al., 2017, "Axiomatic Attribution for Deep Networks", https://arxiv.org/abs/1703.01365: the gradient integrated
along the straight path from a baseline, so the attributions add up to f(x) - f(baseline)).

`f` maps images (B, H, W, C) float32 in 0-255 to one number per image (a class score, an embedding distance)."""

import numpy as np
import tensorflow as tf


def gradients(f, images):
    """d f / d x for each image (float32, the images' shape)."""
    x = tf.convert_to_tensor(np.asarray(images, np.float32))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = f(x)
    return tape.gradient(y, x).numpy()


def smoothgrad(f, images, samples=25, noise=0.15, seed=0):
    """The gradient averaged over `samples` copies with Gaussian noise of `noise` times the pixel range (255)."""
    rng = np.random.default_rng(seed)
    images = np.asarray(images, np.float32)
    total = np.zeros_like(images)
    for _ in range(samples):
        total += gradients(f, images + rng.normal(0, noise * 255.0, images.shape).astype(np.float32))
    return total / samples


def integrated_gradients(f, images, baseline, steps=64):
    """(x - baseline) times the mean gradient on the path baseline -> x (trapezoid rule over `steps` intervals):
    attributions whose sum approaches f(x) - f(baseline) as `steps` grows."""
    images, baseline = np.asarray(images, np.float32), np.asarray(baseline, np.float32)
    alphas = np.linspace(0.0, 1.0, steps + 1, dtype=np.float32)
    weights = np.full(steps + 1, 1.0 / steps, np.float32)
    weights[[0, -1]] /= 2
    total = np.zeros_like(images)
    for alpha, weight in zip(alphas, weights):
        total += weight * gradients(f, baseline + alpha * (images - baseline))
    return (images - baseline) * total


def blurred(images, sigma=8.0):
    """A Gaussian-blurred copy (sigma in pixels; the kernel cut at 3 sigma, or at the image's side): the baseline that
    keeps colours but drops the detail."""
    images = np.asarray(images, np.float32)
    radius = min(int(3 * sigma), min(images.shape[1:3]) - 1)
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    taps = (taps / taps.sum()).astype(np.float32)
    x = tf.constant(images)
    channels = images.shape[-1]
    for kernel in (taps[:, None], taps[None, :]):
        k = tf.tile(tf.constant(kernel)[:, :, None, None], [1, 1, channels, 1])
        pad = [[0, 0], [radius if kernel.shape[0] > 1 else 0] * 2, [radius if kernel.shape[1] > 1 else 0] * 2, [0, 0]]
        x = tf.nn.depthwise_conv2d(tf.pad(x, pad, "SYMMETRIC"), k, [1, 1, 1, 1], "VALID")
    return x.numpy()


def heat(attributions):
    """Per-pixel magnitude (B, H, W) in [0, 1]: |attribution| summed over channels, over its 99th percentile."""
    magnitude = np.abs(np.asarray(attributions)).sum(axis=-1)
    top = np.percentile(magnitude.reshape(len(magnitude), -1), 99, axis=1)[:, None, None]
    return np.clip(magnitude / np.maximum(top, 1e-12), 0, 1)
