"""Fixed-length training windows with shift-by-one targets for language models."""

import numpy as np
import tensorflow as tf

from keras_suite.data.pipeline import prefetched
from keras_suite.errors import UserError


def split_ids(ids, val_fraction):
    """(train, val): the validation part is the end of the corpus, so no window leaks across."""
    cut = int(len(ids) * (1 - val_fraction))
    return ids[:cut], ids[cut:]


def window_arrays(ids, length):
    """(inputs, targets) of shape (N, length): consecutive windows, targets shifted by one."""
    count = (len(ids) - 1) // length
    if count < 1:
        raise UserError(f"the text has {len(ids)} characters, too few for one window of {length} + 1")
    inputs = ids[:count * length].reshape(count, length)
    targets = ids[1:count * length + 1].reshape(count, length)
    return inputs, targets


def window_dataset(ids, length, batch_size, training=False, seed=0):
    """Batched (inputs, targets) windows of `length` ids, targets shifted by one; prefetched.

    Evaluation walks the consecutive windows. Training draws windows at random offsets, as nanoGPT samples its
    batches: every character is seen at every position of a window, and passes do not repeat the same windows
    (deterministic for a seed: a resumed run draws what an uninterrupted one would). A training pass holds as many
    windows as the consecutive split has.
    """
    ids = np.asarray(ids, np.int32)
    inputs, targets = window_arrays(ids, length)
    if not training:
        return prefetched(tf.data.Dataset.from_tensor_slices((inputs, targets)).batch(batch_size))
    text, offsets = tf.constant(ids), tf.range(length + 1, dtype=tf.int64)
    starts = len(ids) - length  # the offsets with length + 1 ids from them on

    def windows(draws):
        rows = tf.gather(text, tf.math.floormod(draws, starts)[:, None] + offsets)
        return rows[:, :-1], rows[:, 1:]

    draws = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(batch_size)
    return prefetched(draws.take(max(1, len(inputs) // batch_size)).map(windows))
