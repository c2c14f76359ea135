"""BLEU (Papineni et al., 2002, "BLEU: a Method for Automatic Evaluation of Machine Translation",
https://aclanthology.org/P02-1040/) and exact match, over token lists.

Corpus-level BLEU sums clipped n-gram matches and candidate n-gram counts over all sentences
before dividing (modified n-gram precision), takes the geometric mean of the 1..4-gram
precisions and multiplies by the brevity penalty exp(1 - r/c) when the candidate corpus length c
is below the effective reference length r (the closest reference length per sentence).
"""

import collections
import math


def ngrams(tokens, n):
    return collections.Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


def clipped_matches(candidate, references, n):
    """(clipped n-gram matches, candidate n-gram count): each n-gram counts at most as often as
    it appears in any single reference."""
    counts = ngrams(candidate, n)
    most = collections.Counter()
    for reference in references:
        most |= ngrams(reference, n)
    return sum(min(c, most[g]) for g, c in counts.items()), sum(counts.values())


def modified_precision(candidate, references, n):
    matches, total = clipped_matches(candidate, references, n)
    return matches / total if total else 0.0


def _closest_length(candidate, references):
    return min((abs(len(r) - len(candidate)), len(r)) for r in references)[1]


def corpus_bleu(candidates, references, max_n=4):
    """BLEU of token-list `candidates` against `references` (one list of token lists per candidate).

    Returns {"bleu", "precisions", "brevity_penalty", "length_ratio", "candidate_length",
    "reference_length"}; bleu is in [0, 1] and 0 when some n-gram order has no match.
    """
    if len(candidates) != len(references):
        raise ValueError(f"{len(candidates)} candidates but {len(references)} reference sets")
    matches, totals = [0] * max_n, [0] * max_n
    c = r = 0
    for candidate, refs in zip(candidates, references):
        c += len(candidate)
        r += _closest_length(candidate, refs)
        for n in range(1, max_n + 1):
            m, t = clipped_matches(candidate, refs, n)
            matches[n - 1] += m
            totals[n - 1] += t
    precisions = [m / t if t else 0.0 for m, t in zip(matches, totals)]
    bp = 1.0 if c > r else (math.exp(1 - r / c) if c else 0.0)
    bleu = bp * math.exp(sum(math.log(p) for p in precisions) / max_n) if min(precisions) > 0 else 0.0
    return {"bleu": bleu, "precisions": precisions, "brevity_penalty": bp,
            "length_ratio": c / r if r else 0.0, "candidate_length": c, "reference_length": r}


def exact_match(candidates, references):
    """Share of candidates equal to their (first) reference."""
    if not candidates:
        return 0.0
    return sum(list(c) == list(refs[0]) for c, refs in zip(candidates, references)) / len(candidates)
