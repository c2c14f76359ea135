import numpy as np

from keras_suite.data.faces import face_dataset, face_images


def test_identities_are_deterministic_and_images_vary():
    a = face_images(3, 4, size=48, seed=0)
    assert a.shape == (4, 48, 48, 3) and a.dtype == np.uint8
    np.testing.assert_array_equal(a, face_images(3, 4, size=48, seed=0))
    assert not np.array_equal(a[0], a[1])  # pose, light, expression and noise differ
    assert not np.array_equal(a, face_images(3, 4, size=48, seed=0, image_seed=1))


def test_same_identity_is_closer_than_other_identities():
    # A crude check that identity survives the variations: the colour histogram of the face centre
    # finds another image of the same identity as nearest neighbour far above chance (1/12).
    images, labels = face_dataset(range(12), 6, size=48, seed=1)
    centre = images[:, 12:36, 12:36].reshape(len(images), -1, 3)
    features = np.concatenate([np.histogram(c[:, ch], bins=16, range=(0, 255))[0] for c in centre
                               for ch in range(3)]).reshape(len(images), -1).astype(float)
    d = np.linalg.norm(features[:, None] - features[None], axis=-1)
    same = labels[:, None] == labels[None]
    off_diagonal = ~np.eye(len(labels), dtype=bool)
    d[~off_diagonal] = np.inf
    nearest_is_same = same[np.arange(len(labels)), d.argmin(1)]
    assert nearest_is_same.mean() > 0.5
    assert d[same & off_diagonal].mean() < d[~same & off_diagonal].mean()
    assert sorted(set(labels)) == list(range(12)) and np.bincount(labels).tolist() == [6] * 12

