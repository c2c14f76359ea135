import numpy as np
import pytest
import tensorflow as tf

from keras_suite.apps.face.config import FaceConfig
from keras_suite.config import load_config
from keras_suite.data.face_splits import FaceSplit, drop_small_identities, load_faces, prepare_faces
from keras_suite.errors import UserError


def test_prepare_faces_crops_the_centre_and_resizes():
    image = np.zeros((1, 40, 60, 3), np.uint8)
    image[:, 10:30, 20:40] = 255  # a white square in the middle
    full = prepare_faces(image, 20).numpy()
    centre = prepare_faces(image, 20, crop=0.5).numpy()
    assert full.shape == centre.shape == (1, 20, 20, 3) and full.dtype == np.float32
    assert centre.min() > 250  # the central 20x20 of the 40x40 square crop is all white
    assert full[0, 0, 0, 0] == 0 and full[0, 10, 10, 0] > 250


def test_synthetic_splits_hold_different_identities():
    splits = load_faces(image_size=32, identities=4, val_identities=3, test_identities=3, images_per_identity=3)
    assert splits.train.images.shape == (12, 32, 32, 3) and splits.val.images.shape == (9, 32, 32, 3)
    assert not set(splits.train.names) & set(splits.val.names) and not set(splits.val.names) & set(splits.test.names)
    assert sorted(set(splits.test.labels)) == [0, 1, 2]
    with pytest.raises(UserError, match="images_per_identity"):
        load_config(FaceConfig, overrides={"data.images_per_identity": "1"})
    with pytest.raises(UserError, match="data.crop"):
        load_config(FaceConfig, overrides={"data.crop": "0"})


def test_folder_loader(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(0)
    for person in ("ann", "ben", "cy", "dee"):
        (tmp_path / "faces" / person).mkdir(parents=True)
        for i in range(2 + (person == "ann")):
            Image.fromarray(rng.integers(0, 255, (50, 40, 3), np.uint8)).save(tmp_path / "faces" / person / f"{i}.jpg")
    cfg = dict(source=f"folder:{tmp_path / 'faces'}", image_size=32, val_fraction=0.25, test_fraction=0.25)
    splits = load_faces(**cfg)
    names = splits.train.names + splits.val.names + splits.test.names
    assert sorted(names) == ["ann", "ben", "cy", "dee"] and len(splits.val.names) == len(splits.test.names) == 1
    assert splits.train.images.shape[1:] == (32, 32, 3) and splits.train.images.dtype == np.uint8
    (tmp_path / "faces" / "eve").mkdir()
    with pytest.raises(UserError, match="eve has no images"):
        load_faces(**cfg)
    (tmp_path / "faces" / "eve" / "0.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(UserError, match="cannot read image .*eve/0.jpg"):
        load_faces(**cfg)
    with pytest.raises(UserError, match="face folder not found"):
        load_faces(source=f"folder:{tmp_path / 'nowhere'}")


def test_tfds_lfw_loader_with_mock_data():
    import tensorflow_datasets as tfds

    cfg = dict(source="tfds:lfw", image_size=32, crop=0.6, val_fraction=0.2, test_fraction=0.2)
    with tfds.testing.mock_data(num_examples=10):
        splits = load_faces(**cfg)
    total = sum(len(s.labels) for s in splits)
    assert total == 10 and splits.train.images.shape[1:] == (32, 32, 3)
    assert all(isinstance(n, str) for n in splits.train.names)
    with pytest.raises(UserError, match="tfds:lfw"):
        load_faces(source="tfds:mnist")


def test_drop_small_identities_relabels():
    split = FaceSplit(np.zeros((6, 2, 2, 3), np.uint8), np.array([0, 0, 1, 2, 2, 2]), ["a", "b", "c"])
    kept, dropped = drop_small_identities(split, 2)
    assert dropped == 1 and kept.names == ["a", "c"] and kept.labels.tolist() == [0, 0, 1, 1, 1]


def test_prepare_faces_runs_in_a_graph():
    fn = tf.function(lambda x: prepare_faces(x, 16, 0.8), input_signature=[tf.TensorSpec([None, None, None, 3],
                                                                                         tf.uint8)])
    assert fn(tf.zeros((2, 30, 21, 3), tf.uint8)).shape == (2, 16, 16, 3)

