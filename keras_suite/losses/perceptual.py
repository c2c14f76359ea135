"""Perceptual losses of neural style transfer, on features of a fixed loss network (`VGGFeatures`):

J = content_weight * J_content + style_weight * J_style + tv_weight * J_tv

Gatys et al., 2016, "Image Style Transfer Using Convolutional Neural Networks" (CVPR); Johnson et al.,
2016, "Perceptual Losses for Real-Time Style Transfer and Super-Resolution",
https://arxiv.org/abs/1603.08155.
"""

import keras
from keras import ops


def gram_matrix(features):
    """(N, H, W, C) -> (N, C, C): channel correlations averaged over the H x W positions."""
    features = ops.cast(features, "float32")
    shape = ops.shape(features)
    flat = ops.reshape(features, (shape[0], -1, shape[-1]))
    return ops.einsum("npc,npd->ncd", flat, flat) / ops.cast(shape[1] * shape[2], "float32")


def content_loss(features, target):
    """Mean squared difference of two feature maps (N, H, W, C) -> (N,)."""
    diff = ops.cast(features, "float32") - ops.cast(target, "float32")
    return ops.mean(ops.square(diff), axis=(1, 2, 3))


def style_loss(gram, target_gram):
    """Gatys' E_l = sum((G - A)^2) / (4 C^2) for Gram matrices averaged over positions, (N, C, C) -> (N,)."""
    return 0.25 * ops.mean(ops.square(gram - target_gram), axis=(1, 2))


def total_variation_loss(images):
    """Mean absolute difference between horizontal and between vertical neighbours, (N, H, W, 3) -> (N,)."""
    images = ops.cast(images, "float32")
    dy = ops.mean(ops.abs(images[:, 1:] - images[:, :-1]), axis=(1, 2, 3))
    dx = ops.mean(ops.abs(images[:, :, 1:] - images[:, :, :-1]), axis=(1, 2, 3))
    return dx + dy


class PerceptualLoss:
    """J for images in [0, 255] against content features and fixed style Gram matrices.

    Args:
        features: a `VGGFeatures` giving {layer: (N, H, W, C)}.
        content_layer: the layer compared with the content image.
        style_layers: {layer: weight}; the style term is the weighted sum of the layers' E_l.
        style_images: [(image (H, W, 3) in [0, 255], weight)]; several styles blend by weight.
        content_weight, style_weight, tv_weight: alpha, beta, gamma.
    """

    def __init__(self, features, content_layer, style_layers, style_images, content_weight=1.0, style_weight=1.0,
                 tv_weight=0.0):
        self.features, self.content_layer, self.style_layers = features, content_layer, dict(style_layers)
        self.content_weight, self.style_weight, self.tv_weight = content_weight, style_weight, tv_weight
        self.targets = []
        for image, weight in style_images:
            f = features(ops.convert_to_tensor(image, "float32")[None])
            self.targets.append(({layer: gram_matrix(f[layer]) for layer in self.style_layers}, float(weight)))

    def content_features(self, images):
        return self.features(images)[self.content_layer]

    def terms(self, images, content_target):
        """{"content", "style", "tv", "total"}, each (N,), of `images` against `content_target` features."""
        f = self.features(images)
        content = content_loss(f[self.content_layer], content_target)
        style = 0.0
        for grams, weight in self.targets:
            for layer, layer_weight in self.style_layers.items():
                style = style + weight * layer_weight * style_loss(gram_matrix(f[layer]), grams[layer])
        tv = total_variation_loss(images)
        total = self.content_weight * content + self.style_weight * style + self.tv_weight * tv
        return {"content": content, "style": style, "tv": tv, "total": total}


class StyleTransferLoss(keras.losses.Loss):
    """`PerceptualLoss` as a Keras loss for training a stylizer: y_true is the content image, y_pred the
    stylized one (both (N, H, W, 3) in [0, 255])."""

    def __init__(self, perceptual, name="style_transfer_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        self.perceptual = perceptual

    def call(self, y_true, y_pred):
        return self.perceptual.terms(y_pred, self.perceptual.content_features(y_true))["total"]
