"""Face identities split into train / val / test by identity (evaluation never sees a training
identity): the embedded synthetic faces, tfds `lfw`, or a folder `root/<identity>/*.jpg`.

Every split is in memory: uint8 images (N, S, S, 3), labels (N,) indexing `names`.
"""

import collections
from pathlib import Path

import numpy as np
import tensorflow as tf

from keras_suite.data.faces import face_dataset
from keras_suite.data.sources import parse_source
from keras_suite.errors import UserError
from keras_suite.visuals.images import image_files, read_rgb

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


def _synthetic(counts, images_per_identity, image_size, seed):
    def split(count, offset):
        images, ids = face_dataset(range(offset, offset + count), images_per_identity, image_size, seed)
        return FaceSplit(images, ids - offset, [f"synthetic-{offset + i}" for i in range(count)])

    return FaceSplits(*(split(n, offset) for n, offset in zip(counts, (0, VAL_OFFSET, TEST_OFFSET))))


def _by_identity(items, val_fraction, test_fraction, seed):
    """Split (identity name, image) pairs by identity into FaceSplits."""
    groups = collections.defaultdict(list)
    for name, image in items:
        groups[name].append(image)
    names = sorted(groups)
    if len(names) < 3:
        raise UserError(f"need >= 3 identities to split into train/val/test, found {len(names)}")
    order = np.random.default_rng(seed).permutation(len(names))
    n_val = max(1, round(val_fraction * len(names)))
    n_test = max(1, round(test_fraction * len(names)))
    parts = [order[n_val + n_test:], order[:n_val], order[n_val:n_val + n_test]]

    def split(members):
        members = sorted(members)
        images = [image for m in members for image in groups[names[m]]]
        labels = np.concatenate([np.full(len(groups[names[m]]), i) for i, m in enumerate(members)])
        return FaceSplit(np.stack(images), labels, [names[m] for m in members])

    return FaceSplits(*(split(p) for p in parts))


def _unchanged(image):
    return image


def folder_items(root, image_size, crop=1.0, max_pixels=None, align=_unchanged):
    """(identity, uint8 face) for every image of `root/<identity>/` (`align`ed first: image -> face); any unreadable
    image is an error naming it."""
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
        items += [(folder.name, _to_uint8(align(read_rgb(p, max_pixels)), image_size, crop)) for p in paths]
    return items


def _tfds(name, image_size, crop, data_dir, download, align):
    import tensorflow_datasets as tfds

    if name != "lfw":
        raise UserError(f"tfds source '{name}' has no face mapping; use tfds:lfw")
    ds = tfds.load("lfw", split="train", data_dir=data_dir, download=download)
    return [(example["label"].decode("utf-8"), _to_uint8(align(example["image"]), image_size, crop))
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


def load_faces(source="synthetic", image_size=48, crop=1.0, identities=300, val_identities=50, test_identities=100,
               images_per_identity=12, val_fraction=0.1, test_fraction=0.2, min_images=0, max_pixels=None,
               data_dir=None, download=False, seed=0, align=_unchanged):
    """FaceSplits of `source`: synthetic (`identities`, `val_identities`, `test_identities` of
    `images_per_identity` each), tfds:lfw or folder:<root> (identities split by `val_fraction`, `test_fraction`).
    Faces are the central `crop` of each image resized to `image_size`; photos (not the synthetic faces) go through
    `align` first (a function image -> face image: detection and cropping); with `min_images`, training identities
    with fewer images are dropped."""
    src = parse_source(source, ("synthetic",), ("tfds", "folder"))
    if src.kind == "builtin":
        splits = _synthetic((identities, val_identities, test_identities), images_per_identity, image_size, seed)
    elif src.kind == "tfds":
        splits = _by_identity(_tfds(src.value, image_size, crop, data_dir, download, align), val_fraction,
                              test_fraction, seed)
    else:
        splits = _by_identity(folder_items(src.value, image_size, crop, max_pixels, align), val_fraction,
                              test_fraction, seed)
    if min_images > 0:
        train, dropped = drop_small_identities(splits.train, min_images)
        if dropped:
            print(f"data: dropped {dropped} training identities with fewer than {min_images} images "
                  f"({len(train.names)} kept)")
        splits = splits._replace(train=train)
    return splits
