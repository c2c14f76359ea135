"""Verification pairs in the LFW protocol's form: folds of same and different pairs, each fold
drawn from its own identities so no identity appears in two folds."""

import numpy as np

from keras_suite.errors import UserError


def verification_pairs(labels, folds=10, pairs_per_fold=600, seed=0):
    """(first, second, same, fold) index arrays: per fold half same-identity pairs, half different.

    Identities are split across folds. Each fold's pairs are drawn uniformly, without repeats, from all of its
    same-identity pairs and from its different-identity pairs (unordered). Folds whose identities cannot supply
    enough distinct pairs give fewer.
    """
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    identities = rng.permutation(np.unique(labels))
    if len(identities) < 2 * folds:
        raise UserError(f"{len(identities)} identities cannot fill {folds} verification folds "
                        f"(each fold needs >= 2); lower evaluate folds or add identities")
    rows = []
    half = pairs_per_fold // 2
    for fold, members in enumerate(np.array_split(identities, folds)):
        by_id = [np.flatnonzero(labels == i) for i in members]
        if not any(len(ix) >= 2 for ix in by_id):
            raise UserError(f"verification fold {fold} has no identity with >= 2 images")
        same = np.concatenate([ix[np.stack(np.triu_indices(len(ix), 1), 1)] for ix in by_id if len(ix) >= 2])
        same = same[rng.permutation(len(same))[:half]]
        rows += [(a, b, True, fold) for a, b in same]
        rows += [(a, b, False, fold) for a, b in _different(by_id, half, half * 40, rng)]
    first, second, same, fold = map(np.array, zip(*rows))
    return first, second, same.astype(bool), fold


def _different(by_id, wanted, tries, rng):
    """Up to `wanted` distinct pairs of images of two different identities, drawn `tries` candidates at most."""
    owner = np.concatenate([np.full(len(ix), k) for k, ix in enumerate(by_id)])
    images = np.concatenate(by_id)
    candidates = rng.integers(0, len(images), (tries, 2))
    candidates = candidates[owner[candidates[:, 0]] != owner[candidates[:, 1]]]
    keys = np.sort(images[candidates], axis=1)
    _, first = np.unique(keys, axis=0, return_index=True)
    return keys[np.sort(first)[:wanted]]
