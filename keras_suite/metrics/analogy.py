"""Word analogies and nearest neighbours on unit vectors: a is to b as c is to d, answered by 3CosAdd
(argmax cos(d, b) - cos(d, a) + cos(d, c), Mikolov et al., 2013, https://arxiv.org/abs/1301.3781) or 3CosMul
(argmax cos(d, b) cos(d, c) / (cos(d, a) + 0.001), cosines shifted to [0, 1]; Levy & Goldberg, 2014,
"Linguistic Regularities in Sparse and Explicit Word Representations", https://aclanthology.org/W14-1618)."""

import collections

import numpy as np

METHODS = ("add", "mul")
EPSILON = 0.001


def unit_rows(vectors):
    vectors = np.asarray(vectors, np.float64)
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def candidate_scores(unit, a, b, c, method="add", skip=None):
    """(questions, words) scores of every row of `unit` as the d of a : b :: c : d under `method`, -inf for a, b, c
    themselves and for the ids in `skip` (e.g. 0, the unknown word)."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got '{method}'")
    a, b, c = (np.asarray(x, np.int64) for x in (a, b, c))
    if method == "add":
        scores = (unit[b] - unit[a] + unit[c]) @ unit.T
    else:
        cos = [(unit[x] @ unit.T + 1) / 2 for x in (a, b, c)]
        scores = cos[1] * cos[2] / (cos[0] + EPSILON)
    rows = np.arange(len(a))
    for x in (a, b, c):
        scores[rows, x] = -np.inf
    if skip is not None:
        scores[:, list(skip)] = -np.inf
    return scores


def answer(unit, a, b, c, method="add", skip=None):
    """The ids d (one per question) answering a : b :: c : d: the best of `candidate_scores`."""
    return np.argmax(candidate_scores(unit, a, b, c, method, skip), axis=1)


def analogy_accuracy(vectors, words, questions, method="add", batch=128):
    """{"all": accuracy, "<relation>": accuracy, ..., "questions": n, "skipped": n} over `questions`
    (relation, a, b, c, d); questions with a word outside `words` are skipped (counted)."""
    index = {w: i for i, w in enumerate(words)}
    known = [q for q in questions if all(w in index for w in q[1:])]
    unit = unit_rows(vectors)
    right = collections.Counter()
    total = collections.Counter(q[0] for q in known)
    for start in range(0, len(known), batch):
        part = known[start:start + batch]
        a, b, c, d = (np.array([index[q[k]] for q in part]) for k in range(1, 5))
        hits = answer(unit, a, b, c, method, skip=[0]) == d
        for q, hit in zip(part, hits):
            right[q[0]] += int(hit)
    result = {"all": sum(right.values()) / len(known) if known else 0.0}
    result.update({name: right[name] / n for name, n in sorted(total.items())})
    return {**result, "questions": len(known), "skipped": len(questions) - len(known)}


def nearest(vectors, words, query, k=10):
    """The `k` words closest to `query` (a word) by cosine, with their similarities, `query` itself left out."""
    unit = unit_rows(vectors)
    i = list(words).index(query)
    similarity = unit @ unit[i]
    similarity[[i, 0]] = -np.inf
    order = np.argsort(-similarity)[:k]
    return [(words[j], float(similarity[j])) for j in order]
