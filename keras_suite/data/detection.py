"""Detection datasets: embedded digit scenes with exact boxes, YOLO txt folders, tfds voc/2007 and
coco/2017; and the tf.data pipeline (box-aware augmentation, YOLO target assignment).

A split is in memory: images uint8 (N, S, S, 3) resized to the network's square input, and per image
boxes (M, 4) x1 y1 x2 y2 as fractions of the image side and classes (M,); a folder split also keeps each
image's file name and its size (width, height) as read.
"""

import collections
from pathlib import Path

import numpy as np
import tensorflow as tf
import yaml
from PIL import Image

from keras_suite.data.augment import RandomBoxAffine
from keras_suite.data.pipeline import prefetched
from keras_suite.data.scenes import make_detection_scenes, make_face_scenes
from keras_suite.data.sources import parse_source
from keras_suite.detection.targets import assign_targets
from keras_suite.errors import UserError
from keras_suite.visuals.images import image_files, read_rgb

DetectionSplit = collections.namedtuple("DetectionSplit", "images boxes classes files sizes", defaults=(None, None))
# test_name: "val" when the source has no test split (its test is then the val split)
DetectionSplits = collections.namedtuple("DetectionSplits", "train val test class_names test_name", defaults=("test",))
CLASS_FILES = ("classes.txt", "data.yaml", "dataset.yaml")
DIGIT_NAMES = tuple(str(d) for d in range(10))
# the embedded scenes: handwritten digits (the default), or the face app's drawn faces (one class)
SCENES = {"synthetic": (make_detection_scenes, DIGIT_NAMES), "faces": (make_face_scenes, ("face",))}
VOC_NAMES = ("aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow", "diningtable",
             "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train", "tvmonitor")


def read_yolo_labels(path, num_classes):
    """`class cx cy w h` lines (normalized) -> (boxes (M, 4) xyxy fractions, classes (M,)); errors name file:line."""
    boxes, classes = [], []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise UserError(f"label file {path} is not UTF-8 text") from None
    for number, line in enumerate(lines, 1):
        fields = line.split()
        if not fields:
            continue
        where = f"{path}:{number}"
        if len(fields) != 5:
            raise UserError(f"{where}: expected 'class cx cy w h', got {len(fields)} field(s)")
        try:
            cls, values = int(fields[0]), [float(v) for v in fields[1:]]
        except ValueError:
            raise UserError(f"{where}: not numbers: '{line.strip()}'") from None
        cx, cy, w, h = values
        if not 0 <= cls < num_classes:
            raise UserError(f"{where}: class {cls} is outside the {num_classes} configured classes")
        if not all(np.isfinite(values)) or w <= 0 or h <= 0:
            raise UserError(f"{where}: box has zero or negative size ({w} x {h})")
        x1, y1, x2, y2 = cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2
        if min(x1, y1) < -1e-6 or max(x2, y2) > 1 + 1e-6:
            raise UserError(f"{where}: box ({cx} {cy} {w} {h}) reaches outside the image ([0, 1] normalized)")
        box = np.float32([max(x1, 0.0), max(y1, 0.0), min(x2, 1.0), min(y2, 1.0)])
        if not (box[2] > box[0] and box[3] > box[1]):  # sizes too small for float32 collapse to nothing
            raise UserError(f"{where}: box has zero or negative size ({w} x {h})")
        boxes.append(box)
        classes.append(cls)
    return np.asarray(boxes, np.float32).reshape(-1, 4), np.asarray(classes, np.int32)


def _resize(image, size):
    return np.asarray(Image.fromarray(image).resize((size, size), Image.BILINEAR), np.uint8)


def split_folders(root, part):
    """(images folder, labels folder) of split `part` of a YOLO dataset: root/<part>/images and root/<part>/labels
    (this app's layout, what `detection convert` writes), or root/images/<part> and root/labels/<part>
    (Ultralytics')."""
    root = Path(root)
    ours, theirs = (root / part / "images", root / part / "labels"), (root / "images" / part, root / "labels" / part)
    return theirs if not ours[0].is_dir() and theirs[0].is_dir() else ours


def folder_class_names(root):
    """The class names a YOLO dataset folder declares: classes.txt (one per line, class 0 first) or the `names` of
    an Ultralytics data.yaml (a list, or {index: name}); () when it has neither."""
    root = Path(root)
    if (root / "classes.txt").is_file():
        return tuple(line.strip() for line in (root / "classes.txt").read_text(encoding="utf-8").splitlines()
                     if line.strip())
    for name in CLASS_FILES[1:]:
        if (root / name).is_file():
            try:
                names = (yaml.safe_load((root / name).read_text(encoding="utf-8")) or {}).get("names")
            except (yaml.YAMLError, AttributeError, UnicodeDecodeError):
                raise UserError(f"{root / name} is not a YAML mapping with a 'names' list") from None
            if isinstance(names, dict) and sorted(names) == list(range(len(names))):
                names = [names[i] for i in range(len(names))]
            if not isinstance(names, list) or not names:
                raise UserError(f"{root / name} has no 'names' list (or {{0: name, 1: name, ...}})")
            return tuple(str(n) for n in names)
    return ()


def folder_split(image_dir, label_dir, num_classes, size, missing_labels="error"):
    """`image_dir/*.jpg` with `label_dir/<stem>.txt` (YOLO txt); every file is checked up front."""
    image_dir, label_dir = Path(image_dir), Path(label_dir)
    if not image_dir.is_dir():
        raise UserError(f"no folder {image_dir}; a YOLO dataset has <root>/<split>/images/*.jpg with "
                        f"<root>/<split>/labels/*.txt (or <root>/images/<split> with <root>/labels/<split>)")
    paths = image_files(image_dir)
    if not paths:
        raise UserError(f"no images (*.jpg, *.png) in {image_dir}")
    images, boxes, classes, sizes, background = [], [], [], [], 0
    for path in paths:
        label = label_dir / f"{path.stem}.txt"
        if label.is_file():
            b, c = read_yolo_labels(label, num_classes)
        elif missing_labels == "background":
            b, c = np.zeros((0, 4), np.float32), np.zeros(0, np.int32)
            background += 1
        else:
            raise UserError(f"image {path} has no label file {label}; add it (empty for no objects) or pass "
                            f"data.missing_labels=background")
        image = read_rgb(path)
        sizes.append((image.shape[1], image.shape[0]))
        images.append(_resize(image, size))
        boxes.append(b)
        classes.append(c)
    if background:
        print(f"data: {background} image(s) in {image_dir} without a label file are used as background")
    return DetectionSplit(np.stack(images), boxes, classes, tuple(p.name for p in paths), np.int32(sizes))


def _folder(root, class_names, size, missing_labels):
    """The train, val and (when it has one) test splits of a YOLO dataset folder."""
    root = Path(root)
    names = tuple(class_names) or folder_class_names(root)
    if not names:
        raise UserError(f"a folder source needs data.class_names=<name,name,...> (class 0 first), or a "
                        f"{' or '.join(CLASS_FILES)} with them in {root}")
    folders = {part: split_folders(root, part) for part in ("train", "val", "test")}
    parts = {part: folder_split(*dirs, len(names), size, missing_labels)
             for part, dirs in folders.items() if part != "test" or dirs[0].is_dir()}
    if "test" not in parts:
        return DetectionSplits(parts["train"], parts["val"], parts["val"], names, "val")
    return DetectionSplits(parts["train"], parts["val"], parts["test"], names)


def _tfds(name, image_size, counts, data_dir, download):
    import tensorflow_datasets as tfds

    if name not in ("voc/2007", "coco/2017"):
        raise UserError(f"tfds source '{name}' has no detection mapping; use tfds:voc/2007 or tfds:coco/2017")
    builder = tfds.builder(name, data_dir=data_dir)
    if download:
        builder.download_and_prepare()
    names = tuple(builder.info.features["objects"]["label"].names)

    def split(spec, limit):
        ds = builder.as_dataset(split=spec)
        images, boxes, classes = [], [], []
        for example in tfds.as_numpy(ds.take(limit) if limit else ds):
            images.append(_resize(example["image"], image_size))
            yxyx = example["objects"]["bbox"].reshape(-1, 4)
            boxes.append(yxyx[:, [1, 0, 3, 2]].astype(np.float32))
            classes.append(example["objects"]["label"].astype(np.int32))
        return DetectionSplit(np.stack(images), boxes, classes)

    test = "test" if "test" in builder.info.splits and name != "coco/2017" else "validation"
    return DetectionSplits(*(split(spec, n) for spec, n in zip(("train", "validation", test), counts)), names)


def load_detection(source="synthetic", image_size=128, num_train=4000, num_val=200, num_test=300, max_objects=4,
                   class_names=(), missing_labels="error", data_dir=None, download=False, seed=0):
    """DetectionSplits of `source`: embedded scenes, "synthetic" (digits) or "faces" (`num_*` of each split, up to
    `max_objects` objects), folder:<root> (YOLO labels in train and val splits and optionally test,
    `split_folders`; `class_names`, or those the folder declares), tfds:voc/2007 or tfds:coco/2017 (`num_*`
    examples of each split, 0 for all)."""
    src = parse_source(source, tuple(SCENES), ("tfds", "folder"))
    counts = (num_train, num_val, num_test)
    if src.kind == "builtin":
        make, names = SCENES[src.value]

        def split(count, offset):
            images, boxes, classes = make(count, image_size, seed + offset, max_objects)
            return DetectionSplit(images, [b / image_size for b in boxes], classes)

        return DetectionSplits(*(split(n, offset) for n, offset in zip(counts, (0, 1, 2))), names)
    if src.kind == "tfds":
        return _tfds(src.value, image_size, counts, data_dir, download)
    return _folder(src.value, class_names, image_size, missing_labels)


def padded(split, max_boxes):
    """(images, boxes (N, max_boxes, 4), classes (N, max_boxes)) with class -1 for padding rows."""
    n = len(split.images)
    boxes = np.zeros((n, max_boxes, 4), np.float32)
    classes = np.full((n, max_boxes), -1, np.int32)
    for i, (b, c) in enumerate(zip(split.boxes, split.classes)):
        if len(b) > max_boxes:
            raise UserError(f"image {i} has {len(b)} boxes, over data.max_boxes={max_boxes}")
        boxes[i, :len(b)], classes[i, :len(c)] = b, c
    return split.images, boxes, classes


def augmenter(flip=True, scale=0.0, translate=0.0, seed=0):
    """The training batches' box-aware augmentation (`RandomBoxAffine`), or None when every range is off."""
    return RandomBoxAffine(flip, scale, translate, seed) if flip or scale or translate else None


def detection_batches(split, grid, num_classes, batch_size, max_boxes, training=False, augment=None, seed=0,
                      extra_iou=None, neighbors=False):
    """tf.data batches (images float32 in [0, 255], targets (B, P, 5 + C)) for the YOLO loss; `augment`
    (`augmenter`'s) transforms training batches, one call at a time, so that the stream repeats."""
    images, boxes, classes = padded(split, max_boxes)
    ds = tf.data.Dataset.from_tensor_slices({"images": images, "bounding_boxes": {"boxes": boxes, "labels": classes}})
    if training:
        ds = ds.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size).map(lambda d: {**d, "images": tf.cast(d["images"], tf.float32)})
    if training and augment is not None:
        ds = ds.map(augment)

    def targets(d):
        xyxy = d["bounding_boxes"]["boxes"]
        cxcywh = tf.concat([(xyxy[..., :2] + xyxy[..., 2:]) / 2, xyxy[..., 2:] - xyxy[..., :2]], axis=-1)
        labels = tf.cast(d["bounding_boxes"]["labels"], tf.int32)
        t = tf.map_fn(lambda bl: assign_targets(bl[0], bl[1], grid, num_classes, extra_iou, neighbors),
                      (cxcywh, labels),
                      fn_output_signature=tf.TensorSpec([grid.positions, 5 + num_classes], tf.float32))
        return d["images"], t

    return prefetched(ds.map(targets, num_parallel_calls=tf.data.AUTOTUNE))
