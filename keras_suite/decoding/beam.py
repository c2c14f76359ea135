"""Batched beam search with length normalization and n-best output.

Wu et al., 2016, "Google's Neural Machine Translation System", https://arxiv.org/abs/1609.08144
(length normalization); Klein et al., 2017, OpenNMT (finished hypotheses kept in the beam).
"""

import tensorflow as tf

NEG = -1e9


class BeamSearch:
    """Keep the `width` best hypotheses per input, all of them in one (batch * width) tensor.

    Hypotheses are ranked by `log P(y|x) / len(y) ** alpha`, where len counts the generated tokens
    up to and including the end token; alpha = 0 is plain beam search, width 1 is greedy search.
    A finished hypothesis stays in the beam with a frozen score and only extends with the end
    token, so it competes with the live ones until the search ends. Rows are batch-major: row
    `b * width + k` is beam k of input b.

    Args:
        width: beam width B (int or scalar tensor).
        alpha: length normalization exponent (float or scalar tensor).
        nbest: how many hypotheses `finalize` returns per input (<= width).

    Example:
        >>> tokens, scores = decode(next_fn, start, state, 20, BeamSearch(5, 0.7, nbest=3), end_token=2)
        >>> tokens.shape, scores.shape   # (batch, 3, 20), (batch, 3), best first
    """

    reorders = True

    def __init__(self, width=5, alpha=0.7, nbest=1):
        if isinstance(width, int) and width < 1:
            raise ValueError(f"beam width must be >= 1, got {width}")
        if isinstance(alpha, (int, float)) and alpha < 0:
            raise ValueError(f"alpha must be >= 0, got {alpha}")
        if isinstance(nbest, int) and isinstance(width, int) and not 1 <= nbest <= width:
            raise ValueError(f"nbest must be in 1..width ({width}), got {nbest}")
        self.width = width
        self.alpha = alpha
        self.nbest = nbest

    def expand(self, x):
        """Repeat each row of a batch-major tensor `width` times (batch -> batch * width)."""
        return tf.repeat(x, self.width, axis=0)

    def initialize(self, start_tokens, state):
        batch = tf.shape(start_tokens)[0]
        first = tf.one_hot(tf.zeros([batch], tf.int32), self.width, on_value=0.0, off_value=NEG)
        search = {"log_prob": tf.reshape(first, [-1]),  # only beam 0 is live at the start: no duplicates
                  "length": tf.zeros([batch * self.width], tf.int32),
                  "finished": tf.zeros([batch * self.width], tf.bool),
                  "parents": tf.range(batch * self.width)}
        return self.expand(start_tokens), tf.nest.map_structure(self.expand, state), search

    def normalize(self, log_prob, length):
        """Length-normalized score `log_prob / length ** alpha`."""
        alpha = tf.cast(self.alpha, tf.float32)
        return log_prob / tf.pow(tf.maximum(tf.cast(length, tf.float32), 1.0), alpha)

    def step(self, logits, search, seed, end_token):
        """Expand every hypothesis by every token and keep the `width` best per input."""
        log_probs = tf.nn.log_softmax(tf.cast(logits, tf.float32))
        rows, vocab = tf.shape(log_probs)[0], tf.shape(log_probs)[1]
        finished = search["finished"]
        if end_token is not None:  # a finished hypothesis continues with the end token only, for free
            only_end = tf.one_hot(tf.fill([rows], end_token), vocab, on_value=0.0, off_value=NEG)
            log_probs = tf.where(finished[:, None], only_end, log_probs)
        total = search["log_prob"][:, None] + log_probs
        length = search["length"] + tf.cast(~finished, tf.int32)
        scores = self.normalize(total, tf.broadcast_to(length[:, None], tf.shape(total)))
        batch = rows // self.width
        best, index = tf.math.top_k(tf.reshape(scores, [batch, self.width * vocab]), k=self.width)
        beam, tokens = index // vocab, index % vocab
        parents = tf.reshape(beam + tf.range(batch)[:, None] * self.width, [-1])
        tokens = tf.reshape(tokens, [-1])
        flat = parents * vocab + tokens
        new_finished = tf.gather(finished, parents)
        if end_token is not None:
            new_finished = new_finished | tf.equal(tokens, end_token)
        search = {"log_prob": tf.gather(tf.reshape(total, [-1]), flat),
                  "length": tf.gather(length, parents),
                  "finished": new_finished,
                  "parents": parents}
        return tokens, search

    def finalize(self, tokens, search):
        """(tokens (batch, nbest, T), scores (batch, nbest)): best first, scores length-normalized.

        Rows are already sorted: each step's top_k orders the beams of an input by score.
        """
        steps = tf.shape(tokens)[1]
        tokens = tf.reshape(tokens, [-1, self.width, steps])[:, :self.nbest]
        scores = tf.reshape(self.normalize(search["log_prob"], search["length"]), [-1, self.width])
        return tokens, scores[:, :self.nbest]
