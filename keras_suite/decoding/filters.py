"""Logit filters for sampling: top-k (Fan et al., 2018) and nucleus/top-p (Holtzman et al., 2019)."""

import tensorflow as tf

NEG_INF = -1e9


def top_k_filter(logits, k):
    """Keep the `k` largest logits of the last axis, set the rest to -inf-like; k <= 0 keeps all.

    Fan et al., 2018, "Hierarchical Neural Story Generation", https://arxiv.org/abs/1805.04833.
    """
    k = tf.convert_to_tensor(k, tf.int32)
    vocab = tf.shape(logits)[-1]

    def apply():
        kth = tf.math.top_k(logits, k=tf.minimum(k, vocab)).values[..., -1:]
        return tf.where(logits < kth, tf.cast(NEG_INF, logits.dtype), logits)

    return tf.cond(k > 0, apply, lambda: logits)


def top_p_filter(logits, p):
    """Keep the smallest set of most likely tokens whose probability mass reaches `p` (at least one).

    Holtzman et al., 2019, "The Curious Case of Neural Text Degeneration", https://arxiv.org/abs/1904.09751.
    """
    p = tf.convert_to_tensor(p, logits.dtype)
    order = tf.argsort(logits, axis=-1, direction="DESCENDING")
    sorted_logits = tf.gather(logits, order, batch_dims=1)
    cumulative = tf.cumsum(tf.nn.softmax(sorted_logits), axis=-1, exclusive=True)
    keep_sorted = cumulative < p  # mass before this token is below p: the token is needed
    keep_sorted = tf.concat([tf.ones_like(keep_sorted[..., :1]), keep_sorted[..., 1:]], axis=-1)
    keep = tf.scatter_nd(
        tf.stack([tf.broadcast_to(tf.range(tf.shape(order)[0])[:, None], tf.shape(order)), order], axis=-1),
        keep_sorted, tf.shape(logits))
    filtered = tf.where(keep, logits, tf.cast(NEG_INF, logits.dtype))
    return tf.cond(p < 1.0, lambda: filtered, lambda: logits)
