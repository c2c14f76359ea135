import collections
import itertools

import numpy as np
import pytest

from keras_suite.data.pk_sampler import check_pk, pk_dataset, pk_indices
from keras_suite.errors import UserError

LABELS = np.repeat(np.arange(10), [5, 4, 6, 4, 4, 5, 4, 7, 4, 4])


def test_every_batch_holds_p_identities_with_k_distinct_images():
    for batch in itertools.islice(pk_indices(LABELS, 4, 3, seed=1), 20):
        assert len(set(batch)) == 12
        counts = collections.Counter(LABELS[batch])
        assert len(counts) == 4 and set(counts.values()) == {3}


def test_rounds_visit_every_identity_and_are_seeded():
    first = list(itertools.islice(pk_indices(LABELS, 5, 2, seed=3), 2))  # one round: 10 identities
    assert set(np.concatenate([LABELS[b] for b in first])) == set(range(10))
    again = list(itertools.islice(pk_indices(LABELS, 5, 2, seed=3), 2))
    assert all((a == b).all() for a, b in zip(first, again))


def test_dataset_gathers_images_with_their_labels():
    images = np.arange(len(LABELS), dtype="float32")[:, None] * 10 + LABELS[:, None]
    x, y = next(iter(pk_dataset(images, LABELS, 3, 4, seed=0)))
    assert x.shape == (12, 1) and y.shape == (12,)
    np.testing.assert_array_equal(x.numpy()[:, 0] % 10, y.numpy())


@pytest.mark.parametrize("labels, p, k, pattern", [
    (np.array([0, 0, 0, 1, 2, 2, 2]), 2, 3, "identity '1' has 1 image"),
    (LABELS, 11, 2, "only 10 identities"),
    (LABELS, 4, 1, "K >= 2"),
])
def test_configurations_the_data_cannot_fill(labels, p, k, pattern):
    with pytest.raises(UserError, match=pattern):
        check_pk(labels, p, k)

