"""Token-by-token strategies: greedy and sampling with temperature, top-k and top-p."""

import tensorflow as tf

from keras_suite.decoding.filters import top_k_filter, top_p_filter


class Greedy:
    """Pick the most likely token at every step (beam search with width 1)."""

    reorders = False

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
        if isinstance(temperature, (int, float)) and temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {temperature}")
        if isinstance(top_k, int) and top_k < 0:
            raise ValueError(f"top_k must be >= 0, got {top_k}")
        if isinstance(top_p, (int, float)) and not 0 < top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {top_p}")
        self.temperature = temperature
        self.top_k = top_k
        self.top_p = top_p

    def select(self, logits, seed):
        temperature = tf.cast(self.temperature, logits.dtype)  # may be a tensor in exported graphs
        scaled = logits / tf.maximum(temperature, 1e-6)
        filtered = top_p_filter(top_k_filter(scaled, self.top_k), self.top_p)
        sampled = tf.squeeze(tf.random.stateless_categorical(filtered, 1, seed, dtype=tf.int32), -1)
        return tf.where(temperature > 0, sampled, super().select(logits, seed))
