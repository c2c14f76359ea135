"""GloVe's training data: the word co-occurrence counts of a corpus, each pair at distance d counted 1 / d, and
their weighting f(x) = min(1, (x / x_max) ** alpha). Pennington et al., 2014, "GloVe: Global Vectors for Word
Representation", https://nlp.stanford.edu/pubs/glove.pdf, section 3 and 4.2."""

from pathlib import Path

import numpy as np
import tensorflow as tf

from keras_suite.data.pipeline import prefetched
from keras_suite.data.skipgrams import flatten
from keras_suite.files import replacing


def cooccurrence(sentences, vocab_size, window=10):
    """(rows, cols, counts) of every word pair within `window` positions in a sentence (both orders), summed
    over the corpus with weight 1 / distance; ids 0 (unknown) are left out."""
    ids, sentence = flatten(sentences)
    keys, weights = [], []
    for d in range(1, window + 1):
        same = sentence[d:] == sentence[:-d]
        left, right = ids[:-d][same].astype(np.int64), ids[d:][same].astype(np.int64)
        keep = (left > 0) & (right > 0)
        left, right = left[keep], right[keep]
        keys += [left * vocab_size + right, right * vocab_size + left]
        weights += [np.full(2 * len(left), 1.0 / d)]
    if not keys:
        return np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0, np.float32)
    unique, inverse = np.unique(np.concatenate(keys), return_inverse=True)
    counts = np.bincount(inverse, weights=np.concatenate(weights))
    return (unique // vocab_size).astype(np.int32), (unique % vocab_size).astype(np.int32), counts.astype(np.float32)


def cached_cooccurrence(path, sentences, vocab_size, window):
    """`cooccurrence`, kept in `path` (.npz) and read from there when it was built for the same vocabulary size and
    window."""
    path = Path(path)
    if path.is_file():
        with np.load(path) as saved:
            if int(saved["vocab_size"]) == vocab_size and int(saved["window"]) == window:
                return saved["rows"], saved["cols"], saved["counts"]
    rows, cols, counts = cooccurrence(sentences, vocab_size, window)
    with replacing(path) as partial, open(partial, "wb") as f:
        np.savez(f, rows=rows, cols=cols, counts=counts, vocab_size=vocab_size, window=window)
    return rows, cols, counts


def glove_weights(counts, x_max=100.0, alpha=0.75):
    """f(x) = (x / x_max) ** alpha below x_max, 1 above."""
    return np.minimum(1.0, (np.asarray(counts, np.float64) / x_max) ** alpha).astype(np.float32)


def glove_dataset(rows, cols, counts, batch_size, x_max=100.0, alpha=0.75, training=True, seed=0):
    """Batches ({"row", "col"}, log X, f(X)) of the non-zero co-occurrences, reshuffled every pass in training."""
    ds = tf.data.Dataset.from_tensor_slices(({"row": rows, "col": cols}, np.log(counts).astype(np.float32),
                                             glove_weights(counts, x_max, alpha)))
    if training:
        ds = ds.shuffle(len(counts), seed=seed, reshuffle_each_iteration=True)
    return prefetched(ds.batch(batch_size, drop_remainder=training))
