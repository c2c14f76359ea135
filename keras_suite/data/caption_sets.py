"""Captioned image splits for the captioning app: the generated scenes (`data.captions`), a folder of photos with a
captions TSV, or tfds:coco_captions; and the tf.data pipeline that pairs each image with one of its captions."""

import csv
import dataclasses
from pathlib import Path

import numpy as np
import tensorflow as tf

from keras_suite.data.captions import caption_scenes, novel
from keras_suite.data.pipeline import prefetched
from keras_suite.data.sources import parse_source
from keras_suite.data.tokenizer import END_ID, START_ID, UNK_ID
from keras_suite.errors import UserError
from keras_suite.visuals.images import read_rgb

CAPTIONS_FILE = "captions.tsv"
TFDS_SPLITS = {"coco_captions": ("train", "val", "test")}


@dataclasses.dataclass(frozen=True)
class CaptionSplit:
    """Square uint8 images (N, S, S, 3), per image its reference captions, and for generated scenes whether each
    holds a colour-shape pair training never showed (`novel`, None for other sources)."""

    images: np.ndarray
    references: list
    novel: np.ndarray = None

    def __len__(self):
        return len(self.images)

    def take(self, count):
        return CaptionSplit(self.images[:count], self.references[:count],
                            None if self.novel is None else self.novel[:count])


def square(image, size):
    """An RGB image resized to `size` x `size` (antialiased), uint8."""
    resized = tf.image.resize(tf.cast(image, tf.float32), (size, size), antialias=True)
    return np.clip(np.round(resized.numpy()), 0, 255).astype(np.uint8)


def read_captions_tsv(path):
    """{image file name: [captions]} from `image<TAB>caption` lines (an image may have several lines)."""
    captions = {}
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UserError(f"{path} is not valid UTF-8 text") from None
    for number, row in enumerate(csv.reader(text.splitlines(), delimiter="\t", quoting=csv.QUOTE_NONE), 1):
        if not row or not "".join(row).strip():
            continue
        if len(row) != 2 or not row[0].strip() or not row[1].strip():
            raise UserError(f"{path} line {number}: expected <image file><TAB><caption>, got {row!r:.80}")
        captions.setdefault(row[0].strip(), []).append(row[1].strip())
    if not captions:
        raise UserError(f"{path} holds no captions")
    return captions


def _folder(root, size, val_fraction, test_fraction, seed):
    root = Path(root)
    table = root / CAPTIONS_FILE
    if not table.is_file():
        raise UserError(f"folder source {root} needs {CAPTIONS_FILE} (lines: <image file><TAB><caption>)")
    captions = read_captions_tsv(table)
    missing = [name for name in captions if not (root / name).is_file()]
    if missing:
        raise UserError(f"{table} names {len(missing)} image(s) not in {root}, e.g. {missing[0]}")
    names = sorted(captions)
    n_val = max(1, int(round(val_fraction * len(names))))
    n_test = max(1, int(round(test_fraction * len(names))))
    if len(names) < n_val + n_test + 1:
        raise UserError(f"folder source {root} has {len(names)} captioned images; need at least {n_val + n_test + 1}")
    order = np.random.default_rng(seed).permutation(len(names))
    images = np.stack([square(read_rgb(root / name), size) for name in names])

    def split(idx):
        return CaptionSplit(images[idx], [captions[names[i]] for i in idx])

    return split(order[n_val + n_test:]), split(order[:n_val]), split(order[n_val:n_val + n_test])


def _tfds(name, size, counts, data_dir, download):
    import tensorflow_datasets as tfds

    if name not in TFDS_SPLITS:
        raise UserError(f"tfds source '{name}' has no captioning mapping; use tfds:coco_captions")
    splits = []
    for split, count in zip(TFDS_SPLITS[name], counts):
        images, references = [], []
        for example in tfds.load(name, split=split, data_dir=data_dir, download=download).take(count):
            images.append(square(example["image"], size))
            references.append([t.decode("utf-8") for t in example["captions"]["text"].numpy()])
        if not images:
            raise UserError(f"tfds:{name} split '{split}' has no examples")
        splits.append(CaptionSplit(np.stack(images), references))
    return tuple(splits)


def load_captions(source="synthetic", image_size=96, num_train=4000, num_val=200, num_test=300, val_fraction=0.1,
                  test_fraction=0.1, data_dir=None, download=False, seed=0):
    """(train, val, test) CaptionSplits of `source`: "synthetic" (generated scenes, `num_*` of each; half the test
    split holds colour-shape pairs training never shows), folder:<dir> (photos and dir/captions.tsv, split by the
    fractions) or tfds:coco_captions (the first `num_*` of its train, val and test splits)."""
    src = parse_source(source, ("synthetic",), ("tfds", "folder"))
    if src.kind == "builtin":
        splits = []
        for split, count in zip(("train", "val", "test"), (num_train, num_val, num_test)):
            images, references, layouts = caption_scenes(count, image_size, seed, split)
            splits.append(CaptionSplit(images, references, np.array([novel(groups) for groups, _, _ in layouts])))
        return tuple(splits)
    if src.kind == "tfds":
        return _tfds(src.value, image_size, (num_train, num_val, num_test), data_dir, download)
    return _folder(src.value, image_size, val_fraction, test_fraction, seed)


def reference_ids(tokenizer, references, max_length):
    """(ids (N, R, L) int32: each reference's token ids then the end id, 0-padded to the longest (L - 1 tokens);
    counts (N,): references per image). References longer than `max_length` tokens are cut there."""
    padded = tokenizer.encode_ended([caption for refs in references for caption in refs], max_length)
    ids = np.zeros((len(references), max(len(refs) for refs in references), padded.shape[1]), np.int32)
    row = 0
    for i, refs in enumerate(references):
        ids[i, :len(refs)] = padded[row:row + len(refs)]
        row += len(refs)
    return ids, np.array([len(refs) for refs in references], np.int32)


def caption_dataset(images, ids, counts, batch_size, training=False, seed=0, word_dropout=0.0):
    """((images float32, target_in), target_out) batches: each image with one of its references, drawn anew each
    epoch in training (else its first); target_in = [START] + caption, target_out = caption + [END]. In training,
    `word_dropout` of target_in's words become the unknown id, so the decoder leans on the image more than on the
    words before (word dropout: Bowman et al., 2016, https://arxiv.org/abs/1511.06349)."""
    ds = tf.data.Dataset.from_tensor_slices((images, ids, counts))
    if training:
        ds = ds.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    draws = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True) if training else (
        tf.data.Dataset.from_tensors(tf.constant(0, tf.int64)).repeat())

    def pair(example, draw):
        image, refs, count = example
        target_out = refs[tf.math.floormod(tf.cast(draw, tf.int32), count)]
        target_in = tf.concat([[START_ID], tf.where(tf.equal(target_out, END_ID), 0, target_out)[:-1]], 0)
        if training and word_dropout:
            dropped = tf.random.stateless_uniform(tf.shape(target_in), tf.stack([draw, draw + 1])) < word_dropout
            target_in = tf.where(dropped & (target_in > END_ID), UNK_ID, target_in)
        return (tf.cast(image, tf.float32), target_in), target_out

    return prefetched(tf.data.Dataset.zip(ds, draws).map(pair, num_parallel_calls=tf.data.AUTOTUNE).batch(batch_size))
