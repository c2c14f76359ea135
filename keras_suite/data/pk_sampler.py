"""P x K batches for metric learning: P identities, K images of each, so every batch holds positives and
negatives for every anchor (Hermans et al., 2017, "In Defense of the Triplet Loss for Person
Re-Identification", https://arxiv.org/abs/1703.07737)."""

import numpy as np
import tensorflow as tf

from keras_suite.data.pipeline import prefetched
from keras_suite.errors import UserError


def check_pk(labels, p, k, names=None):
    """Refuse a P x K configuration the data cannot fill, naming the first identity that falls short."""
    if p < 2 or k < 2:
        raise UserError(f"a P x K batch needs P >= 2 identities and K >= 2 images each, got P={p}, K={k}")
    ids, counts = np.unique(np.asarray(labels), return_counts=True)
    short = ids[counts < k]
    if len(short):
        name = names[short[0]] if names is not None else short[0]
        raise UserError(f"identity '{name}' has {counts[ids == short[0]][0]} image(s) but the P x K batch needs "
                        f"K={k} ({len(short)} identities fall short); lower data.k or drop them")
    eligible = len(ids)
    if eligible < p:
        raise UserError(f"only {eligible} identities with >= {k} images; the P x K batch needs P={p}")


def pk_indices(labels, p, k, seed=0):
    """Endless index batches of P identities x K distinct images; identities are visited in shuffled rounds."""
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    by_identity = {i: np.flatnonzero(labels == i) for i in np.unique(labels)}
    identities = np.array(sorted(by_identity))
    while True:
        order = rng.permutation(identities)
        for start in range(0, len(order) - p + 1, p):
            yield np.concatenate([rng.choice(by_identity[i], k, replace=False) for i in order[start:start + p]])


def pk_dataset(images, labels, p, k, seed=0):
    """Endless tf.data batches (images (P*K, ...), labels (P*K,)) drawn from in-memory arrays."""
    check_pk(labels, p, k)
    images, labels = tf.constant(images), tf.constant(np.asarray(labels), tf.int32)
    indices = tf.data.Dataset.from_generator(lambda: pk_indices(labels.numpy(), p, k, seed),
                                             output_signature=tf.TensorSpec([p * k], tf.int64))
    return prefetched(indices.map(lambda i: (tf.gather(images, i), tf.gather(labels, i))))
