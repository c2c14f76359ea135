"""Verification pairs in the LFW protocol's form: folds of same and different pairs, each fold
drawn from its own identities so no identity appears in two folds."""

import numpy as np

from keras_suite.errors import UserError


def verification_pairs(labels, folds=10, pairs_per_fold=600, seed=0):
    """(first, second, same, fold) index arrays: per fold half same-identity pairs, half different.

    Identities are split across folds; pairs are distinct (unordered) within a fold. Folds whose
    identities cannot supply enough distinct pairs give fewer.
    """
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    identities = rng.permutation(np.unique(labels))
    if len(identities) < 2 * folds:
        raise UserError(f"{len(identities)} identities cannot fill {folds} verification folds "
                        f"(each fold needs >= 2); lower evaluate folds or add identities")
    rows = []
    for fold, members in enumerate(np.array_split(identities, folds)):
        by_id = [np.flatnonzero(labels == i) for i in members]
        with_pairs = [ix for ix in by_id if len(ix) >= 2]
        if not with_pairs:
            raise UserError(f"verification fold {fold} has no identity with >= 2 images")
        seen = set()
        for want_same in (True, False):
            made, attempts = 0, 0
            while made < pairs_per_fold // 2 and attempts < pairs_per_fold * 20:
                attempts += 1
                if want_same:
                    a, b = rng.choice(with_pairs[rng.integers(len(with_pairs))], 2, replace=False)
                else:
                    x, y = rng.choice(len(by_id), 2, replace=False)
                    a, b = rng.choice(by_id[x]), rng.choice(by_id[y])
                key = (min(a, b), max(a, b))
                if key not in seen:
                    seen.add(key)
                    rows.append((a, b, want_same, fold))
                    made += 1
    first, second, same, fold = map(np.array, zip(*rows))
    return first, second, same.astype(bool), fold
