"""CIDEr-D, the consensus metric of image captioning (Vedantam et al., 2015, "CIDEr: Consensus-based Image
Description Evaluation", https://arxiv.org/abs/1411.5726, section 4 and its CIDEr-D variant), as the COCO caption
evaluation reports it: for n = 1..4, each sentence's n-gram counts weighted by their inverse document frequency
over the images' reference sets; per reference, the candidate's vector clipped to the reference's counts, their
cosine, times a Gaussian penalty on the difference of their lengths (sigma 6); averaged over n and references, times
10, then over images. Sentences are lists of tokens (lowercased words)."""

import collections
import math

import numpy as np

MAX_N = 4
SIGMA = 6.0


def ngram_counts(tokens, n_max=MAX_N):
    """Counter of every n-gram (a tuple of tokens) of length 1..n_max."""
    return collections.Counter(tuple(tokens[i:i + n]) for n in range(1, n_max + 1)
                               for i in range(len(tokens) - n + 1))


def _vectors(counts, document_frequency, log_images, n_max):
    """Per n: the tf-idf weights {ngram: count x idf} and their norm."""
    weights = [{} for _ in range(n_max)]
    for gram, count in counts.items():
        idf = log_images - math.log(max(1.0, document_frequency[gram]))
        weights[len(gram) - 1][gram] = count * idf
    return weights, [math.sqrt(sum(v * v for v in w.values())) for w in weights]


def _similarity(candidate, reference, length_difference, sigma):
    (c_weights, c_norms), (r_weights, r_norms) = candidate, reference
    penalty = math.exp(-length_difference ** 2 / (2 * sigma ** 2))
    scores = []
    for cw, rw, cn, rn in zip(c_weights, r_weights, c_norms, r_norms):
        dot = sum(min(value, rw[gram]) * rw[gram] for gram, value in cw.items() if gram in rw)
        scores.append(dot / (cn * rn) * penalty if cn and rn else 0.0)
    return np.array(scores)


def cider_d(candidates, references, n_max=MAX_N, sigma=SIGMA):
    """(corpus CIDEr-D, per-image scores) of one candidate token list per image against that image's list of
    reference token lists. The document frequencies come from the references of these images."""
    if len(candidates) != len(references):
        raise ValueError(f"{len(candidates)} candidates for {len(references)} reference sets")
    if not candidates:
        return 0.0, np.zeros(0)
    reference_counts = [[ngram_counts(r, n_max) for r in refs] for refs in references]
    document_frequency = collections.Counter(gram for counts in reference_counts
                                             for gram in set().union(*[set(c) for c in counts]))
    log_images = math.log(float(len(candidates)))
    per_image = []
    for tokens, refs, counts in zip(candidates, references, reference_counts):
        candidate = _vectors(ngram_counts(tokens, n_max), document_frequency, log_images, n_max)
        total = np.zeros(n_max)
        for ref_tokens, ref_counts in zip(refs, counts):
            reference = _vectors(ref_counts, document_frequency, log_images, n_max)
            total += _similarity(candidate, reference, len(tokens) - len(ref_tokens), sigma)
        per_image.append(10.0 * float(np.mean(total)) / max(1, len(refs)))
    return float(np.mean(per_image)), np.array(per_image)
