"""Text <-> token ids in the graph, at character or word level, with start/end/padding tokens.

Standardization, splitting and lookup are TensorFlow string ops and `keras.layers.StringLookup`,
so training pipelines, evaluation and exported `translate` signatures tokenize identically.
"""

import collections
import json

import keras
import tensorflow as tf

from keras_suite.choices import TOKEN_LEVELS as LEVELS

PAD, UNK, START, END = "", "[UNK]", "[START]", "[END]"
PAD_ID, UNK_ID, START_ID, END_ID = 0, 1, 2, 3


class Tokenizer:
    """A vocabulary and the rules that turn text into its tokens.

    Ids: 0 padding, 1 unknown, 2 start, 3 end, then `tokens` in order. Word level lower-cases
    (optionally), puts spaces around punctuation and symbols and splits on whitespace; character
    level lower-cases (optionally) and collapses runs of whitespace to one space.
    """

    def __init__(self, tokens, level="char", lowercase=True):
        if level not in LEVELS:
            raise ValueError(f"level must be one of {', '.join(LEVELS)}, got '{level}'")
        self.tokens = tuple(tokens)
        self.level = level
        self.lowercase = lowercase
        self.separator = "" if level == "char" else " "
        self._lookup = keras.layers.StringLookup(vocabulary=[START, END, *self.tokens], mask_token=PAD,
                                                 oov_token=UNK)
        self._inverse = keras.layers.StringLookup(vocabulary=[START, END, *self.tokens], mask_token=PAD,
                                                  oov_token=UNK, invert=True)

    @classmethod
    def from_texts(cls, texts, level="char", lowercase=True, max_tokens=None):
        """The tokens of `texts`, most frequent first (ties alphabetical), at most `max_tokens` of them."""
        probe = cls((), level, lowercase)
        counts = collections.Counter()
        for start in range(0, len(texts), 4096):
            pieces = probe.split(tf.constant(texts[start:start + 4096])).flat_values.numpy()
            counts.update(p.decode("utf-8") for p in pieces)
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
        if self.level == "word":
            text = tf.strings.regex_replace(text, r"([\pP\pS])", r" \1 ")
        return tf.strings.strip(tf.strings.regex_replace(text, r"\s+", " "))

    def split(self, text):
        """Ragged string tokens of a batch of texts."""
        text = self.standardize(text)
        if self.level == "char":
            return tf.strings.unicode_split(text, "UTF-8")
        return tf.strings.split(text)

    def encode(self, text):
        """Ragged int32 ids of a batch of texts (no start/end tokens)."""
        return tf.cast(self._lookup(self.split(text)), tf.int32)

    def decode(self, ids):
        """Texts of padded id rows (batch, T), each cut at its first end token; unknown ids read [UNK]."""
        ids = tf.convert_to_tensor(ids, tf.int32)
        ended = tf.cumsum(tf.cast(tf.equal(ids, END_ID), tf.int32), axis=-1) > 0
        keep = tf.logical_not(ended) & tf.not_equal(ids, PAD_ID) & tf.not_equal(ids, START_ID)
        kept = tf.ragged.boolean_mask(ids, keep)
        return tf.strings.reduce_join(self._inverse(kept), axis=-1, separator=self.separator)

    def unknown(self, text):
        """The tokens of one text that are outside the vocabulary."""
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
