"""Word2vec's training stream: a word vocabulary with counts, frequent-word subsampling, a reduced random window,
and negatives drawn from the unigram distribution raised to the 3/4 power, for skip-gram (target -> each context
word) and CBOW (the context words -> the target). Mikolov et al., 2013, "Distributed Representations of Words and
Phrases and their Compositionality", https://arxiv.org/abs/1310.4546; the details follow their word2vec.c."""

import collections
import dataclasses
import itertools
import re

import numpy as np
import tensorflow as tf

from keras_suite.data.pipeline import prefetched
from keras_suite.errors import UserError

UNKNOWN = "[UNK]"  # id 0: words outside the vocabulary in queries, and CBOW's padding
WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")  # letters and digits, with inner apostrophes (o'er, king's)


def words_of(text):
    """The lowercased words of `text`."""
    return WORD.findall(text.lower())


@dataclasses.dataclass(frozen=True)
class WordCounts:
    """The vocabulary, most frequent word first, with id 0 for UNKNOWN; `counts[i]` is word i's count (0 for id 0)."""

    words: tuple
    counts: np.ndarray

    @classmethod
    def from_sentences(cls, sentences, min_count=1, max_words=None):
        """Words seen at least `min_count` times in lists of words, at most `max_words` of them (the most frequent;
        ties by first appearance)."""
        counter = collections.Counter(itertools.chain.from_iterable(sentences))
        kept = [(w, n) for w, n in counter.most_common(max_words) if n >= min_count]
        if not kept:
            raise UserError(f"no word is seen {min_count} times or more; lower data.min_count or give more text")
        return cls((UNKNOWN, *(w for w, _ in kept)), np.array([0, *(n for _, n in kept)], np.int64))

    @property
    def size(self):
        return len(self.words)

    @property
    def index(self):
        return {w: i for i, w in enumerate(self.words)}

    def encode(self, sentences):
        """int32 ids of each sentence's known words (unknown words are left out, as word2vec does)."""
        index = self.index
        return [np.array([index[w] for w in s if w in index], np.int32) for s in sentences]


def keep_probabilities(counts, threshold):
    """Probability of keeping each occurrence of a word with relative frequency f: (sqrt(f / t) + 1) t / f, at most
    1 (word2vec.c's subsampling); `threshold` t <= 0 keeps every word."""
    counts = np.asarray(counts, np.float64)
    if threshold <= 0:
        return np.ones_like(counts)
    f = counts / counts.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        keep = (np.sqrt(f / threshold) + 1) * threshold / f
    return np.where(counts > 0, np.minimum(keep, 1.0), 0.0)


def noise_distribution(counts, power=0.75):
    """The negatives' distribution: counts ** power, normalized (id 0 never drawn)."""
    p = np.asarray(counts, np.float64) ** power
    p[0] = 0.0
    return p / p.sum()


def flatten(sentences):
    """(ids, sentence): the words of all sentences (arrays of ids) in one array, and each word's sentence number."""
    ids = np.concatenate(sentences) if sentences else np.zeros(0, np.int32)
    return ids, np.repeat(np.arange(len(sentences)), [len(s) for s in sentences])


def _stream(sentences, keep, rng):
    """The subsampled words of all sentences in one array, with each word's sentence number."""
    ids, sentence = flatten(sentences)
    kept = rng.random(len(ids)) < keep[ids]
    return ids[kept], sentence[kept]


def context_windows(ids, sentence, window, rng):
    """(contexts (N, 2 * window) int32, 0 where none) of every position: the words at most b positions away in the
    same sentence, b drawn uniformly from 1..window per position (word2vec's reduced window)."""
    n = len(ids)
    reach = rng.integers(1, window + 1, n)
    contexts = np.zeros((n, 2 * window), np.int32)
    for k, offset in enumerate([*range(-window, 0), *range(1, window + 1)]):
        other = np.arange(n) + offset
        valid = (other >= 0) & (other < n) & (abs(offset) <= reach)
        valid[valid] &= sentence[other[valid]] == sentence[valid]
        contexts[valid, k] = ids[other[valid]]
    return contexts


class SkipGramStream:
    """Batches of one training pass over `sentences` (lists of ids), drawn afresh for every pass from
    (seed, pass number): subsampling, windows, order and negatives.

    Skip-gram batches are ({"target": (B,), "candidates": (B, 1 + negatives)}, labels (B, 1 + negatives)): the
    first candidate is a context word of the target, the others are negatives; CBOW batches are
    ({"context": (B, 2 * window), 0-padded, "candidates": ...}, labels) with the target first.
    """

    def __init__(self, sentences, counts, window=5, negatives=5, subsample=1e-3, batch_size=1024, cbow=False,
                 seed=0):
        self.sentences = [s for s in sentences if len(s)]
        self.window, self.negatives, self.batch_size, self.cbow, self.seed = window, negatives, batch_size, cbow, seed
        self.keep = keep_probabilities(counts, subsample)
        self.noise = np.cumsum(noise_distribution(counts))

    def examples(self, pass_number):
        """(inputs, candidates) of one pass, shuffled: skip-gram (targets (N,), candidates (N, 1 + negatives)) or
        CBOW (contexts (N, 2 * window), candidates)."""
        rng = np.random.default_rng([self.seed, pass_number])
        ids, sentence = _stream(self.sentences, self.keep, rng)
        contexts = context_windows(ids, sentence, self.window, rng)
        if self.cbow:
            has = contexts.any(axis=1)
            inputs, positives = contexts[has], ids[has]
        else:
            row, col = np.nonzero(contexts)
            inputs, positives = ids[row], contexts[row, col]
        order = rng.permutation(len(positives))
        negatives = np.searchsorted(self.noise, rng.random((len(order), self.negatives)), side="right")
        negatives = np.minimum(negatives, len(self.noise) - 1).astype(np.int32)
        return inputs[order], np.concatenate([positives[order, None], negatives], axis=1)

    def batches(self, pass_number):
        inputs, candidates = self.examples(pass_number)
        labels = np.zeros((1, 1 + self.negatives), np.float32)
        labels[0, 0] = 1.0
        key = "context" if self.cbow else "target"
        for start in range(0, len(candidates) - self.batch_size + 1, self.batch_size):
            part = slice(start, start + self.batch_size)
            yield {key: inputs[part], "candidates": candidates[part]}, np.repeat(labels, self.batch_size, axis=0)

    def batches_per_pass(self):
        """The batches of pass 0 (later passes hold about as many)."""
        return len(self.examples(0)[1]) // self.batch_size

    def dataset(self):
        """Endless tf.data batches, pass after pass from pass 0 for every iterator (a pass is drawn when the
        previous one is used up)."""
        k = 1 + self.negatives
        first = (tf.TensorSpec([self.batch_size, 2 * self.window], tf.int32) if self.cbow
                 else tf.TensorSpec([self.batch_size], tf.int32))
        signature = ({"context" if self.cbow else "target": first,
                      "candidates": tf.TensorSpec([self.batch_size, k], tf.int32)},
                     tf.TensorSpec([self.batch_size, k], tf.float32))
        return prefetched(tf.data.Dataset.counter().flat_map(
            lambda n: tf.data.Dataset.from_generator(lambda p: self.batches(int(p)), args=(n,),
                                                     output_signature=signature)))
