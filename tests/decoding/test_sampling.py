import numpy as np
import pytest
import tensorflow as tf

from keras_suite.decoding import Greedy, Sampling, decode, top_k_filter, top_p_filter

# A bigram "model": the next-token logits depend on the previous token only.
TABLE = np.log(np.array([
    [0.10, 0.60, 0.20, 0.10],
    [0.05, 0.05, 0.30, 0.60],
    [0.70, 0.10, 0.10, 0.10],
    [0.10, 0.20, 0.30, 0.40],
], np.float32))


def bigram(tokens, state):
    """next_fn: logits from the previous token; the state counts steps (checks it is carried)."""
    return tf.gather(TABLE, tokens), state + 1


def test_greedy_follows_argmax():
    tokens, scores = decode(bigram, [0, 2], tf.zeros([2]), 5, Greedy())
    expected = []
    for prev in (0, 2):
        seq = []
        for _ in range(5):
            prev = int(np.argmax(TABLE[prev]))
            seq.append(prev)
        expected.append(seq)
    assert tokens.numpy().tolist() == expected
    # 0 -> 1 (0.6) -> 3 (0.6) -> 3 (0.4) -> 3 (0.4) -> 3 (0.4)
    assert expected[0] == [1, 3, 3, 3, 3]
    assert scores.numpy()[0] == pytest.approx(np.log(0.6) * 2 + np.log(0.4) * 3, rel=1e-5)


def test_state_is_carried_through_steps():
    seen = []

    def counting(tokens, state):
        seen.append(int(state[0]))
        return bigram(tokens, state)

    decode(counting, [0], tf.zeros([1]), 4, Greedy())
    assert seen == [0, 1, 2, 3]


def test_temperature_zero_and_near_zero_equal_greedy():
    greedy, _ = decode(bigram, [0, 1, 2, 3], tf.zeros([4]), 8, Greedy())
    for temperature in (0.0, 1e-4):
        sampled, _ = decode(bigram, [0, 1, 2, 3], tf.zeros([4]), 8, Sampling(temperature=temperature), seed=(1, 2))
        np.testing.assert_array_equal(sampled.numpy(), greedy.numpy())


def test_sampling_is_deterministic_with_a_seed():
    start = tf.zeros([64], tf.int32)
    a, _ = decode(bigram, start, tf.zeros([64]), 10, Sampling(), seed=(3, 4))
    b, _ = decode(bigram, start, tf.zeros([64]), 10, Sampling(), seed=(3, 4))
    c, _ = decode(bigram, start, tf.zeros([64]), 10, Sampling(), seed=(5, 6))
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert not np.array_equal(a.numpy(), c.numpy())


def test_sampling_matches_the_model_distribution():
    tokens, _ = decode(bigram, tf.zeros([4000], tf.int32), tf.zeros([4000]), 1, Sampling(), seed=(0, 1))
    freq = np.bincount(tokens.numpy()[:, 0], minlength=4) / 4000
    np.testing.assert_allclose(freq, np.exp(TABLE[0]), atol=0.03)


def test_top_k_never_emits_outside_the_k_best():
    tokens, _ = decode(bigram, tf.fill([2000], 1), tf.zeros([2000]), 1, Sampling(top_k=2), seed=(0, 0))
    assert set(np.unique(tokens.numpy())) == {2, 3}
    filtered = top_k_filter(tf.constant(TABLE), 1).numpy()
    assert (np.argmax(filtered, -1) == np.argmax(TABLE, -1)).all()
    assert (filtered > -1e8).sum(-1).tolist() == [1, 1, 1, 1]
    ties = top_k_filter(tf.constant([[1.0, 1.0, 1.0, 0.0]]), 1).numpy()
    assert (ties > -1e8).sum() == 3  # every token tied with the k-th best is kept
    np.testing.assert_array_equal(top_k_filter(tf.constant(TABLE), 0).numpy(), TABLE)


@pytest.mark.parametrize("p, kept", [(0.4, {0}), (0.8, {0, 1}), (0.81, {0, 1, 2}), (1.0, {0, 1, 2, 3})])
def test_top_p_keeps_the_smallest_set_reaching_p(p, kept):
    logits = tf.math.log(tf.constant([[0.5, 0.3, 0.15, 0.05]]))
    filtered = top_p_filter(logits, p).numpy()[0]
    assert set(np.flatnonzero(filtered > -1e8)) == kept


def test_top_p_sampling_renormalizes_over_the_nucleus():
    logits = np.log(np.array([0.5, 0.3, 0.15, 0.05], np.float32))

    def fixed(tokens, state):
        return tf.tile(logits[None], [tf.shape(tokens)[0], 1]), state

    tokens, _ = decode(fixed, tf.zeros([4000], tf.int32), tf.zeros([4000]), 1, Sampling(top_p=0.7), seed=(7, 7))
    freq = np.bincount(tokens.numpy()[:, 0], minlength=4) / 4000
    np.testing.assert_allclose(freq, [0.625, 0.375, 0, 0], atol=0.03)


def test_end_token_stops_a_sequence():
    # From 2 the greedy path is 2 -> 0 -> 1 -> 3 ...; with end token 1 the tail stays 1.
    tokens, scores = decode(bigram, [2], tf.zeros([1]), 5, Greedy(), end_token=1)
    assert tokens.numpy()[0].tolist() == [0, 1, 1, 1, 1]
    assert scores.numpy()[0] == pytest.approx(np.log(0.7) + np.log(0.6), rel=1e-5)


def test_decode_runs_inside_a_graph():
    @tf.function(input_signature=[tf.TensorSpec([None], tf.int32)])
    def generate(start):
        return decode(bigram, start, tf.zeros(tf.shape(start)), 6, Sampling(top_k=3), seed=(1, 1))

    graph_tokens, _ = generate(tf.constant([0, 1, 2]))
    eager_tokens, _ = decode(bigram, [0, 1, 2], tf.zeros([3]), 6, Sampling(top_k=3), seed=(1, 1))
    np.testing.assert_array_equal(graph_tokens.numpy(), eager_tokens.numpy())


def test_invalid_sampling_arguments():
    with pytest.raises(ValueError):
        Sampling(top_p=0.0)
    with pytest.raises(ValueError):
        Sampling(temperature=-1.0)

