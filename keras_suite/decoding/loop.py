"""The one decoding loop shared by every generator (char-RNN, seq2seq, transformer)."""

import tensorflow as tf


def decode(next_fn, start_tokens, state, length, strategy, seed=(0, 0), end_token=None):
    """Run `next_fn(tokens (B,), state) -> (logits (B, V), state)` for `length` steps.

    The strategy picks each next token from the logits.
    Incremental `state` (RNN states, attention caches) makes each step O(1) in the prefix length.
    Deterministic for a given `seed` (two ints). Returns `strategy.finalize(tokens (B, length), search)`.
    """
    tokens, state, search = strategy.initialize(tf.convert_to_tensor(start_tokens, tf.int32), state)
    seed = tf.convert_to_tensor(seed, tf.int64)
    steps = tf.TensorArray(tf.int32, size=length)
    for t in tf.range(length):
        logits, state = next_fn(tokens, state)
        tokens, search = strategy.step(logits, search, tf.random.experimental.stateless_fold_in(seed, t), end_token)
        steps = steps.write(t, tokens)
    return strategy.finalize(tf.transpose(steps.stack()), search)


def continue_text(next_fn, prime, state, length, strategy, seed=(0, 0), end_token=None):
    """Feed `prime` (B, P >= 1) through `next_fn` to build the state, then `decode` `length` tokens after it."""
    prime = tf.convert_to_tensor(prime, tf.int32)
    for t in tf.range(tf.shape(prime)[1] - 1):
        _, state = next_fn(prime[:, t], state)
    return decode(next_fn, prime[:, -1], state, length, strategy, seed, end_token)
