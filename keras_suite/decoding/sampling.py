"""Token-by-token strategies: greedy and sampling with temperature, top-k and top-p."""

import tensorflow as tf

from keras_suite.decoding.filters import top_k_filter, top_p_filter


class Greedy:
    """Pick the most likely token at every step (beam search with width 1)."""

    def initialize(self, start_tokens, state):
        batch = tf.shape(start_tokens)[0]
        return start_tokens, state, {"log_prob": tf.zeros([batch]), "finished": tf.zeros([batch], tf.bool)}

    def select(self, logits, seed):
        return tf.argmax(logits, axis=-1, output_type=tf.int32)

    def step(self, logits, search, seed, end_token):
        """Choose the next tokens; returns (tokens, search)."""
        logits = tf.cast(logits, tf.float32)
        tokens = self.select(logits, seed)
        log_probs = tf.gather(tf.nn.log_softmax(logits), tokens, batch_dims=1)
        finished = search["finished"]
        if end_token is not None:
            tokens = tf.where(finished, tf.constant(end_token, tf.int32), tokens)
        log_prob = search["log_prob"] + tf.where(finished, 0.0, log_probs)
        if end_token is not None:
            finished = finished | tf.equal(tokens, end_token)
        return tokens, {"log_prob": log_prob, "finished": finished}

    def finalize(self, tokens, search):
        """(tokens (B, T), scores (B,)): the sum of log-probabilities of the chosen tokens."""
        return tokens, search["log_prob"]


class Sampling(Greedy):
    """Sample from the model's distribution after temperature, top-k and top-p filtering.

    Args:
        temperature: divides the logits; 0 means greedy.
        top_k: sample among the k most likely tokens (0: all).
        top_p: sample among the most likely tokens holding this probability mass (1: all).
    """

    def __init__(self, temperature=1.0, top_k=0, top_p=1.0):
        if temperature < 0 or top_k < 0 or not 0 < top_p <= 1:
            raise ValueError("need temperature >= 0, top_k >= 0 and 0 < top_p <= 1")
        self.temperature = temperature
        self.top_k = top_k
        self.top_p = top_p

    def select(self, logits, seed):
        if self.temperature == 0:
            return super().select(logits, seed)
        logits = top_p_filter(top_k_filter(logits / self.temperature, self.top_k), self.top_p)
        return tf.squeeze(tf.random.stateless_categorical(logits, 1, seed, dtype=tf.int32), -1)
