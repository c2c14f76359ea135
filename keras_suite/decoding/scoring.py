"""Scoring given sequences with a decoder, and the search-vs-model error analysis built on it."""

import tensorflow as tf


def sequence_log_prob(next_fn, start_tokens, state, targets, end_token):
    """Teacher-forced `log P(targets | x)` through `next_fn`, and each sequence's length.

    `targets` (B, T) holds each sequence up to and including its end token (padding after it is
    ignored). Returns (log_prob (B,), length (B,)), the same quantities beam search ranks by.
    """
    targets = tf.convert_to_tensor(targets, tf.int32)
    tokens = tf.convert_to_tensor(start_tokens, tf.int32)
    batch = tf.shape(targets)[0]
    total, length = tf.zeros([batch]), tf.zeros([batch], tf.int32)
    live = tf.ones([batch], tf.bool)
    for t in tf.range(tf.shape(targets)[1]):
        logits, state = next_fn(tokens, state)
        tokens = targets[:, t]
        log_probs = tf.gather(tf.nn.log_softmax(tf.cast(logits, tf.float32)), tokens, batch_dims=1)
        total += tf.where(live, log_probs, 0.0)
        length += tf.cast(live, tf.int32)
        live = live & tf.not_equal(tokens, end_token)
    return total, length


def classify_errors(reference_scores, output_scores, correct):
    """Blame each wrong output on the search or the model (Ng, "Error analysis in beam search").

    When the model scores the reference y* above the search's output y_hat (P(y*|x) > P(y_hat|x))
    the search failed to find a better sequence the model preferred: a search error, fixed by a
    wider beam. Otherwise the model prefers its wrong output: a model error. Scores must use the
    search's objective (length-normalized log-probabilities). Returns counts and per-example labels.
    """
    labels = []
    for ref, out, ok in zip(reference_scores, output_scores, correct):
        labels.append("correct" if ok else ("search" if ref > out else "model"))
    errors = len(labels) - labels.count("correct")
    return {"examples": len(labels), "correct": labels.count("correct"), "errors": errors,
            "search_errors": labels.count("search"), "model_errors": labels.count("model"),
            "search_share": labels.count("search") / errors if errors else 0.0, "labels": labels}
