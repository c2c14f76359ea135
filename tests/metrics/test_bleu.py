import math

import pytest

from keras_suite.metrics import corpus_bleu, exact_match, modified_precision

REFS = ["the cat is on the mat".split(), "there is a cat on the mat".split()]


def test_modified_unigram_precision_clips_repeated_words():
    # Papineni et al. / the course notes: "the the the the the the the" -> 2/7.
    assert modified_precision(["the"] * 7, REFS, 1) == pytest.approx(2 / 7)


def test_modified_bigram_precision_of_the_notes_example():
    # "the cat the cat on the mat": bigrams the cat (2, clipped to 1), cat the (0), cat on (1),
    # on the (1), the mat (1) -> 4/6.
    assert modified_precision("the cat the cat on the mat".split(), REFS, 2) == pytest.approx(4 / 6)


def test_corpus_bleu_by_hand():
    candidate = "the cat sat on the mat".split()
    reference = "the cat is on the mat".split()
    # n-gram matches: 1: 5/6, 2: 3/5 (the cat, on the, the mat), 3: 1/4 (on the mat), 4: 0/3 -> BLEU 0.
    result = corpus_bleu([candidate], [[reference]])
    assert result["precisions"] == pytest.approx([5 / 6, 3 / 5, 1 / 4, 0.0])
    assert result["bleu"] == 0.0
    # Up to trigrams: geometric mean, no brevity penalty (equal lengths).
    tri = corpus_bleu([candidate], [[reference]], max_n=3)
    assert tri["brevity_penalty"] == 1.0
    assert tri["bleu"] == pytest.approx((5 / 6 * 3 / 5 * 1 / 4) ** (1 / 3))


def test_corpus_bleu_sums_counts_over_sentences_and_penalizes_brevity():
    cands = ["a b c d".split(), "e f".split()]
    refs = [["a b c d".split()], ["e f g h".split()]]
    result = corpus_bleu(cands, refs, max_n=2)
    # unigrams 6/6, bigrams (3 + 1)/(3 + 1); c = 6, r = 8 -> BP = exp(1 - 8/6).
    assert result["precisions"] == pytest.approx([1.0, 1.0])
    assert result["brevity_penalty"] == pytest.approx(math.exp(1 - 8 / 6))
    assert result["bleu"] == pytest.approx(math.exp(1 - 8 / 6))


def test_closest_reference_length_and_perfect_match():
    assert corpus_bleu([REFS[1]], [REFS])["bleu"] == pytest.approx(1.0)
    short = corpus_bleu([["the", "cat"]], [REFS])
    assert short["reference_length"] == 6 and short["bleu"] == 0.0


def test_exact_match():
    assert exact_match([["a"], ["b", "c"]], [[["a"]], [["b"]]]) == 0.5
    assert exact_match([], []) == 0.0
    with pytest.raises(ValueError):
        corpus_bleu([["a"]], [])

