"""Fixed-length training windows with shift-by-one targets for language models."""

import numpy as np
import tensorflow as tf

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
    """Batched (inputs, targets) windows; shuffled when training; prefetched."""
    inputs, targets = window_arrays(np.asarray(ids, np.int32), length)
    ds = tf.data.Dataset.from_tensor_slices((inputs, targets))
    if training:
        ds = ds.shuffle(min(len(inputs), 20000), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size, drop_remainder=training).prefetch(tf.data.AUTOTUNE)
