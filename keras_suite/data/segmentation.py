"""Segmentation datasets: embedded synthetic scenes, tfds (oxford_iiit_pet) and image/mask folders.

Every source yields unbatched `(image float32 (S, S, 3) in [0, 255], mask int32 (S, S, 1))`.
"""

import dataclasses
from pathlib import Path

import numpy as np
import tensorflow as tf

from keras_suite.data.augment import paired_augmenter
from keras_suite.data.pipeline import prefetched
from keras_suite.data.scenes import KINDS, make_scenes
from keras_suite.data.sources import parse_source
from keras_suite.errors import UserError
from keras_suite.visuals.images import image_files, read_mask, read_rgb

PET_CLASSES = ("pet", "background", "border")


@dataclasses.dataclass
class Splits:
    train: tf.data.Dataset
    val: tf.data.Dataset
    test: tf.data.Dataset
    class_names: tuple


def _resize(image, mask, size):
    image = tf.image.resize(tf.cast(image, tf.float32), (size, size))
    mask = tf.image.resize(tf.cast(mask, tf.int32)[..., :1], (size, size), method="nearest")
    return image, mask


def _synthetic(scene, image_size, counts, seed):
    def split(count, offset):
        images, masks = make_scenes(scene, count, image_size, seed + offset)
        return tf.data.Dataset.from_tensor_slices((images.astype(np.float32), masks[..., None].astype(np.int32)))

    return Splits(*(split(count, offset) for count, offset in zip(counts, (0, 1000, 2000))), KINDS[scene])


def _tfds(name, image_size, val_fraction, data_dir, download):
    import tensorflow_datasets as tfds

    if name != "oxford_iiit_pet":
        raise UserError(f"tfds source '{name}' has no segmentation mapping; use tfds:oxford_iiit_pet")
    val_pct = int(round(val_fraction * 100))
    train, val, test = tfds.load(name, split=[f"train[:{100 - val_pct}%]", f"train[{100 - val_pct}%:]", "test"],
                                 data_dir=data_dir, download=download)

    def prepare(example):
        # The trimap stores 1 = pet, 2 = background, 3 = border.
        mask = tf.clip_by_value(tf.cast(example["segmentation_mask"], tf.int32) - 1, 0, len(PET_CLASSES) - 1)
        return _resize(example["image"], mask, image_size)

    return Splits(*(d.map(prepare, num_parallel_calls=tf.data.AUTOTUNE) for d in (train, val, test)), PET_CLASSES)


def folder_pairs(root):
    """`(image, mask)` path pairs from `root/images/*` and `root/masks/<same stem>.png`."""
    root = Path(root)
    if not (root / "images").is_dir() or not (root / "masks").is_dir():
        raise UserError(f"folder dataset {root} must contain images/ and masks/")
    masks = {p.stem: p for p in (root / "masks").iterdir() if p.suffix.lower() == ".png"}
    images = image_files(root / "images")
    if not images:
        raise UserError(f"no images (*.png, *.jpg) in {root / 'images'}")
    missing = [p.name for p in images if p.stem not in masks]
    if missing:
        raise UserError(f"{len(missing)} image(s) in {root / 'images'} have no mask in {root / 'masks'}, "
                        f"e.g. {missing[0]}")
    return [(p, masks[p.stem]) for p in images]


def _folder(root, image_size, class_names, val_fraction, test_fraction, seed):
    pairs = folder_pairs(root)
    names = tuple(class_names)
    if not names:
        raise UserError("folder datasets need data.class_names, e.g. data.class_names=background,cat,dog")
    for image_path, mask_path in pairs:  # validate every file up front: clear errors, not a crash mid-epoch
        image, mask = read_rgb(image_path), read_mask(mask_path, len(names))
        if image.shape[:2] != mask.shape:
            raise UserError(f"mask {mask_path} is {mask.shape[1]}x{mask.shape[0]} but its image is "
                            f"{image.shape[1]}x{image.shape[0]}")
    order = np.random.default_rng(seed).permutation(len(pairs))
    n_val = max(1, int(round(val_fraction * len(pairs))))
    n_test = max(1, int(round(test_fraction * len(pairs))))
    if len(pairs) < n_val + n_test + 1:
        raise UserError(f"folder dataset {root} has {len(pairs)} pairs; need at least {n_val + n_test + 1}")

    def load(image_path, mask_path):
        image = tf.io.decode_image(tf.io.read_file(image_path), channels=3, expand_animations=False)
        mask = tf.io.decode_png(tf.io.read_file(mask_path), channels=1)
        return _resize(image, mask, image_size)

    def split(idx):
        paths = [str(pairs[i][0]) for i in idx], [str(pairs[i][1]) for i in idx]
        return tf.data.Dataset.from_tensor_slices(paths).map(load, num_parallel_calls=tf.data.AUTOTUNE)

    return Splits(split(order[n_val + n_test:]), split(order[:n_val]), split(order[n_val:n_val + n_test]), names)


def load_splits(source="synthetic", scene="shapes", image_size=64, num_train=2000, num_val=200, num_test=300,
                val_fraction=0.1, test_fraction=0.1, class_names=(), data_dir=None, download=False, seed=0):
    """Train/val/test splits of `source`: synthetic scenes (`scene`, `num_*` of each split), tfds:oxford_iiit_pet
    or folder:<dir> (split by `val_fraction` and `test_fraction`). Every image is `image_size` square."""
    src = parse_source(source, ("synthetic",), ("tfds", "folder"))
    if src.kind == "builtin":
        if scene not in KINDS:
            raise UserError(f"unknown data.scene '{scene}'; choose from: {', '.join(sorted(KINDS))}")
        splits = _synthetic(scene, image_size, (num_train, num_val, num_test), seed)
    elif src.kind == "tfds":
        splits = _tfds(src.value, image_size, val_fraction, data_dir, download)
    else:
        splits = _folder(src.value, image_size, class_names, val_fraction, test_fraction, seed)
    if class_names and len(class_names) != len(splits.class_names):
        raise UserError(f"data.class_names has {len(class_names)} names but the source has "
                        f"{len(splits.class_names)} classes")
    return dataclasses.replace(splits, class_names=tuple(class_names) or splits.class_names)


def batches(ds, batch_size, training=False, augment=None, seed=0, cache=True):
    """Cache, shuffle (training), batch, augment (training; `augment` holds paired_augmenter kwargs) and prefetch."""
    if cache:
        ds = ds.cache()
    if training:
        ds = ds.shuffle(2048, seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size, drop_remainder=training)
    if training and augment is not None:
        aug = paired_augmenter(seed, **augment)

        def apply(image, mask):
            out = aug({"images": image, "segmentation_masks": mask}, training=True)
            return out["images"], tf.cast(tf.round(out["segmentation_masks"]), tf.int32)

        # One call at a time: the random layers draw from one generator each, and parallel calls would draw
        # in a different order on every run (training would not be reproducible, nor resume exactly).
        ds = ds.map(apply)
    return prefetched(ds)
