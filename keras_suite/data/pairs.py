"""Sentence pairs for translation: embedded dates, TSV files (Anki format), tfds; and their tf.data pipeline.

Sources:
- "dates": the embedded human-readable dates -> ISO task (`keras_suite.data.dates`).
- "numbers": the embedded numbers -> words task in four languages (`keras_suite.data.numbers`).
- "tsv:<path>" or a path: one `source<TAB>target[<TAB>anything]` pair per line (the Anki/Tatoeba
  export format; further columns such as attribution are ignored).
- "tfds:<name>[/<config>]", e.g. tfds:ted_hrlr_translate/pt_to_en: a supervised tfds translation set.
"""

import random
from pathlib import Path

import tensorflow as tf

from keras_suite.data.dates import date_pairs
from keras_suite.data.numbers import number_pairs
from keras_suite.data.pipeline import prefetched
from keras_suite.data.sources import parse_source
from keras_suite.data.tokenizer import END_ID, START_ID
from keras_suite.errors import UserError


def read_tsv(path):
    """(source, target) pairs of a TSV file; a line without a tab or with an empty side is an error naming it."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"pairs file not found: {path}")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        raise UserError(f"{path}:{line}: not valid UTF-8 (byte {data[e.start:e.start + 1]!r})") from None
    pairs = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        columns = line.split("\t")
        if len(columns) < 2:
            raise UserError(f"{path}:{number}: expected 'source<TAB>target', found no tab: {line[:60]!r}")
        source, target = columns[0].strip(), columns[1].strip()
        if not source or not target:
            raise UserError(f"{path}:{number}: empty {'source' if not source else 'target'} text")
        pairs.append((source, target))
    if not pairs:
        raise UserError(f"pairs file {path} has no pairs")
    return pairs


EMBEDDED = {"dates": date_pairs, "numbers": number_pairs}


def split_unseen(pairs, train, val, test):
    """The first `train` pairs for training, then validation and test pairs whose source text
    does not appear in training (each source once)."""
    train_pairs = pairs[:train]
    seen = {src for src, _ in train_pairs}
    unique = list(dict(p for p in pairs[train:] if p[0] not in seen).items())
    return train_pairs, unique[:val], unique[val:val + test]


def _split(pairs, val_fraction, test_fraction, seed):
    pairs = list(pairs)
    random.Random(seed).shuffle(pairs)
    n_val, n_test = max(1, round(len(pairs) * val_fraction)), max(1, round(len(pairs) * test_fraction))
    if len(pairs) < n_val + n_test + 1:
        raise UserError(f"only {len(pairs)} pairs: too few for a training, validation and test split")
    return pairs[n_val + n_test:], pairs[:n_val], pairs[n_val:n_val + n_test]


def _tfds_pairs(name):
    import tensorflow_datasets as tfds

    def read(split):
        data = tfds.load(name, split=split, as_supervised=True, download=False)
        return [(s.numpy().decode("utf-8"), t.numpy().decode("utf-8")) for s, t in data]

    return read("train"), read("validation"), read("test")


def load_pairs(source="dates", train_examples=20000, val_examples=1000, test_examples=1000, val_fraction=0.05,
               test_fraction=0.05, seed=0):
    """(train, validation, test) lists of (source, target) strings of `source`: an embedded task (`*_examples`
    pairs of each split), tsv:<file> (split by `val_fraction`, `test_fraction`) or tfds:<name>[/<config>]."""
    src = parse_source(source, tuple(EMBEDDED), ("tfds", "tsv"))
    if src.kind == "builtin":
        pairs = EMBEDDED[src.value](train_examples + 2 * (val_examples + test_examples), seed)
        return split_unseen(pairs, train_examples, val_examples, test_examples)
    if src.kind == "tfds":
        return _tfds_pairs(src.value)
    return _split(read_tsv(src.value), val_fraction, test_fraction, seed)


def encode_pairs(pairs, source_tok, target_tok):
    """Ragged source ids and target ids (without start/end) of a list of pairs."""
    sources, targets = zip(*pairs)
    return source_tok.encode(tf.constant(sources)), target_tok.encode(tf.constant(targets))


def pair_dataset(source_ids, target_ids, batch_size, training=False, seed=0):
    """((source, target_in), target_out) padded batches: target_in = [START] + y, target_out = y + [END]."""
    ds = tf.data.Dataset.from_tensor_slices((source_ids, target_ids))
    if training:
        ds = ds.shuffle(int(source_ids.nrows()), seed=seed, reshuffle_each_iteration=True)

    def shift(source, target):
        target_in = tf.concat([[START_ID], target], 0)
        target_out = tf.concat([target, [END_ID]], 0)
        return (source, target_in), target_out

    ds = ds.map(shift, num_parallel_calls=tf.data.AUTOTUNE)
    return prefetched(ds.padded_batch(batch_size))
