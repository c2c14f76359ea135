import numpy as np
import pytest
import tensorflow as tf

from keras_suite.data.image_sets import corrupt, image_dataset, load_images
from keras_suite.data.photos import HELD_OUT_PHOTOS, photo
from keras_suite.errors import UserError
from keras_suite.visuals.images import write_png


def test_digits_are_scikit_learns_scans_split_without_overlap():
    from sklearn.datasets import load_digits

    splits = load_images("digits", image_size=16, val_fraction=0.1, test_fraction=0.2)
    assert splits.train.images.shape[1:] == (16, 16, 1) and splits.train.images.dtype == np.uint8
    assert len(splits.train) + len(splits.val) + len(splits.test) == 1797
    assert (len(splits.val), len(splits.test)) == (180, 359)
    assert splits.class_names == tuple("0123456789") and set(splits.test.labels) == set(range(10))
    raw = load_digits()
    zeros = splits.train.images[splits.train.labels == 0].mean(axis=0)[..., 0]
    assert zeros[8, 8] < zeros[8, 3] and zeros.max() > 100  # a zero is a ring: dark middle, bright sides
    assert splits.train.images.max() >= 250 and raw.images.max() == 16  # 0-16 scaled to 0-255
    flat = [img.tobytes() for part in (splits.train, splits.val, splits.test) for img in part.images]
    assert len(set(flat)) > 1790  # (a few scans are duplicates in the data itself)


def test_faces_and_textures_have_the_counts_asked_and_textures_test_on_other_photos():
    faces = load_images("faces", image_size=32, num_train=20, num_val=5, num_test=7)
    assert faces.train.images.shape == (20, 32, 32, 3) and len(faces.val) == 5 and len(faces.test) == 7
    assert set(faces.train.labels) <= set(range(10)) and len(faces.class_names) == 10
    textures = load_images("textures", image_size=24, num_train=6, num_val=2, num_test=3)
    assert textures.test.images.shape == (3, 24, 24, 3) and (textures.test.labels == -1).all()
    assert textures.class_names == ()
    held_out_means = [photo(name).mean() for name in HELD_OUT_PHOTOS]
    assert min(held_out_means) - 1 <= textures.test.images.mean(axis=(1, 2, 3)).min()  # crops of those photos


def test_folder_source_splits_its_images_and_refuses_an_empty_or_missing_folder(tmp_path):
    rng = np.random.default_rng(0)
    for i in range(10):
        write_png(tmp_path / f"p{i}.png", rng.integers(0, 255, (20 + i, 30, 3), np.uint8))
    splits = load_images(f"folder:{tmp_path}", image_size=12, val_fraction=0.2, test_fraction=0.2)
    assert splits.train.images.shape == (6, 12, 12, 3) and len(splits.val) == 2 and len(splits.test) == 2
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="holds no images"):
        load_images(f"folder:{tmp_path / 'empty'}")
    with pytest.raises(UserError, match="is not a folder"):
        load_images(f"folder:{tmp_path / 'nowhere'}")


def test_tfds_image_sets_with_mock_data():
    tfds = pytest.importorskip("tensorflow_datasets")
    with tfds.testing.mock_data(num_examples=6):
        splits = load_images("tfds:mnist", image_size=16, num_train=3, num_val=2, num_test=4)
    assert splits.train.images.shape == (3, 16, 16, 1) and len(splits.val) == 2 and len(splits.test) == 4
    assert splits.class_names == tuple(str(d) for d in range(10))


def test_noise_has_the_strength_asked():
    images = tf.fill((8, 32, 32, 1), 128.0)
    gaussian = corrupt(images, "gaussian", 0.1, tf.constant([1, 2], tf.int64)).numpy()
    assert abs(np.std(gaussian - 128.0) / 255.0 - 0.1) < 0.005 and abs(np.mean(gaussian) - 128) < 1
    rgb = tf.fill((4, 32, 32, 3), 128.0)
    masked = corrupt(rgb, "masking", 0.3, tf.constant([1, 2], tf.int64)).numpy()
    hit = (masked == 0).all(axis=-1)
    assert abs(hit.mean() - 0.3) < 0.03 and ((masked == 0).any(axis=-1) == hit).all()  # whole pixels
    salted = corrupt(rgb, "salt_pepper", 0.2, tf.constant([3, 4], tf.int64)).numpy()[..., 0]
    assert abs((salted != 128).mean() - 0.2) < 0.03 and abs((salted == 255).mean() - 0.1) < 0.02


def test_the_stream_pairs_a_noisy_input_with_its_clean_target_and_redraws_noise_each_epoch():
    images = np.random.default_rng(0).integers(0, 256, (4, 8, 8, 1), np.uint8)
    ds = image_dataset(images, 4, training=True, noise=("gaussian", 0.2))
    (x1, y1), (x2, y2) = list(ds.repeat(2).take(2))
    assert y1.dtype == tf.float32 and float(tf.reduce_max(y1)) <= 1.0
    np.testing.assert_allclose(np.sort(y1.numpy().sum(axis=(1, 2, 3))), np.sort(images.sum(axis=(1, 2, 3)) / 255.0),
                               rtol=1e-5)  # the clean images, shuffled
    assert np.abs(x1.numpy() - y1.numpy() * 255.0).mean() > 20  # the input is noisy
    assert not np.allclose(np.sort(x1.numpy(), axis=None), np.sort(x2.numpy(), axis=None))  # fresh noise
    (a, _), = list(image_dataset(images, 4, noise=("gaussian", 0.2)))
    (b, _), = list(image_dataset(images, 4, noise=("gaussian", 0.2)))
    np.testing.assert_array_equal(a.numpy(), b.numpy())  # validation: the same noise every epoch
    (clean, target), = list(image_dataset(images, 4))
    np.testing.assert_allclose(clean.numpy() / 255.0, target.numpy())
