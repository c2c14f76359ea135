import itertools

import numpy as np
import pytest
import tensorflow as tf

from keras_suite.decoding import BeamSearch, Greedy, decode

V, T = 5, 3
rng = np.random.default_rng(0)
# A position-dependent bigram "model": logits[t, previous token] (the state counts the steps).
TABLE = rng.normal(0, 2.0, size=(T + 2, V, V)).astype(np.float32)
LOGP = TABLE - np.log(np.exp(TABLE).sum(-1, keepdims=True))


def markov(tokens, state):
    return tf.gather_nd(TABLE, tf.stack([state, tokens], -1)), state + 1


def exhaustive(start, length):
    """Every sequence of `length` tokens with its log-probability, best first."""
    scored = []
    for seq in itertools.product(range(V), repeat=length):
        prev, total = start, 0.0
        for t, tok in enumerate(seq):
            total += LOGP[t, prev, tok]
            prev = tok
        scored.append((total, list(seq)))
    return sorted(scored, reverse=True)


@pytest.mark.parametrize("length, width", [(2, V), (3, V * V)])
def test_beam_with_enough_width_finds_the_exhaustive_optimum(length, width):
    starts = [0, 3]
    tokens, scores = decode(markov, starts, tf.zeros([2], tf.int32), length, BeamSearch(width, alpha=0.0, nbest=3))
    for i, start in enumerate(starts):
        best = exhaustive(start, length)[:3]
        assert tokens.numpy()[i].tolist() == [seq for _, seq in best]
        np.testing.assert_allclose(scores.numpy()[i], [s for s, _ in best], rtol=1e-5)


def test_width_one_is_greedy():
    greedy, greedy_scores = decode(markov, [0, 1, 2], tf.zeros([3], tf.int32), T, Greedy())
    beam, beam_scores = decode(markov, [0, 1, 2], tf.zeros([3], tf.int32), T, BeamSearch(1, alpha=0.0))
    np.testing.assert_array_equal(beam.numpy()[:, 0], greedy.numpy())
    np.testing.assert_allclose(beam_scores.numpy()[:, 0], greedy_scores.numpy(), rtol=1e-6)


def test_wider_beams_never_score_worse():
    best = []
    for width in (1, 2, 3, 5, 10):
        _, scores = decode(markov, [0, 1, 2, 3, 4], tf.zeros([5], tf.int32), T, BeamSearch(width, alpha=0.0))
        best.append(scores.numpy()[:, 0])
    assert all((later >= earlier - 1e-6).all() for earlier, later in zip(best, best[1:]))


def test_nbest_scores_are_sorted_and_distinct():
    tokens, scores = decode(markov, [0, 4], tf.zeros([2], tf.int32), T, BeamSearch(8, alpha=0.7, nbest=8), end_token=1)
    s = scores.numpy()
    assert (np.diff(s, axis=1) <= 1e-6).all()
    for row in tokens.numpy():
        assert len({tuple(seq) for seq in row.tolist()}) == 8


# Length normalization: from token 0 the model ends at once with p=0.4 (end token 1) or says
# 2 (p=0.5) and then mostly ends: P("end") = 0.5 > P("2 end") = 0.5 * 0.9, but per token the
# long one is better: log(0.45) / 2 > log(0.5).
SHORT = np.log(np.array([
    [1e-6, 0.5, 0.5 - 2e-6, 1e-6],
    [0.01, 0.97, 0.01, 0.01],
    [0.05, 0.9, 0.025, 0.025],
    [0.25, 0.25, 0.25, 0.25],
], np.float32))


def short_or_long(tokens, state):
    return tf.gather(SHORT, tokens), state


@pytest.mark.parametrize("alpha, expected", [(0.0, [1, 1, 1]), (1.0, [2, 1, 1])])
def test_length_normalization_decides_between_short_and_long(alpha, expected):
    tokens, scores = decode(short_or_long, [0], tf.zeros([1]), 3, BeamSearch(3, alpha=alpha, nbest=2), end_token=1)
    assert tokens.numpy()[0, 0].tolist() == expected
    short, long = np.log(0.5), np.log(0.5 - 2e-6) + np.log(0.9)
    want = max(short, long / 2 ** alpha)
    assert scores.numpy()[0, 0] == pytest.approx(want, rel=1e-4)


def test_finished_hypotheses_stop_the_loop_and_pad_with_the_end_token():
    calls = []

    def counting(tokens, state):
        calls.append(1)
        return short_or_long(tokens, state)

    tokens, _ = decode(counting, [0], tf.zeros([1]), 10, BeamSearch(2, alpha=0.0), end_token=1)
    assert tokens.numpy()[0, 0].tolist() == [1] * 10
    assert len(calls) < 10  # every beam had ended after a few steps


TRIGRAM = rng.normal(0, 2.0, size=(V, V, V)).astype(np.float32)


def test_state_is_reordered_with_the_beams():
    # A trigram model whose memory of the token before last lives only in the state: the search
    # finds the exhaustive optimum only if every hypothesis keeps its own state through reordering.
    def trigram(tokens, before):
        return tf.gather_nd(TRIGRAM, tf.stack([before, tokens], -1)), tokens

    logp = TRIGRAM - np.log(np.exp(TRIGRAM).sum(-1, keepdims=True))
    for start in range(V):
        scored = sorted(((sum(logp[a, b, c] for a, b, c in zip((start, start) + seq, (start,) + seq, seq)), seq)
                         for seq in itertools.product(range(V), repeat=4)), reverse=True)[:5]
        tokens, scores = decode(trigram, [start], tf.constant([start]), 4, BeamSearch(V ** 3, alpha=0.0, nbest=5))
        assert [tuple(seq) for seq in tokens.numpy()[0]] == [seq for _, seq in scored]
        np.testing.assert_allclose(scores.numpy()[0], [s for s, _ in scored], rtol=1e-5)


def test_beam_search_runs_in_a_graph_with_tensor_width_and_alpha():
    @tf.function(input_signature=[tf.TensorSpec([None], tf.int32), tf.TensorSpec([], tf.int32),
                                  tf.TensorSpec([], tf.float32)])
    def search(start, width, alpha):
        return decode(markov, start, tf.zeros_like(start), T, BeamSearch(width, alpha), end_token=1)

    graph_tokens, graph_scores = search(tf.constant([0, 2]), tf.constant(4), tf.constant(0.7))
    eager_tokens, eager_scores = decode(markov, [0, 2], tf.zeros([2], tf.int32), T, BeamSearch(4, 0.7), end_token=1)
    np.testing.assert_array_equal(graph_tokens.numpy(), eager_tokens.numpy())
    np.testing.assert_allclose(graph_scores.numpy(), eager_scores.numpy(), rtol=1e-6)


def test_invalid_beam_arguments():
    with pytest.raises(ValueError):
        BeamSearch(0)
    with pytest.raises(ValueError):
        BeamSearch(3, alpha=-1.0)
    with pytest.raises(ValueError):
        BeamSearch(3, nbest=4)

