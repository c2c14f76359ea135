import numpy as np
import pytest

from keras_suite.metrics.analogy import analogy_accuracy, answer, nearest, unit_rows


def _vectors(seed=0):
    """Words with exact offsets: b_i = a_i + r and d_i = c_i + s, plus noise words."""
    rng = np.random.default_rng(seed)
    words = ["[UNK]"] + [f"a{i}" for i in range(5)] + [f"b{i}" for i in range(5)] + [f"n{i}" for i in range(20)]
    base, r = rng.normal(size=(5, 16)), rng.normal(size=16) * 0.7
    vectors = np.concatenate([rng.normal(size=(1, 16)), base, base + r, rng.normal(size=(20, 16))])
    questions = [("rel", f"a{i}", f"b{i}", f"a{j}", f"b{j}") for i in range(5) for j in range(5) if i != j]
    return vectors, words, questions


@pytest.mark.parametrize("method, least", [("add", 1.0), ("mul", 0.9)])
def test_exact_offsets_answer_the_questions(method, least):
    vectors, words, questions = _vectors()
    result = analogy_accuracy(vectors, words, questions + [("rel", "a0", "b0", "zz", "b1")], method)
    assert result["all"] >= least and result["rel"] == result["all"]
    assert result["questions"] == 20 and result["skipped"] == 1


def test_random_vectors_answer_few_and_the_question_words_are_never_answers():
    rng = np.random.default_rng(3)
    vectors, words, questions = rng.normal(size=(31, 16)), _vectors()[1], _vectors()[2]
    assert analogy_accuracy(vectors, words, questions, "add")["all"] < 0.3
    unit = unit_rows(vectors)
    got = answer(unit, [1, 2], [6, 7], [3, 4], skip=[0])
    assert not set(got.tolist()) & {0, 1, 2, 3, 4, 6, 7}


def test_3cosadd_is_the_argmax_of_the_cosine_sum():
    vectors = unit_rows(np.random.default_rng(1).normal(size=(12, 5)))
    a, b, c = 1, 2, 3
    scores = vectors @ vectors[b] - vectors @ vectors[a] + vectors @ vectors[c]
    scores[[0, a, b, c]] = -np.inf
    assert answer(vectors, [a], [b], [c], "add", skip=[0])[0] == np.argmax(scores)
    cos = (vectors @ vectors.T + 1) / 2
    mul = cos[b] * cos[c] / (cos[a] + 0.001)
    mul[[0, a, b, c]] = -np.inf
    assert answer(vectors, [a], [b], [c], "mul", skip=[0])[0] == np.argmax(mul)


def test_nearest_leaves_the_word_and_unknown_out():
    vectors, words, _ = _vectors()
    found = nearest(vectors, words, "a0", 3)
    assert len(found) == 3 and all(w not in ("a0", "[UNK]") for w, _ in found)
    assert found[0][1] >= found[1][1] >= found[2][1]
