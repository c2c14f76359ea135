"""The one decoding loop shared by every generator (char-RNN, seq2seq, transformer, captioning)."""

import tensorflow as tf


def _reorder(structure, parents):
    return tf.nest.map_structure(lambda x: tf.gather(x, parents), structure)


def decode(next_fn, start_tokens, state, length, strategy, seed=(0, 0), end_token=None, first_step=0,
           return_state=False):
    """Run `next_fn(tokens (N,), state) -> (logits (N, V), state)` for up to `length` steps.

    The strategy picks each next token from the logits; a beam search (`strategy.reorders`) also
    says which hypothesis each row continues, and the loop reorders the written tokens and every
    tensor of `state` (any nest of batch-major tensors) accordingly. Incremental `state` (RNN
    states, attention caches) makes each step O(1) in the prefix length. With `end_token` the loop
    stops once every row has ended; the rest of the output is filled with `end_token`. Tokens are
    kept in a fixed (N, length) tensor rather than a TensorArray so the loop converts to TFLite
    builtin ops. Deterministic for a given `seed` (two ints); step t draws with the seed folded with
    `first_step + t`, so a long generation made of several calls (each going on from the last's state,
    `return_state`) draws what one call would.
    Returns `strategy.finalize(tokens, search)`, and the final state with `return_state`.
    """
    tokens, state, search = strategy.initialize(tf.convert_to_tensor(start_tokens, tf.int32), state)
    seed = tf.convert_to_tensor(seed, tf.int64)
    fill = 0 if end_token is None else end_token
    written = tf.fill(tf.stack([tf.shape(tokens)[0], length]), tf.constant(fill, tf.int32))
    columns = tf.range(length)[None, :]
    for t in tf.range(length):
        logits, state = next_fn(tokens, state)
        step_seed = tf.random.experimental.stateless_fold_in(seed, t + first_step)
        tokens, search = strategy.step(logits, search, step_seed, end_token)
        if strategy.reorders:
            written = tf.gather(written, search["parents"])
            state = _reorder(state, search["parents"])
        written = tf.where(tf.equal(columns, t), tokens[:, None], written)
        if end_token is not None and tf.reduce_all(search["finished"]):
            break
    result = strategy.finalize(written, search)
    return (*result, state) if return_state else result


def continue_text(next_fn, prime, state, length, strategy, seed=(0, 0), end_token=None, first_step=0,
                  return_state=False):
    """Feed `prime` (B, P >= 1) through `next_fn` to build the state, then `decode` `length` tokens after it."""
    prime = tf.convert_to_tensor(prime, tf.int32)
    for t in tf.range(tf.shape(prime)[1] - 1):
        _, state = next_fn(prime[:, t], state)
    return decode(next_fn, prime[:, -1], state, length, strategy, seed, end_token, first_step, return_state)


def search(decoder, inputs, strategy, max_length, start_token, end_token, seed=(0, 0)):
    """(tokens (B, N, T), scores (B, N)) for a batch of `inputs` (source ids, images: whatever
    `decoder.encode(inputs) -> state` takes; `decoder.step` is the next_fn): N is the strategy's n-best
    (1 for greedy search and sampling). Graph-friendly."""
    state = decoder.encode(inputs)
    start = tf.fill([tf.shape(inputs)[0]], start_token)
    tokens, scores = decode(decoder.step, start, state, max_length, strategy, seed, end_token=end_token)
    if not strategy.reorders:  # one hypothesis per input
        tokens, scores = tokens[:, None], scores[:, None]
    return tokens, scores
