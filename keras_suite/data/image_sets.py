"""Unlabelled-or-labelled image sets for the autoencoder: the handwritten digits scikit-learn ships (1,797 real
8x8 scans of 0-16 grey levels, scaled up), procedural faces (labelled by identity), natural-texture patches cut
from scikit-image's photos (training from some photos, the test split from others), a folder of images, or a
tfds image dataset (mnist, fashion_mnist, cifar10...). Labels, where a set has them, colour the latent-space
plots."""

import dataclasses
from pathlib import Path

import numpy as np
import tensorflow as tf

from keras_suite.data.caption_sets import square
from keras_suite.data.faces import face_dataset
from keras_suite.data.photos import CALIBRATION_PHOTOS, HELD_OUT_PHOTOS, photo_crops
from keras_suite.data.pipeline import prefetched
from keras_suite.data.sources import parse_source
from keras_suite.errors import UserError
from keras_suite.visuals.images import IMAGE_SUFFIXES, image_files, read_rgb

BUILTIN = ("digits", "faces", "textures")
FACE_IDENTITIES = 10


@dataclasses.dataclass
class ImageSet:
    """uint8 images (N, S, S, C) and their int labels (N,), -1 where unknown."""

    images: np.ndarray
    labels: np.ndarray

    def __len__(self):
        return len(self.images)

    def take(self, count):
        return ImageSet(self.images[:count], self.labels[:count])


@dataclasses.dataclass
class ImageSplits:
    train: ImageSet
    val: ImageSet
    test: ImageSet
    class_names: tuple  # the name of each label (empty: no labels)

    @property
    def channels(self):
        return self.train.images.shape[-1]


def _split(images, labels, val_fraction, test_fraction, seed, what):
    n = len(images)
    n_val, n_test = max(1, int(round(val_fraction * n))), max(1, int(round(test_fraction * n)))
    if n < n_val + n_test + 1:
        raise UserError(f"{what} has {n} images; need at least {n_val + n_test + 1}")
    order = np.random.default_rng(seed).permutation(n)
    parts = order[n_val + n_test:], order[:n_val], order[n_val:n_val + n_test]
    return [ImageSet(images[idx], labels[idx]) for idx in parts]


def _digits(size):
    from sklearn.datasets import load_digits

    digits = load_digits()
    grey = np.round(digits.images * (255 / 16)).astype(np.float32)[..., None]
    images = tf.image.resize(grey, (size, size), method="bicubic", antialias=True).numpy()
    return np.clip(np.round(images), 0, 255).astype(np.uint8), digits.target.astype(np.int64)


def _folder(root, size):
    if not root.is_dir():
        raise UserError(f"folder source {root} is not a folder")
    files = image_files(root)
    if not files:
        raise UserError(f"folder source {root} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
    images = np.stack([square(read_rgb(path), size) for path in files])
    return images, np.full(len(files), -1)


def _tfds(name, size, counts, data_dir, download):
    import tensorflow_datasets as tfds

    sets, names = [], ()
    for split, count in (("train", counts[0] + counts[1]), ("test", counts[2])):
        ds, info = tfds.load(name, split=split, data_dir=data_dir, download=download, with_info=True)
        features = info.features
        if "image" not in features:
            raise UserError(f"tfds:{name} has no 'image' feature")
        labelled = "label" in features
        names = tuple(getattr(features["label"], "names", ())) if labelled else ()
        images, labels = [], []
        for example in ds.take(count):
            images.append(square(example["image"], size))
            labels.append(int(example["label"]) if labelled else -1)
        if not images:
            raise UserError(f"tfds:{name} split '{split}' has no examples")
        sets.append((np.stack(images), np.asarray(labels, np.int64)))
    (images, labels), test = sets
    n_val = min(counts[1], len(images) - 1)
    return (ImageSet(images[n_val:], labels[n_val:]), ImageSet(images[:n_val], labels[:n_val]), ImageSet(*test)), names


def load_images(source="digits", image_size=28, num_train=2000, num_val=200, num_test=200, val_fraction=0.1,
                test_fraction=0.1, data_dir=None, download=False, seed=0):
    """ImageSplits of `source`: "digits" (scikit-learn's 1,797 digits, grey, split by the fractions), "faces"
    (`num_*` procedural faces of 10 identities, RGB), "textures" (`num_*` crops of scikit-image photos; the test
    split cut from photos training never sees), folder:<dir> (its images, split by the fractions) or tfds:<name>
    (the first num_train + num_val of its train split, num_test of its test split)."""
    src = parse_source(source, BUILTIN, ("tfds", "folder"))
    if src.kind == "tfds":
        (train, val, test), names = _tfds(src.value, image_size, (num_train, num_val, num_test), data_dir, download)
        return ImageSplits(train, val, test, names)
    if src.kind == "folder":
        images, labels = _folder(Path(src.value), image_size)
        return ImageSplits(*_split(images, labels, val_fraction, test_fraction, seed, f"folder {src.value}"), ())
    if src.value == "digits":
        images, labels = _digits(image_size)
        return ImageSplits(*_split(images, labels, val_fraction, test_fraction, seed, "digits"),
                           tuple(str(d) for d in range(10)))
    if src.value == "faces":
        sets = []
        for n, count in enumerate((num_train, num_val, num_test)):
            per = -(-count // FACE_IDENTITIES)
            images, labels = face_dataset(range(FACE_IDENTITIES), per, image_size, seed, image_seed=n)
            order = np.random.default_rng([seed, n]).permutation(len(images))[:count]
            sets.append(ImageSet(images[order], labels[order].astype(np.int64)))
        return ImageSplits(*sets, tuple(f"identity {i}" for i in range(FACE_IDENTITIES)))
    sets = []
    for n, (names, count) in enumerate(((CALIBRATION_PHOTOS, num_train), (CALIBRATION_PHOTOS, num_val),
                                        (HELD_OUT_PHOTOS, num_test))):
        sets.append(ImageSet(photo_crops(names, image_size, count, seed * 3 + n), np.full(count, -1)))
    return ImageSplits(*sets, ())


def corrupt(images, kind, amount, seed):
    """`images` (float, 0-255) with noise: "gaussian" (N(0, amount) on the 0-1 scale), "salt_pepper" (`amount` of
    the pixels set to 0 or 255) or "masking" (`amount` of the pixels zeroed, all channels)."""
    shape = tf.shape(images)
    pixel = tf.concat([shape[:-1], [1]], 0)
    if kind == "gaussian":
        return tf.clip_by_value(images + 255.0 * amount * tf.random.stateless_normal(shape, seed), 0.0, 255.0)
    hit = tf.random.stateless_uniform(pixel, seed) < amount
    if kind == "masking":
        return tf.where(hit, 0.0, images)
    salt = tf.random.stateless_uniform(pixel, seed + 1) < 0.5
    return tf.where(hit, tf.where(salt, 255.0, 0.0), images)


def image_dataset(images, batch_size, training=False, seed=0, noise=None):
    """(input float32 0-255, target float32 0-1) batches; `noise` (kind, amount) corrupts the input (drawn anew
    each epoch in training, fixed per image otherwise) while the target stays clean."""
    ds = tf.data.Dataset.from_tensor_slices(images)
    if training:
        ds = ds.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    draws = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True) if training else (
        tf.data.Dataset.counter())

    def pair(image, draw):
        clean = tf.cast(image, tf.float32)
        noisy = clean if noise is None else corrupt(clean, noise[0], noise[1], tf.stack([draw, tf.constant(seed,
                                                                                                       tf.int64)]))
        return noisy, clean / 255.0

    return prefetched(tf.data.Dataset.zip(ds, draws).map(pair, num_parallel_calls=tf.data.AUTOTUNE)
                      .batch(batch_size))
