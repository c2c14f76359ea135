import collections

import numpy as np
import pytest

from keras_suite.data.cooccurrence import cached_cooccurrence, cooccurrence, glove_dataset, glove_weights
from keras_suite.data.relations import RELATIONS, analogy_questions, relation_sentences
from keras_suite.data.skipgrams import (
    SkipGramStream,
    WordCounts,
    context_windows,
    keep_probabilities,
    noise_distribution,
    words_of,
)
from keras_suite.errors import UserError


def test_relation_sentences_are_seeded_and_use_every_word_of_every_pair():
    first, again = relation_sentences(4000, seed=1), relation_sentences(4000, seed=1)
    assert first == again and first != relation_sentences(4000, seed=2)
    seen = set(words_of(" ".join(first)))
    for rel in RELATIONS.values():
        for a, b, topic in rel.pairs:
            assert {a, b, topic} <= seen
    words = [w for rel in RELATIONS.values() for a, b, _ in rel.pairs for w in (a, b)]
    assert len(words) == len(set(words))  # no word belongs to two pairs


def test_analogy_questions_pair_every_two_pairs_of_a_relation():
    questions = analogy_questions()
    assert len(questions) == sum(len(r.pairs) * (len(r.pairs) - 1) for r in RELATIONS.values())
    assert ("capital", "france", "paris", "germany", "berlin") in questions
    assert all(q[1] != q[3] for q in questions)


def test_words_of_lowercases_and_keeps_inner_apostrophes():
    assert words_of("O'er the KING'S-horse, 'tis 2 times!") == ["o'er", "the", "king's", "horse", "tis", "2", "times"]


def test_word_counts_order_by_frequency_and_leave_rare_words_out():
    counts = WordCounts.from_sentences([["a", "b", "a"], ["c", "a", "b"]], min_count=2)
    assert counts.words == ("[UNK]", "a", "b") and counts.counts.tolist() == [0, 3, 2]
    assert [s.tolist() for s in counts.encode([["a", "c", "b"]])] == [[1, 2]]
    with pytest.raises(UserError, match="min_count"):
        WordCounts.from_sentences([["a"]], min_count=2)


def test_subsampling_follows_word2vec_formula():
    counts = np.array([0, 900, 90, 10])
    keep = keep_probabilities(counts, 1e-2)
    f = counts[1:] / 1000
    assert keep[0] == 0 and np.allclose(keep[1:], np.minimum(1, (np.sqrt(f / 1e-2) + 1) * 1e-2 / f))
    assert keep[1] < keep[2] < keep[3] == 1.0
    assert np.all(keep_probabilities(counts, 0)[1:] == 1)


def test_negatives_follow_the_unigram_distribution_to_the_three_quarters():
    counts = np.array([0, 1000, 100, 10])
    p = noise_distribution(counts)
    assert p[0] == 0 and np.allclose(p[1:], counts[1:] ** 0.75 / np.sum(counts[1:] ** 0.75))
    stream = SkipGramStream([np.arange(1, 4, dtype=np.int32)] * 3000, counts, window=1, negatives=20, subsample=0)
    _, candidates = stream.examples(0)
    drawn = np.bincount(candidates[:, 1:].ravel(), minlength=4) / candidates[:, 1:].size
    assert drawn[0] == 0 and np.allclose(drawn[1:], p[1:], atol=0.01)


def test_context_windows_stay_in_the_sentence_and_within_the_drawn_reach():
    ids, sentence = np.array([1, 2, 3, 4, 5, 6]), np.array([0, 0, 0, 1, 1, 1])
    contexts = context_windows(ids, sentence, 2, np.random.default_rng(0))
    assert contexts.shape == (6, 4)
    for i, row in enumerate(contexts):
        same = set(ids[sentence == sentence[i]].tolist()) - {ids[i]}
        assert set(row[row > 0].tolist()) <= same
        assert {ids[i] - 1, ids[i] + 1} & same <= set(row.tolist())  # the nearest neighbours are always in reach


def test_skipgram_batches_put_a_true_context_first_and_repeat_per_pass():
    sentences = [np.array(s, np.int32) for s in ([1, 2, 3, 4], [5, 6, 7], [1, 3, 5, 7])] * 50
    stream = SkipGramStream(sentences, np.array([0, 5, 5, 5, 5, 5, 5, 5]), window=2, negatives=3, subsample=0,
                            batch_size=16, seed=4)
    inputs, labels = next(stream.batches(0))
    assert inputs["target"].shape == (16,) and inputs["candidates"].shape == (16, 4)
    assert labels.tolist() == [[1.0, 0, 0, 0]] * 16
    together = {(a, b) for s in sentences for i, a in enumerate(s.tolist()) for b in s.tolist()[max(0, i - 2):i + 3]
                if a != b}
    assert all((int(t), int(c)) in together for t, c in zip(inputs["target"], inputs["candidates"][:, 0]))
    first, again = stream.examples(0), stream.examples(0)
    assert all(np.array_equal(x, y) for x, y in zip(first, again))
    assert not np.array_equal(first[1], stream.examples(1)[1])
    ds = stream.dataset()
    assert ds.options().autotune.enabled is False
    passes = stream.batches_per_pass()
    batches = [b[0]["candidates"].numpy() for b in ds.take(passes + 1)]
    assert np.array_equal(batches[0], inputs["candidates"]) and len(batches) == passes + 1


def test_cbow_batches_hold_padded_contexts_and_the_target_first():
    sentences = [np.array([1, 2, 3, 4, 5], np.int32)] * 20
    stream = SkipGramStream(sentences, np.array([0, 5, 5, 5, 5, 5]), window=2, negatives=2, subsample=0,
                            batch_size=8, cbow=True)
    inputs, _ = next(stream.batches(0))
    assert inputs["context"].shape == (8, 4) and inputs["candidates"].shape == (8, 3)
    for context, target in zip(inputs["context"], inputs["candidates"][:, 0]):
        assert context.any() and target not in context[context > 0]


def test_cooccurrence_counts_each_pair_once_per_distance_in_both_orders(tmp_path):
    rows, cols, counts = cooccurrence([np.array([1, 2, 3]), np.array([2, 0, 1])], vocab_size=4, window=2)
    got = {(int(r), int(c)): float(x) for r, c, x in zip(rows, cols, counts)}
    assert got == {(1, 2): 1 + 0.5, (2, 1): 1 + 0.5, (2, 3): 1, (3, 2): 1, (1, 3): 0.5, (3, 1): 0.5}
    path = tmp_path / "x.npz"
    first = cached_cooccurrence(path, [np.array([1, 2])], 4, 2)
    again = cached_cooccurrence(path, [np.array([3, 3])], 4, 2)  # read back: same vocabulary size and window
    assert path.is_file() and all(np.array_equal(a, b) for a, b in zip(first, again))
    rebuilt = cached_cooccurrence(path, [np.array([3, 1])], 4, 3)
    assert {(int(r), int(c)) for r, c in zip(rebuilt[0], rebuilt[1])} == {(3, 1), (1, 3)}


def test_glove_weights_and_batches():
    assert np.allclose(glove_weights([1, 100, 1000], x_max=100), [0.01 ** 0.75, 1, 1])
    ds = glove_dataset(np.array([1, 2], np.int32), np.array([2, 1], np.int32), np.array([4.0, 4.0], np.float32), 2)
    (pair, target, weight), = list(ds)
    assert np.allclose(target, np.log(4.0)) and weight.shape == (2,)
    assert collections.Counter(pair["row"].numpy().tolist()) == {1: 1, 2: 1}
