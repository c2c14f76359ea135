"""Images for style transfer, all offline: content photos shipped in scikit-image and scikit-learn,
a public-domain painting shipped as a project asset (keras_suite/assets/ATTRIBUTION.md), textures
from scikit-image, user files and folders; and training crops from those, a folder or tfds coco."""

import functools
from pathlib import Path

import numpy as np
from PIL import Image

from keras_suite.choices import STYLE_CONTENT as CONTENT
from keras_suite.data.photos import photo
from keras_suite.data.sources import parse_source
from keras_suite.errors import UserError
from keras_suite.visuals.images import input_images, read_rgb

ASSETS = Path(__file__).resolve().parent.parent / "assets"
STYLES = ("starry_night", "brick", "grass", "gravel", "hubble_deep_field", "immunohistochemistry", "colorwheel")


@functools.lru_cache(maxsize=None)
def builtin_image(name):
    """A shipped image by name (CONTENT or STYLES), uint8 RGB."""
    if name == "starry_night":
        return read_rgb(ASSETS / "starry_night.jpg")
    if name not in CONTENT + STYLES:
        raise UserError(f"unknown built-in image '{name}'; choose from {', '.join(sorted(set(CONTENT + STYLES)))} "
                        f"or give a path")
    return photo(name)


def load_image(spec):
    """A built-in image name or an image file path -> uint8 RGB (H, W, 3)."""
    if spec in CONTENT + STYLES:
        return builtin_image(spec)
    return read_rgb(spec)


def resize_longer(image, size):
    """Resize so the longer side is `size`, keeping the aspect ratio."""
    h, w = image.shape[:2]
    scale = size / max(h, w)
    shape = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.asarray(Image.fromarray(image).resize(shape, Image.LANCZOS))


def cover(image, shape):
    """Resize to cover (H, W) = `shape` and crop the centre: a style image shown beside a result."""
    h, w = image.shape[:2]
    scale = max(shape[0] / h, shape[1] / w)
    size = (max(shape[1], round(w * scale)), max(shape[0], round(h * scale)))
    resized = np.asarray(Image.fromarray(image).resize(size, Image.LANCZOS))
    y, x = (resized.shape[0] - shape[0]) // 2, (resized.shape[1] - shape[1]) // 2
    return resized[y:y + shape[0], x:x + shape[1]]


def style_at(image, size, name, min_fraction=0.25):
    """A style image resized so its longer side is `size`; refused when it is far smaller (its longer side
    under `min_fraction` x size), since upscaling it that much would only teach blur."""
    longer = max(image.shape[:2])
    if longer < min_fraction * size:
        raise UserError(f"style image {name} is {image.shape[1]}x{image.shape[0]}, far smaller than size {size} "
                        f"(its longer side must be at least {int(np.ceil(min_fraction * size))} px); "
                        f"use a larger image or a smaller size")
    return resize_longer(image, size)


def content_images(source="builtin", data_dir=None, download=False, limit=0):
    """Content photos for training: builtin (the shipped photos), folder:<dir>, or tfds:coco/2017 (at most
    `limit` photos of a folder or tfds set; 0: all)."""
    src = parse_source(source, ("builtin",), ("folder", "tfds"))
    if src.kind == "builtin":
        return [builtin_image(n) for n in CONTENT]
    if src.kind == "folder":
        images = [read_rgb(p) for p in input_images(src.value)]
        return images[:limit] if limit else images
    import tensorflow_datasets as tfds

    try:
        ds = tfds.load(src.value, split="train", data_dir=data_dir, download=download)
    except Exception as e:  # noqa: BLE001 - tfds raises many kinds for a dataset that is not there
        raise UserError(f"cannot load tfds dataset '{src.value}' ({str(e).splitlines()[0][:160]}); prepare it "
                        f"first or set data.download=true") from None
    ds = ds.take(limit) if limit else ds
    return [np.asarray(example["image"]) for example in tfds.as_numpy(ds)]
