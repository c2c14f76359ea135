
import numpy as np
import pytest
from PIL import Image

from keras_suite.data.detection import (
    DIGIT_NAMES,
    augmenter,
    detection_batches,
    folder_split,
    load_detection,
    read_yolo_labels,
)
from keras_suite.data.scenes import make_detection_scenes
from keras_suite.detection.grid import AnchorGrid
from keras_suite.errors import UserError
from keras_suite.metrics.mean_average_precision import box_iou

ANCHORS = [[(0.1, 0.15), (0.15, 0.2)], [(0.2, 0.3), (0.3, 0.4)]]


def _small(**kw):
    """load_detection arguments for a few small scenes."""
    return {"image_size": 64, "num_train": 6, "num_val": 3, "num_test": 3, **kw}


def test_detection_scenes_have_exact_separate_boxes():
    images, boxes, classes = make_detection_scenes(12, 96, seed=3)
    again = make_detection_scenes(12, 96, seed=3)
    np.testing.assert_array_equal(images, again[0])
    assert images.shape == (12, 96, 96, 3) and images.dtype == np.uint8
    for b, c in zip(boxes, classes):
        assert 1 <= len(b) <= 4 and len(b) == len(c) and set(c) <= set(range(10))
        assert np.all(b[:, :2] >= 0) and np.all(b[:, 2:] <= 96) and np.all(b[:, 2:] > b[:, :2])
        iou = box_iou(b, b)
        assert np.all(iou[~np.eye(len(b), dtype=bool)] <= 0.3 + 1e-9)


def test_read_yolo_labels_and_errors(tmp_path):
    good = tmp_path / "a.txt"
    good.write_text("1 0.5 0.5 0.2 0.4\n\n0 0.1 0.1 0.2 0.2\n")
    boxes, classes = read_yolo_labels(good, 3)
    np.testing.assert_allclose(boxes, [[0.4, 0.3, 0.6, 0.7], [0.0, 0.0, 0.2, 0.2]], atol=1e-6)
    assert classes.tolist() == [1, 0]
    cases = [("3 0.5 0.5 0.1 0.1", "class 3 is outside the 3 configured classes"),
             ("0 0.95 0.5 0.2 0.1", "reaches outside the image"),
             ("0 0.5 0.5 0 0.1", "zero or negative size"),
             ("0 0.5 0.5 0.1", "expected 'class cx cy w h'"),
             ("zero 0.5 0.5 0.1 0.1", "not numbers")]
    for line, message in cases:
        bad = tmp_path / "bad.txt"
        bad.write_text("0 0.5 0.5 0.1 0.1\n" + line + "\n")
        with pytest.raises(UserError, match=message) as e:
            read_yolo_labels(bad, 3)
        assert f"{bad}:2" in str(e.value)


def test_folder_split_checks_every_file(tmp_path, capsys):
    root = tmp_path / "train"
    (root / "images").mkdir(parents=True)
    (root / "labels").mkdir()
    for i in range(3):
        Image.fromarray(np.full((40, 50, 3), 60 * i, np.uint8)).save(root / "images" / f"{i}.jpg")
    (root / "labels" / "0.txt").write_text("1 0.5 0.5 0.5 0.5\n")
    (root / "labels" / "1.txt").write_text("")
    with pytest.raises(UserError, match="2.jpg has no label file"):
        folder_split(root / "images", root / "labels", 2, 32)
    split = folder_split(root / "images", root / "labels", 2, 32, missing_labels="background")
    assert "1 image(s)" in capsys.readouterr().out
    assert split.images.shape == (3, 32, 32, 3) and [len(b) for b in split.boxes] == [1, 0, 0]
    assert split.files == ("0.jpg", "1.jpg", "2.jpg") and split.sizes.tolist() == [[50, 40]] * 3
    (root / "images" / "3.jpg").write_bytes(b"\xff\xd8 not really")
    (root / "labels" / "3.txt").write_text("")
    with pytest.raises(UserError, match="cannot read image .*3.jpg"):
        folder_split(root / "images", root / "labels", 2, 32, missing_labels="background")
    with pytest.raises(UserError, match="data.class_names"):
        load_detection(**_small(source=f"folder:{tmp_path}"))


@pytest.mark.parametrize("name", ["voc/2007", "coco/2017"])
def test_tfds_loaders_with_mock_data(name):
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=3):
        splits = load_detection(**_small(source=f"tfds:{name}", image_size=32))
    assert splits.train.images.shape == (3, 32, 32, 3) and len(splits.class_names) in (20, 80)
    for b in splits.train.boxes:
        assert b.shape[1:] == (4,) and np.all((b >= 0) & (b <= 1))


def test_batches_assign_every_box(tmp_path):
    splits = load_detection(**_small())
    assert splits.class_names == DIGIT_NAMES
    grid = AnchorGrid(64, (16, 32), ANCHORS)
    images, targets = next(iter(detection_batches(splits.train, grid, 10, 6, max_boxes=8)))
    assert images.shape == (6, 64, 64, 3) and targets.shape == (6, grid.positions, 15)
    counts = targets.numpy()[..., 4].sum(axis=1)
    assert counts.tolist() == [len(b) for b in splits.train.boxes]  # no two boxes on one cell and anchor here
    assigned = targets.numpy()[0][targets.numpy()[0, :, 4] > 0]
    box = splits.train.boxes[0]
    centres = np.sort((box[:, :2] + box[:, 2:]) / 2, axis=0)
    np.testing.assert_allclose(np.sort(assigned[:, :2], axis=0), centres, atol=1e-6)

    # The box-aware flip moves boxes with the pixels (x -> 1 - x) whenever it flips the image.
    image = np.zeros((1, 64, 64, 3), np.float32)
    image[:, :, 10:20] = 255  # a bright stripe on the left
    box = np.array([[[10 / 64, 0.2, 20 / 64, 0.6]]], np.float32)
    flip = augmenter(flip=True, seed=0)
    seen = set()
    for _ in range(12):
        out = flip({"images": image, "bounding_boxes": {"boxes": box, "labels": np.array([[4]])}})
        flipped = bool(out["images"].numpy()[0, 0, 50, 0] > 0)
        expected = [44 / 64, 0.2, 54 / 64, 0.6] if flipped else box[0, 0]
        np.testing.assert_allclose(out["bounding_boxes"]["boxes"].numpy()[0, 0], expected, atol=1e-6)
        seen.add(flipped)
    assert seen == {True, False}
    assert augmenter(flip=False) is None
    with pytest.raises(UserError, match="over data.max_boxes"):
        next(iter(detection_batches(splits.train, grid, 10, 2, max_boxes=0)))



def test_face_scenes_paste_drawn_faces_with_their_boxes():
    splits = load_detection(**_small(source="faces", max_objects=3))
    assert splits.class_names == ("face",) and splits.train.images.shape == (6, 64, 64, 3)
    for boxes, classes in zip(splits.train.boxes, splits.train.classes):
        assert 1 <= len(boxes) <= 3 and set(classes.tolist()) == {0}
        assert np.all(boxes[:, 2:] > boxes[:, :2]) and np.all((boxes >= 0) & (boxes <= 1))
    again = load_detection(**_small(source="faces", max_objects=3))
    np.testing.assert_array_equal(splits.train.images, again.train.images)  # seeded


def test_zoom_and_shift_move_each_box_with_its_pixels_and_drop_boxes_pushed_out():
    """A bright rectangle drawn at each box: after the fused flip/zoom/shift, the box still frames exactly the
    bright pixels (to a pixel) of every image in the batch; a box shifted past the edge is dropped."""
    n, side = 16, 64
    images = np.zeros((n, side, side, 3), np.float32)
    boxes = np.zeros((n, 2, 4), np.float32)
    boxes[:, 0] = [22 / side, 20 / side, 42 / side, 36 / side]  # far enough in for the reflected border to miss it
    boxes[:, 1] = [0, 0, 1 / side, 1 / side]  # one corner pixel (not drawn): outside after most shifts
    images[:, 20:36, 22:42] = 255
    labels = np.array([[3, 5]] * n, np.int32)
    aug = augmenter(flip=True, scale=0.2, translate=0.1, seed=3)
    out = aug({"images": images, "bounding_boxes": {"boxes": boxes, "labels": labels}})
    moved, new_boxes, new_labels = (out["images"].numpy(), out["bounding_boxes"]["boxes"].numpy(),
                                    out["bounding_boxes"]["labels"].numpy())
    assert not np.allclose(new_boxes[:, 0], boxes[:, 0])  # it did move them
    for i in range(n):
        ys, xs = np.nonzero(moved[i, ..., 0] > 127)
        np.testing.assert_allclose(new_boxes[i, 0] * side, [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], atol=1.0)
        assert new_labels[i, 0] == 3
    dropped = new_labels[:, 1] == -1
    assert dropped.any() and np.all(new_boxes[dropped, 1] == 0)
