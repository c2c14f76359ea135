import numpy as np
import pytest
from PIL import Image

from keras_suite.data.augment import paired_augmenter
from keras_suite.data.scenes import DIGIT_CLASSES, SHAPE_CLASSES, make_scenes
from keras_suite.data.segmentation import PET_CLASSES, batches, load_splits
from keras_suite.errors import UserError


@pytest.mark.parametrize("kind, classes", [("shapes", SHAPE_CLASSES), ("digits", DIGIT_CLASSES)])
def test_scenes_are_deterministic_with_exact_labels(kind, classes):
    images, masks = make_scenes(kind, 8, 32, seed=3)
    again, masks_again = make_scenes(kind, 8, 32, seed=3)
    other, _ = make_scenes(kind, 8, 32, seed=4)
    assert images.shape == (8, 32, 32, 3) and images.dtype == np.uint8 and masks.shape == (8, 32, 32)
    np.testing.assert_array_equal(images, again)
    np.testing.assert_array_equal(masks, masks_again)
    assert not np.array_equal(images, other)
    assert masks.max() < len(classes) and (masks > 0).any() and (masks == 0).any()


def test_synthetic_splits():
    splits = load_splits(image_size=32, num_train=10, num_val=4, num_test=6, seed=0)
    assert splits.class_names == SHAPE_CLASSES
    image, mask = next(iter(splits.train))
    assert image.shape == (32, 32, 3) and image.dtype.name == "float32"
    assert mask.shape == (32, 32, 1) and mask.dtype.name == "int32"
    assert [int(d.cardinality()) for d in (splits.train, splits.val, splits.test)] == [10, 4, 6]
    test_image, _ = next(iter(splits.test))
    assert not np.array_equal(image.numpy(), test_image.numpy())  # held-out split differs


def test_paired_augmentation_keeps_image_and_mask_aligned():
    images, masks = make_scenes("shapes", 16, 32, seed=0)
    # Encode the label in the image so that misalignment shows as disagreement.
    encoded = np.repeat((masks[..., None] * 60.0), 3, axis=-1).astype("float32")
    aug = paired_augmenter(seed=1, brightness=0)
    out = aug({"images": encoded, "segmentation_masks": masks[..., None].astype("float32")}, training=True)
    channel = np.asarray(out["images"])[..., 0]
    decoded = np.round(channel / 60.0)
    labels = np.asarray(out["segmentation_masks"])[..., 0]
    pure = np.abs(channel - decoded * 60.0) < 0.5  # pixels not blended across a label edge by bilinear resampling
    assert pure.mean() > 0.8
    assert np.mean(decoded[pure] == labels[pure]) > 0.99
    assert not np.array_equal(labels, masks)  # something actually moved


def test_batches_augment_training_only():
    splits = load_splits(image_size=32, num_train=16, num_val=8, num_test=8)
    images, masks = next(iter(batches(splits.train, 4, training=True, augment={"zoom": 0.1})))
    assert images.shape == (4, 32, 32, 3) and masks.dtype.name == "int32"
    assert set(np.unique(masks.numpy())) <= set(range(len(SHAPE_CLASSES)))


def _folder(root, n=6, size=(20, 24), label_max=2):
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    rng = np.random.default_rng(0)
    for i in range(n):
        Image.fromarray(rng.integers(0, 255, (*size, 3), dtype=np.uint8)).save(root / "images" / f"{i}.jpg")
        Image.fromarray(rng.integers(0, label_max + 1, size, dtype=np.uint8)).save(root / "masks" / f"{i}.png")
    return root


def test_folder_loader(tmp_path):
    root = _folder(tmp_path / "ds")
    cfg = dict(source=f"folder:{root}", image_size=16, class_names=("a", "b", "c"),
                     val_fraction=0.2, test_fraction=0.2)
    splits = load_splits(**cfg)
    assert [int(d.cardinality()) for d in (splits.train, splits.val, splits.test)] == [4, 1, 1]
    image, mask = next(iter(splits.train))
    assert image.shape == (16, 16, 3) and mask.shape == (16, 16, 1) and int(mask.numpy().max()) <= 2


@pytest.mark.parametrize("breakage, message", [
    ("corrupt", "cannot read image"),
    ("label", "outside the 3 configured classes"),
    ("loop", "is a symlink loop"),  # (an RGBA image was refused here; it is converted now)
    ("missing_mask", "have no mask"),
    ("size", "but its image is"),
])
def test_folder_loader_bad_files(tmp_path, breakage, message):
    root = _folder(tmp_path / "ds")
    if breakage == "corrupt":
        (root / "images" / "0.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    elif breakage == "label":
        Image.fromarray(np.full((20, 24), 7, np.uint8)).save(root / "masks" / "1.png")
    elif breakage == "loop":
        (root / "images" / "0.jpg").unlink()
        (root / "images" / "0.jpg").symlink_to(root / "images" / "0.lnk")
        (root / "images" / "0.lnk").symlink_to(root / "images" / "0.jpg")
    elif breakage == "missing_mask":
        (root / "masks" / "2.png").unlink()
    elif breakage == "size":
        Image.fromarray(np.zeros((10, 10), np.uint8)).save(root / "masks" / "3.png")
    cfg = dict(source=f"folder:{root}", image_size=16, class_names=("a", "b", "c"))
    with pytest.raises(UserError, match=message):
        load_splits(**cfg)


def test_unknown_source_and_scene():
    with pytest.raises(UserError, match="unknown data.source"):
        load_splits(source="ftp://x")
    with pytest.raises(UserError, match="unknown data.scene 'shape'"):
        load_splits(scene="shape")


def test_tfds_oxford_pets_loader_with_mock_data():
    import tensorflow_datasets as tfds

    cfg = dict(source="tfds:oxford_iiit_pet", image_size=32)
    with tfds.testing.mock_data(num_examples=4):
        splits = load_splits(**cfg)
        image, mask = next(iter(splits.train))
        test_image, _ = next(iter(splits.test))
    assert splits.class_names == PET_CLASSES
    assert image.shape == (32, 32, 3) and mask.shape == (32, 32, 1) and test_image.shape == (32, 32, 3)
    assert 0 <= int(mask.numpy().min()) and int(mask.numpy().max()) <= 2

