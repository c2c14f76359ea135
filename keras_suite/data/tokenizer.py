"""Text <-> token ids in the graph, at character, word or subword level, with start/end/padding tokens.

Standardization, splitting and lookup are TensorFlow string ops and `keras.layers.StringLookup`
(subwords: `keras_suite.data.wordpiece`), so training pipelines, evaluation and exported `translate`
signatures tokenize identically.
"""

import collections
import json

import keras
import numpy as np
import tensorflow as tf

from keras_suite.choices import TOKEN_LEVELS as LEVELS
from keras_suite.data.wordpiece import CONTINUE, learn_pieces, split_words

PAD, UNK, START, END = "", "[UNK]", "[START]", "[END]"
PAD_ID, UNK_ID, START_ID, END_ID = 0, 1, 2, 3


def not_padding(vocab_size):
    """(vocab_size, 1) float32, 0 for the padding id and 1 for every other id: looked up by the source ids, it
    gives the source mask as floats."""
    column = np.ones((vocab_size, 1), np.float32)
    column[PAD_ID] = 0.0
    return column


SUBWORD_VOCAB = 2000  # pieces learned when no size is given


class Tokenizer:
    """A vocabulary and the rules that turn text into its tokens.

    Ids: 0 padding, 1 unknown, 2 start, 3 end, then `tokens` in order. Word level lower-cases
    (optionally), puts spaces around punctuation and symbols and splits on whitespace; subword level
    then splits each word into pieces (`wordpiece.split_word`: a word that no pieces cover is one
    unknown token); character level lower-cases (optionally) and collapses runs of whitespace to one space.
    """

    def __init__(self, tokens, level="char", lowercase=True):
        if level not in LEVELS:
            raise ValueError(f"level must be one of {', '.join(LEVELS)}, got '{level}'")
        self.tokens = tuple(tokens)
        self.level = level
        self.lowercase = lowercase
        self.separator = "" if level == "char" else " "
        self.longest = max((len(t.removeprefix(CONTINUE)) for t in self.tokens), default=1)  # subword pieces
        self._lookup = keras.layers.StringLookup(vocabulary=[START, END, *self.tokens], mask_token=PAD,
                                                 oov_token=UNK)
        self._inverse = keras.layers.StringLookup(vocabulary=[START, END, *self.tokens], mask_token=PAD,
                                                  oov_token=UNK, invert=True)

    @classmethod
    def from_texts(cls, texts, level="char", lowercase=True, max_tokens=None):
        """The tokens of `texts`, most frequent first (ties alphabetical), at most `max_tokens` of them; at subword
        level, about `max_tokens` pieces (SUBWORD_VOCAB if None) learned from the words of `texts`."""
        probe = cls((), level, lowercase)
        counts = collections.Counter()
        for start in range(0, len(texts), 4096):
            batch = tf.constant(texts[start:start + 4096])
            pieces = (probe.words(batch) if level == "subword" else probe.split(batch)).flat_values.numpy()
            counts.update(p.decode("utf-8") for p in pieces)
        if level == "subword":
            words = (word for word, count in sorted(counts.items()) for _ in range(count))
            return cls(learn_pieces(words, max_tokens or SUBWORD_VOCAB), level, lowercase)
        ordered = sorted(counts, key=lambda t: (-counts[t], t))
        return cls(ordered[:max_tokens] if max_tokens else ordered, level, lowercase)

    @property
    def size(self):
        return len(self.tokens) + 4

    @property
    def layers(self):
        """The lookup layers (built), for exports to track."""
        self._lookup(tf.constant([""])), self._inverse(tf.constant([0]))
        return [self._lookup, self._inverse]

    def standardize(self, text):
        if self.lowercase:
            text = tf.strings.lower(text, encoding="utf-8")
        if self.level != "char":
            text = tf.strings.regex_replace(text, r"([\pP\pS])", r" \1 ")
        return tf.strings.strip(tf.strings.regex_replace(text, r"\s+", " "))

    def words(self, text):
        """Ragged words of a batch of texts (after standardizing)."""
        return tf.strings.split(self.standardize(text))

    def split(self, text):
        """Ragged string tokens of a batch of texts."""
        if self.level == "char":
            return tf.strings.unicode_split(self.standardize(text), "UTF-8")
        words = self.words(text)
        if self.level == "word":
            return words
        pieces = split_words(words.flat_values, self._lookup, UNK_ID, self.longest, UNK)
        return tf.RaggedTensor.from_nested_row_lengths(
            pieces.flat_values, [words.row_lengths(), pieces.row_lengths()]).merge_dims(1, 2)

    def encode(self, text):
        """Ragged int32 ids of a batch of texts (no start/end tokens)."""
        return tf.cast(self._lookup(self.split(text)), tf.int32)

    def encode_ended(self, texts, max_tokens=None):
        """int32 (N, T + 1): each text's ids (the first `max_tokens` of them), then the end id, 0-padded to the
        longest."""
        rows = [[*ids[:max_tokens], END_ID] for ids in self.encode(tf.constant(list(texts))).to_list()]
        padded = np.zeros((len(rows), max(map(len, rows), default=1)), np.int32)
        for i, row in enumerate(rows):
            padded[i, :len(row)] = row
        return padded

    def decode(self, ids):
        """Texts of padded id rows (batch, T), each cut at its first end token; unknown ids read [UNK]."""
        ids = tf.convert_to_tensor(ids, tf.int32)
        ended = tf.cumsum(tf.cast(tf.equal(ids, END_ID), tf.int32), axis=-1) > 0
        keep = tf.logical_not(ended) & tf.not_equal(ids, PAD_ID) & tf.not_equal(ids, START_ID)
        kept = tf.ragged.boolean_mask(ids, keep)
        text = tf.strings.reduce_join(self._inverse(kept), axis=-1, separator=self.separator)
        if self.level == "subword":  # pieces that continue a word join it
            text = tf.strings.regex_replace(tf.strings.regex_replace(text, " " + CONTINUE, ""), "^" + CONTINUE, "")
        return text

    def unknown(self, text):
        """The tokens of one text that are outside the vocabulary (subword level: the words no pieces cover)."""
        if self.level == "subword":
            words = self.words(tf.constant([text])).flat_values
            pieces = split_words(words, self._lookup, UNK_ID, self.longest, UNK).to_list()
            return sorted({w.decode("utf-8") for w, p in zip(words.numpy(), pieces) if p == [UNK.encode()]})
        pieces = self.split(tf.constant([text])).flat_values.numpy()
        known = set(self.tokens)
        return sorted({p.decode("utf-8") for p in pieces} - known)

    def to_json(self):
        return json.dumps({"level": self.level, "lowercase": self.lowercase,
                           "special": [PAD, UNK, START, END], "tokens": list(self.tokens)}, ensure_ascii=False)

    @classmethod
    def from_json(cls, text):
        data = json.loads(text)
        return cls(data["tokens"], data["level"], data["lowercase"])
