"""Face identities split into train / val / test by identity (evaluation never sees a training
identity): the embedded synthetic faces, tfds `lfw`, or a folder `root/<identity>/*.jpg`.

Every split is in memory: uint8 images (N, S, S, 3), labels (N,) indexing `names`.
"""

import collections
from pathlib import Path

import numpy as np
import tensorflow as tf

from keras_suite.data.faces import face_dataset
from keras_suite.errors import UserError
from keras_suite.images import image_files, read_rgb

FaceSplit = collections.namedtuple("FaceSplit", "images labels names")
FaceSplits = collections.namedtuple("FaceSplits", "train val test")
VAL_OFFSET, TEST_OFFSET = 100_000, 200_000  # synthetic identity ids of the held-out splits


def prepare_faces(images, size, crop=1.0):
    """uint8 or float images (N, H, W, 3) of any size -> float32 (N, size, size, 3) in [0, 255]: the central
    square crop of `crop` times the shorter side, resized with antialiasing. Runs in the exported graph too."""
    x = tf.cast(images, tf.float32)
    h, w = tf.shape(x)[1], tf.shape(x)[2]
    side = tf.maximum(tf.cast(tf.cast(tf.minimum(h, w), tf.float32) * crop, tf.int32), 1)
    top, left = (h - side) // 2, (w - side) // 2
    return tf.image.resize(x[:, top:top + side, left:left + side], (size, size), antialias=True)


def _to_uint8(image, size, crop):
    return np.round(prepare_faces(image[None], size, crop).numpy()[0]).clip(0, 255).astype(np.uint8)


def _synthetic(cfg):
    def split(count, offset, name):
        if count < 2:
            raise UserError(f"data.{name} must be >= 2, got {count}")
        images, ids = face_dataset(range(offset, offset + count), cfg.images_per_identity, cfg.image_size, cfg.seed)
        return FaceSplit(images, ids - offset, [f"synthetic-{offset + i}" for i in range(count)])

    if cfg.images_per_identity < 2:
        raise UserError(f"data.images_per_identity must be >= 2, got {cfg.images_per_identity}")
    return FaceSplits(split(cfg.identities, 0, "identities"), split(cfg.val_identities, VAL_OFFSET, "val_identities"),
                      split(cfg.test_identities, TEST_OFFSET, "test_identities"))


def _by_identity(cfg, items):
    """Split (identity name, image) pairs by identity into FaceSplits."""
    groups = collections.defaultdict(list)
    for name, image in items:
        groups[name].append(image)
    names = sorted(groups)
    if len(names) < 3:
        raise UserError(f"need >= 3 identities to split into train/val/test, found {len(names)}")
    order = np.random.default_rng(cfg.seed).permutation(len(names))
    n_val = max(1, round(cfg.val_fraction * len(names)))
    n_test = max(1, round(cfg.test_fraction * len(names)))
    parts = [order[n_val + n_test:], order[:n_val], order[n_val:n_val + n_test]]

    def split(members):
        members = sorted(members)
        images = [image for m in members for image in groups[names[m]]]
        labels = np.concatenate([np.full(len(groups[names[m]]), i) for i, m in enumerate(members)])
        return FaceSplit(np.stack(images), labels, [names[m] for m in members])

    return FaceSplits(*(split(p) for p in parts))


def folder_items(root, cfg):
    """(identity, uint8 face) for every image of `root/<identity>/`; any unreadable image is an error naming it."""
    root = Path(root)
    if not root.is_dir():
        raise UserError(f"face folder not found: {root}")
    folders = sorted(p for p in root.iterdir() if p.is_dir())
    if not folders:
        raise UserError(f"{root} has no identity folders; expected {root}/<identity>/*.jpg")
    items = []
    for folder in folders:
        paths = image_files(folder)
        if not paths:
            raise UserError(f"identity folder {folder} has no images (*.jpg, *.png)")
        items += [(folder.name, _to_uint8(read_rgb(p, cfg.max_pixels), cfg.image_size, cfg.crop)) for p in paths]
    return items


def _tfds(cfg, name):
    import tensorflow_datasets as tfds

    if name != "lfw":
        raise UserError(f"tfds source '{name}' has no face mapping; use tfds:lfw")
    ds = tfds.load("lfw", split="train", data_dir=cfg.data_dir, download=cfg.download)
    return [(example["label"].decode("utf-8"), _to_uint8(example["image"], cfg.image_size, cfg.crop))
            for example in tfds.as_numpy(ds)]


def drop_small_identities(split, min_images):
    """Keep identities with >= min_images images; returns (split, number dropped)."""
    ids, counts = np.unique(split.labels, return_counts=True)
    keep = ids[counts >= min_images]
    if len(keep) == len(ids):
        return split, 0
    mask = np.isin(split.labels, keep)
    remap = {old: new for new, old in enumerate(keep)}
    labels = np.array([remap[x] for x in split.labels[mask]])
    return FaceSplit(split.images[mask], labels, [split.names[i] for i in keep]), len(ids) - len(keep)


def load_faces(cfg):
    """FaceSplits for `data.source`: synthetic | tfds:lfw | folder:<root>."""
    if not 0 < cfg.crop <= 1:
        raise UserError(f"data.crop must be in (0, 1], got {cfg.crop}")
    if cfg.image_size < 8:
        raise UserError(f"data.image_size must be >= 8, got {cfg.image_size}")
    source = cfg.source
    if source == "synthetic":
        splits = _synthetic(cfg)
    elif source.startswith("tfds:"):
        splits = _by_identity(cfg, _tfds(cfg, source[len("tfds:"):]))
    elif source.startswith("folder:"):
        splits = _by_identity(cfg, folder_items(source[len("folder:"):], cfg))
    else:
        raise UserError(f"unknown data.source '{source}'; use synthetic, tfds:lfw or folder:<root>")
    if cfg.min_images > 0:
        train, dropped = drop_small_identities(splits.train, cfg.min_images)
        if dropped:
            print(f"data: dropped {dropped} training identities with fewer than {cfg.min_images} images "
                  f"({len(train.names)} kept)")
        splits = splits._replace(train=train)
    return splits
