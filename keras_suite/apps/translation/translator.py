"""Text in, translations out: tokenizers + an incremental encoder-decoder + the shared decoding loop.

Used by the seq2seq and transformer apps for `translate`, `evaluate`, `analyze`, the TensorBoard
samples and the exported `translate` signature. Any model fits that offers
`encode(source ids (B, S)) -> state` and `step(tokens (B,), state) -> (logits, state)`.
"""

import logging

import tensorflow as tf

from keras_suite import decoding
from keras_suite.data.tokenizer import END_ID, START_ID, Tokenizer
from keras_suite.decoding import sequence_log_prob
from keras_suite.errors import UserError

log = logging.getLogger("keras_suite")


def search(decoder, source_ids, strategy, max_length, seed=(0, 0)):
    """(tokens (B, N, T), scores (B, N)) for padded source ids (B, S): graph-friendly."""
    return decoding.search(decoder, source_ids, strategy, max_length, START_ID, END_ID, seed)


class Translator:
    """Translate and score texts with a trained encoder-decoder.

    Args:
        source_tok, target_tok: the run's tokenizers.
        decoder: object with `encode` and `step` (e.g. `IncrementalSeq2Seq`).
        max_length: most target tokens generated (end token included).
        max_source_length: longer inputs are truncated (with a warning) or refused.
        overlong: "truncate" or "error".
        seed: seed of sampling strategies (searches are deterministic).
    """

    def __init__(self, source_tok, target_tok, decoder, max_length, max_source_length, overlong="error", seed=0):
        if overlong not in ("truncate", "error"):
            raise UserError(f"overlong must be truncate or error, got '{overlong}'")
        self.source_tok, self.target_tok, self.decoder = source_tok, target_tok, decoder
        self.max_length, self.max_source_length, self.overlong = max_length, max_source_length, overlong
        self.seed = (seed, 0)
        self._searches = {}
        self._words = Tokenizer((), "word", target_tok.lowercase)  # BLEU's tokenization, whatever the model's
        self._score = tf.function(lambda s, t: sequence_log_prob(
            self.decoder.step, tf.fill([tf.shape(s)[0]], START_ID), self.decoder.encode(s), t, END_ID),
            reduce_retracing=True)

    def source_ids(self, texts, strict=False):
        """Padded int32 source ids (B, S); `strict` refuses empty texts and unknown tokens (one-line errors)."""
        ragged = self.source_tok.encode(tf.constant(list(texts)))
        lengths = ragged.row_lengths().numpy()
        for i, text in enumerate(texts):
            if strict and lengths[i] == 0:
                raise UserError("the text to translate is empty")
            unknown = self.source_tok.unknown(text) if strict else []
            if unknown:
                what = ("words that no subword of the vocabulary covers" if self.source_tok.level == "subword"
                        else f"{self.source_tok.level}s outside the vocabulary")
                raise UserError(f"text has {what}: {' '.join(repr(t) for t in unknown[:10])}")
            if lengths[i] > self.max_source_length:
                if self.overlong == "error":
                    raise UserError(f"text {i + 1} has {lengths[i]} {self.source_tok.level}s, more than "
                                    f"data.max_source_length={self.max_source_length} (or set data.overlong=truncate)")
                log.warning("text %d truncated from %d to %d %ss", i + 1, lengths[i], self.max_source_length,
                            self.source_tok.level)
        return ragged[:, :self.max_source_length].to_tensor()

    def search_ids(self, source_ids, strategy):
        key = (type(strategy).__name__, *(getattr(strategy, a, None) for a in
                                          ("width", "alpha", "nbest", "temperature", "top_k", "top_p")))
        if key not in self._searches:
            self._searches[key] = tf.function(lambda s: search(self.decoder, s, strategy, self.max_length, self.seed),
                                              reduce_retracing=True)
        return self._searches[key](tf.convert_to_tensor(source_ids, tf.int32))

    def translate(self, texts, strategy, batch_size=256, strict=False):
        """For each text, the n-best list of (translation, score), best first."""
        results = []
        for start in range(0, len(texts), batch_size):
            chunk = list(texts[start:start + batch_size])
            tokens, scores = self.search_ids(self.source_ids(chunk, strict), strategy)
            n = tokens.shape[1]
            words = self.target_tok.decode(tf.reshape(tokens, [-1, tokens.shape[2]])).numpy()
            for i in range(len(chunk)):
                results.append([(words[i * n + j].decode("utf-8"), float(scores[i, j])) for j in range(n)])
        return results

    def target_ids(self, texts):
        """Padded target ids with the end token appended (B, T + 1)."""
        return self.target_tok.encode_ended(texts)

    def score_ids(self, source_ids, target_ids):
        """(log P(target | source), length incl. the end token) as numpy arrays, for padded id batches."""
        log_prob, length = self._score(tf.convert_to_tensor(source_ids, tf.int32),
                                       tf.convert_to_tensor(target_ids, tf.int32))
        return log_prob.numpy(), length.numpy()

    def token_lists(self, texts):
        """Target-side texts as the word lists BLEU and exact match compare (words and punctuation,
        as in BLEU's usual 13a tokenization), independent of the model's character or word tokens."""
        return _token_lists(self._words, texts)

    def model_tokens(self, text, side="source"):
        """One text as the model's own tokens (characters or words) on that side."""
        return _token_lists(self.source_tok if side == "source" else self.target_tok, [text])[0]


def _token_lists(tokenizer, texts):
    if not texts:
        return []
    return [[t.decode("utf-8") for t in row] for row in tokenizer.split(tf.constant(list(texts))).to_list()]
