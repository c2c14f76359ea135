"""Character vocabulary: index 0 is the out-of-vocabulary token, then the corpus's characters."""

import json

import keras
import numpy as np

OOV, OOV_ID = "[UNK]", 0


class CharVocabulary:
    """The characters of a corpus, sorted; ids are 1..N with 0 for anything unseen.

    The same mapping runs in the graph through `keras.layers.StringLookup` (`lookup_layer`,
    `inverse_layer`), so exported models tokenize exactly as training did.
    """

    def __init__(self, chars):
        self.chars = tuple(chars)
        if len(set(self.chars)) != len(self.chars) or any(len(c) != 1 for c in self.chars):
            raise ValueError("a character vocabulary needs distinct single characters")
        self._codepoints = np.zeros(max((ord(c) for c in self.chars), default=0) + 1, np.int32)
        self._codepoints[[ord(c) for c in self.chars]] = np.arange(1, len(self.chars) + 1)

    @classmethod
    def from_text(cls, text):
        return cls(sorted(set(text)))

    @property
    def size(self):
        return len(self.chars) + 1

    def encode(self, text):
        """int32 ids of each character of `text` (0 for characters outside the vocabulary)."""
        points = np.frombuffer(text.encode("utf-32-le"), np.uint32).astype(np.int64)
        ids = np.zeros(len(points), np.int32)
        known = points < len(self._codepoints)
        ids[known] = self._codepoints[points[known]]
        return ids

    def decode(self, ids):
        table = (OOV,) + self.chars
        return "".join(table[int(i)] for i in ids)

    def unknown(self, text):
        """The characters of `text` that map to the out-of-vocabulary id."""
        return sorted(set(text) - set(self.chars))

    def lookup_layer(self):
        return keras.layers.StringLookup(vocabulary=list(self.chars), num_oov_indices=1, oov_token=OOV)

    def inverse_layer(self):
        return keras.layers.StringLookup(vocabulary=list(self.chars), num_oov_indices=1, oov_token=OOV,
                                         invert=True)

    def to_json(self):
        return json.dumps({"oov": OOV, "chars": list(self.chars)}, ensure_ascii=False)

    @classmethod
    def from_json(cls, text):
        return cls(json.loads(text)["chars"])
