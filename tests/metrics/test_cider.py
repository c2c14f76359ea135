import numpy as np
import pytest

from keras_suite.metrics.cider import cider_d, ngram_counts

# Four images' references and one candidate each; the expected scores were computed by the COCO caption evaluation's
# own CIDEr-D scorer (pycocoevalcap 1.2, `Cider().compute_score`) on the same whitespace-split sentences.
REFERENCES = [
    ["two red circles above a blue square", "a blue square below two red circles", "two red circles and a blue square"],
    ["a green triangle left of a yellow circle", "a yellow circle right of a green triangle"],
    ["three blue squares", "three squares that are blue", "blue squares three of them", "three small blue squares"],
    ["a red circle", "one red circle"],
]
CANDIDATES = ["two red circles above a blue square", "a green triangle left of a circle", "two blue squares",
              "a red circle on the left of a big green square"]
COCO_PER_IMAGE = [6.410918174847194, 5.362254051218644, 1.907649870479871, 0.7397008709897879]
COCO_CORPUS = 3.6051307418838743


def _split(sentences):
    return [s.split() for s in sentences]


def test_cider_d_equals_the_coco_caption_scorer():
    corpus, per_image = cider_d(_split(CANDIDATES), [_split(refs) for refs in REFERENCES])
    assert corpus == pytest.approx(COCO_CORPUS, rel=1e-12)
    assert per_image == pytest.approx(COCO_PER_IMAGE, rel=1e-12)


def test_ngram_counts():
    counts = ngram_counts("a b a b".split(), 2)
    assert counts[("a",)] == 2 and counts[("a", "b")] == 2 and counts[("b", "a")] == 1 and len(counts) == 4


def test_length_penalty_and_clipping_lower_the_score():
    refs = [_split(r) for r in REFERENCES]
    base = cider_d(_split(CANDIDATES), refs)[1][0]
    repeated = cider_d(_split(["two red circles above a blue square square square"] + CANDIDATES[1:]), refs)[1][0]
    empty = cider_d([[]] + _split(CANDIDATES[1:]), refs)[1][0]
    assert empty == 0.0 < repeated < base


def test_one_image_has_no_informative_ngrams_and_mismatched_inputs_fail():
    assert cider_d([["a", "cat"]], [[["a", "cat"]]])[0] == 0.0  # idf = log(1 / 1): every n-gram is in every image
    assert cider_d([], []) == (0.0, pytest.approx(np.zeros(0)))
    with pytest.raises(ValueError):
        cider_d([["a"]], [])
