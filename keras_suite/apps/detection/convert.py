"""Detection datasets in other tools' formats (`keras-suite detection convert`): COCO JSON with its image folder and
Pascal VOC XML become the YOLO txt folder this app reads (`<out>/<split>/images`, `<out>/<split>/labels`,
`<out>/classes.txt`); a split of a YOLO folder becomes COCO JSON. `coco_dataset` and `coco_results` also write
ground truth and detections as COCO JSON, for pycocotools and other tools.

Every record is checked before anything is written: each bad one is reported as `file: annotation id ...` or
`file:line`, then the command ends with exit 2 having written nothing. Boxes reaching outside their image are
clipped to it; images without boxes are kept (with an empty label file); COCO crowd regions and VOC `difficult`
objects are left out unless asked for, as Ultralytics' converters do."""

import collections
import dataclasses
import json
import math
import os
import shutil
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import keras
import numpy as np
from PIL import Image, UnidentifiedImageError

from keras_suite.console import progress_verbosity
from keras_suite.data.detection import VOC_NAMES, folder_class_names, read_yolo_labels, split_folders
from keras_suite.errors import UserError, environment_failure
from keras_suite.files import storage_errors, write_json, write_text
from keras_suite.visuals.images import IMAGE_SUFFIXES, image_files

SHOWN_PROBLEMS = 20  # bad records printed one per line; the rest are counted
_ROTATED = (5, 6, 7, 8)  # EXIF orientations that swap width and height


@dataclasses.dataclass
class Record:
    """One image: its file, size as shown (width, height) and boxes (M, 4) x1 y1 x2 y2 in its pixels with classes."""

    path: Path
    width: int
    height: int
    boxes: list = dataclasses.field(default_factory=list)
    classes: list = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Dataset:
    """Class names (class 0 first), records, the bad records found (one line each) and counts worth saying."""

    names: tuple
    records: list
    problems: list
    notes: collections.Counter = dataclasses.field(default_factory=collections.Counter)


def displayed_size(path):
    """(width, height) of an image as a viewer shows it (EXIF rotation applied), read from its header."""
    with Image.open(path) as image:
        width, height = image.size
        return (height, width) if image.getexif().get(0x0112) in _ROTATED else (width, height)


def _image_size(path, where, problems, stated=None):
    """The shown size of `path`, checked against the size the annotations state; None (and a problem) if bad."""
    if not Path(path).is_file():
        problems.append(f"{where}: image file {path} not found")
        return None
    try:
        size = displayed_size(path)
    except (UnidentifiedImageError, OSError, ValueError) as e:
        problems.append(f"{where}: cannot read image {path} ({type(e).__name__})")
        return None
    if stated is not None and tuple(stated) != size:
        problems.append(f"{where}: the annotations say {stated[0]}x{stated[1]} pixels, the image {path} is "
                        f"{size[0]}x{size[1]} as shown")
        return None
    return size


def _clipped_box(x1, y1, x2, y2, record, where, problems, notes):
    """The box clipped to its image (counted in `notes`), or None (and a problem) if nothing is left."""
    box = (max(x1, 0.0), max(y1, 0.0), min(x2, float(record.width)), min(y2, float(record.height)))
    if not (box[2] > box[0] and box[3] > box[1]):
        problems.append(f"{where}: box x1 y1 x2 y2 {[round(v, 3) for v in (x1, y1, x2, y2)]} has no area inside its "
                        f"{record.width}x{record.height} image")
        return None
    if box != (x1, y1, x2, y2):
        notes["boxes clipped to their image"] += 1
    return box


def _number(text):
    """`text` as a finite float, or None."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _is_id(value):
    return isinstance(value, int) and not isinstance(value, bool)


def read_coco(path, image_dir=None, crowd=False):
    """A COCO detection JSON (`images`, `annotations` with `bbox` x y w h in pixels, `categories`): classes in the
    order of their ids, images found in `image_dir` (default: beside the file, or in COCO's layout) by their
    file_name."""
    path = Path(path)
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except FileNotFoundError:
        raise UserError(f"COCO file not found: {path}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise UserError(f"{path} is not JSON: {e}") from None
    if not isinstance(data, dict) or not all(isinstance(data.get(k), list)
                                             for k in ("images", "annotations", "categories")):
        raise UserError(f"{path} is not a COCO detection file: it needs lists 'images', 'annotations' and "
                        "'categories'")
    if image_dir is None:
        image_dir = _coco_image_folder(path, data["images"])
    image_dir = Path(image_dir)
    if not image_dir.is_dir():
        raise UserError(f"image folder not found: {image_dir}")
    problems, notes = [], collections.Counter()
    categories = {}
    for c in data["categories"]:
        if not isinstance(c, dict) or not _is_id(c.get("id")) or not str(c.get("name", "")).strip():
            problems.append(f"{path}: category {json.dumps(c)[:80]} needs an integer id and a name")
        elif c["id"] in categories:
            problems.append(f"{path}: category id {c['id']} appears twice")
        else:
            categories[c["id"]] = str(c["name"]).strip()
    index = {cid: i for i, cid in enumerate(sorted(categories))}
    records = {}
    for image in data["images"]:
        image = image if isinstance(image, dict) else {}
        where = f"{path}: image id {json.dumps(image.get('id'))[:40]}"
        name = image.get("file_name")
        if not _is_id(image.get("id")) or not isinstance(name, str) or not name:
            problems.append(f"{where}: an image needs an integer id and a file_name")
            continue
        if image["id"] in records:
            problems.append(f"{where}: the id appears twice")
            continue
        file = image_dir / name if (image_dir / name).is_file() else image_dir / Path(name).name
        stated = (image.get("width"), image.get("height"))
        size = _image_size(file, where, problems, stated if all(isinstance(v, int) for v in stated) else None)
        if size is not None:
            records[image["id"]] = Record(file, *size)
    missing = sum(" not found" in p for p in problems)
    if data["images"] and missing == len(data["images"]):
        raise UserError(f"none of the {missing} images {path} lists is in {image_dir}; pass images=<their folder>")
    listed = {image.get("id") for image in data["images"] if isinstance(image, dict) and _is_id(image.get("id"))}
    for ann in data["annotations"]:
        ann = ann if isinstance(ann, dict) else {}
        where = f"{path}: annotation id {json.dumps(ann.get('id'))[:40]}"
        if not (_is_id(ann.get("image_id")) and _is_id(ann.get("category_id"))):
            problems.append(f"{where}: image_id and category_id must be integers")
            continue
        record, cls = records.get(ann.get("image_id")), index.get(ann.get("category_id"))
        if record is None:
            if ann.get("image_id") not in listed:
                problems.append(f"{where}: image id {ann.get('image_id')} is not among the file's images")
            continue  # else its image is already reported
        if cls is None:
            problems.append(f"{where}: category id {ann.get('category_id')} is not among the file's categories")
            continue
        if ann.get("iscrowd") and not crowd:
            notes["crowd regions left out"] += 1
            continue
        bbox = ann.get("bbox")
        numbers = [_number(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None
                   for v in bbox] if isinstance(bbox, list) and len(bbox) == 4 else [None]
        if None in numbers:
            problems.append(f"{where}: bbox must be four finite numbers [x, y, width, height], got "
                            f"{json.dumps(bbox)[:80]}")
            continue
        x, y, w, h = numbers
        if w <= 0 or h <= 0:
            problems.append(f"{where}: bbox {bbox} has zero or negative size")
            continue
        box = _clipped_box(x, y, x + w, y + h, record, where, problems, notes)
        if box is not None:
            record.boxes.append(box)
            record.classes.append(cls)
    return Dataset(tuple(categories[c] for c in sorted(categories)), list(records.values()), problems, notes)


def _coco_image_folder(path, images):
    """Where a COCO file's images are when no folder is given: beside it, or as COCO lays them out
    (annotations/instances_val2017.json with val2017/ or images/val2017/ beside annotations/)."""
    part = path.stem.split("_")[-1]
    folders = [path.parent, path.parent.parent / part, path.parent.parent / "images" / part,
               path.parent.parent / "images"]
    first = next((i["file_name"] for i in images if isinstance(i, dict) and isinstance(i.get("file_name"), str)), None)
    for folder in folders:
        if first and ((folder / first).is_file() or (folder / Path(first).name).is_file()):
            return folder
    return path.parent


def read_voc(root, imageset=None, names=(), difficult=False, listed=False):
    """A Pascal VOC folder (`Annotations/*.xml`, `JPEGImages/`): the images of `ImageSets/Main/<imageset>.txt` when
    it exists (it must when `listed`), else every annotation. Classes: `names` if given, else VOC's twenty when
    every object is one of them, else the names found, sorted. VOC corners count pixels from 1 (as tfds reads them)."""
    root = Path(root)
    annotations, image_dir = root / "Annotations", root / "JPEGImages"
    if not annotations.is_dir():
        raise UserError(f"{root} is not a Pascal VOC folder: it has no Annotations/ (expected Annotations/*.xml and "
                        "JPEGImages/)")
    problems, notes = [], collections.Counter()
    listing = root / "ImageSets" / "Main" / f"{imageset}.txt"
    if listed and not listing.is_file():
        raise UserError(f"no image list {listing}")
    if imageset and listing.is_file():
        files = []
        for number, line in enumerate(listing.read_text(encoding="utf-8").splitlines(), 1):
            if line.split():
                xml = annotations / f"{line.split()[0]}.xml"
                if xml.is_file():
                    files.append(xml)
                else:
                    problems.append(f"{listing}:{number}: no annotation file {xml}")
    else:
        files = sorted(annotations.glob("*.xml"))
        if not files:
            raise UserError(f"no annotation files (*.xml) in {annotations}")
    found, objects = set(), []  # objects: (record, name, box, where)
    records = []
    for xml in files:
        try:
            tree = ET.parse(xml).getroot()
        except ET.ParseError as e:
            problems.append(f"{xml}:{e.position[0]}: not valid XML ({e})")
            continue
        name = (tree.findtext("filename") or "").strip()
        file = image_dir / name if name else None
        if file is None or not file.is_file():
            beside = [image_dir / f"{xml.stem}{suffix}" for suffix in IMAGE_SUFFIXES]
            file = next((f for f in beside if f.is_file()), file or image_dir / f"{xml.stem}.jpg")
        stated = tuple(_number(tree.findtext(f"size/{k}")) for k in ("width", "height"))
        stated = tuple(int(v) for v in stated) if all(stated) else None
        size = _image_size(file, str(xml), problems, stated)
        if size is None:
            continue
        record = Record(file, *size)
        records.append(record)
        for k, obj in enumerate(tree.findall("object"), 1):
            where = f"{xml}: object {k}"
            label = (obj.findtext("name") or "").strip()
            if not label:
                problems.append(f"{where}: has no name")
                continue
            if (obj.findtext("difficult") or "0").strip() == "1" and not difficult:
                notes["difficult objects left out"] += 1
                continue
            corners = [_number(obj.findtext(f"bndbox/{k}")) for k in ("xmin", "ymin", "xmax", "ymax")]
            if None in corners:
                problems.append(f"{where} ({label}): bndbox needs finite numbers xmin, ymin, xmax and ymax")
                continue
            x1, y1, x2, y2 = corners
            box = _clipped_box(x1 - 1, y1 - 1, x2, y2, record, where, problems, notes)
            if box is not None:
                found.add(label)
                objects.append((record, label, box, where))
    names = tuple(names) or (VOC_NAMES if found <= set(VOC_NAMES) else tuple(sorted(found)))
    index = {n: i for i, n in enumerate(names)}
    for record, label, box, where in objects:
        if label not in index:
            problems.append(f"{where}: class '{label}' is not among the classes {', '.join(names)}")
            continue
        record.boxes.append(box)
        record.classes.append(index[label])
    return Dataset(names, records, problems, notes)


def read_yolo(root, split, names=()):
    """Split `split` of a YOLO dataset folder (either layout of `split_folders`); classes `names`, else those the
    folder declares."""
    names = tuple(names) or folder_class_names(root)
    if not names:
        raise UserError(f"{root} declares no classes (classes.txt or data.yaml names); pass classes=<name,name,...>")
    image_dir, label_dir = split_folders(root, split)
    if not image_dir.is_dir():
        raise UserError(f"no folder {image_dir} (split '{split}' of the YOLO dataset {root})")
    problems, records = [], []
    for file in image_files(image_dir):
        size = _image_size(file, str(file), problems)
        if size is None:
            continue
        record = Record(file, *size)
        label = label_dir / f"{file.stem}.txt"
        if label.is_file():
            try:
                boxes, classes = read_yolo_labels(label, len(names))
            except UserError as e:
                problems.append(str(e))
                continue
            record.boxes = [tuple(b) for b in (np.float64(boxes) * np.float64(size * 2)).tolist()]
            record.classes = classes.tolist()
        records.append(record)
    return Dataset(names, records, problems)


def _check(dataset, source):
    """Report every bad record (the first SHOWN_PROBLEMS on stderr) and refuse the conversion if there are any."""
    if not dataset.records and not dataset.problems:
        raise UserError(f"{source} holds no images")
    stems = {}
    for record in dataset.records:
        other = stems.setdefault(record.path.stem, record.path)
        if other != record.path:
            dataset.problems.append(f"{record.path}: shares its name {record.path.stem} with {other}; their label "
                                    "files would collide")
    problems = dataset.problems
    if problems:
        for line in problems[:SHOWN_PROBLEMS]:
            print(line, file=sys.stderr)
        more = f" (the first {SHOWN_PROBLEMS} above)" if len(problems) > SHOWN_PROBLEMS else " (above)"
        raise UserError(f"{len(problems)} bad record(s) in {source}{more}; nothing was written")


def _yolo_line(cls, box, width, height):
    x1, y1, x2, y2 = box
    return (f"{cls} {(x1 + x2) / 2 / width:.6f} {(y1 + y2) / 2 / height:.6f} {(x2 - x1) / width:.6f} "
            f"{(y2 - y1) / height:.6f}")


def _place(source, target):
    """A hard link to the image where the file system allows one (no copy of a large dataset), else a copy."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def write_yolo(dataset, out, split, overwrite=False):
    """The dataset as split `split` of the YOLO folder `out` (images linked or copied, a label file per image,
    `out/classes.txt`). The split is built beside its place and renamed into it when complete."""
    out = Path(out)
    target, classes = out / split, out / "classes.txt"
    if classes.is_file() and folder_class_names(out) != dataset.names:
        raise UserError(f"{classes} lists other classes ({', '.join(folder_class_names(out))}) than this source "
                        f"({', '.join(dataset.names)}); convert into another folder or pass classes=... in that order")
    if target.exists() and any(target.iterdir()) and not overwrite:
        raise UserError(f"{target} already holds files; pass overwrite=true to replace it")
    building, old = out / f".{split}.building-{os.getpid()}", out / f".{split}.old-{os.getpid()}"
    progress = keras.utils.Progbar(len(dataset.records), unit_name="image", verbose=progress_verbosity("auto"))
    try:
        (building / "images").mkdir(parents=True)
        (building / "labels").mkdir()
        for record in dataset.records:
            _place(record.path, building / "images" / record.path.name)
            lines = [_yolo_line(c, b, record.width, record.height) for b, c in zip(record.boxes, record.classes)]
            (building / "labels" / f"{record.path.stem}.txt").write_text("".join(f"{line}\n" for line in lines),
                                                                         encoding="utf-8")
            progress.add(1)
        if target.exists():
            target.rename(old)
        try:
            building.rename(target)
        except OSError:
            if old.exists():
                old.rename(target)
            raise
        write_text(classes, "".join(f"{n}\n" for n in dataset.names))
    except storage_errors() as e:
        raise environment_failure(e, target) from None
    finally:
        for leftover in (building, old):
            shutil.rmtree(leftover, ignore_errors=True)
    return target


def coco_dataset(files, sizes, boxes, classes, names):
    """Ground truth as a COCO detection dict: image ids 1..N (file names and sizes as given), boxes x1 y1 x2 y2 in
    each image's pixels, category id = class index + 1."""
    images, annotations = [], []
    for i, (file, (width, height), b, c) in enumerate(zip(files, sizes, boxes, classes), 1):
        images.append({"id": i, "file_name": str(file), "width": int(width), "height": int(height)})
        for box, cls in zip(np.asarray(b, np.float64).reshape(-1, 4), c):
            x, y, w, h = _xywh(box)
            annotations.append({"id": len(annotations) + 1, "image_id": i, "category_id": int(cls) + 1,
                                "bbox": [x, y, w, h], "area": round(w * h, 6), "iscrowd": 0})
    return {"images": images, "annotations": annotations,
            "categories": [{"id": i + 1, "name": n} for i, n in enumerate(names)]}


def coco_results(detections):
    """Detections as COCO results (a list of {image_id, category_id, bbox, score}): per image (boxes x1 y1 x2 y2 in
    its pixels, scores, classes), image ids 1..N and category id = class index + 1 as `coco_dataset`."""
    results = []
    for i, (boxes, scores, classes) in enumerate(detections, 1):
        for box, score, cls in zip(np.asarray(boxes, np.float64).reshape(-1, 4), scores, classes):
            results.append({"image_id": i, "category_id": int(cls) + 1, "bbox": _xywh(box),
                            "score": round(float(score), 6)})
    return results


def _xywh(box):
    x1, y1, x2, y2 = (float(v) for v in box)
    return [round(x1, 6), round(y1, 6), round(x2 - x1, 6), round(y2 - y1, 6)]


def source_kind(src):
    """"coco" (a .json file), "voc" (a folder with Annotations/) or "yolo" (a folder with classes or split
    folders)."""
    src = Path(src)
    if src.is_file() and src.suffix.lower() == ".json":
        return "coco"
    if (src / "Annotations").is_dir():
        return "voc"
    if src.is_dir():
        return "yolo"
    raise UserError(f"src {src}: expected a COCO .json file, a Pascal VOC folder (with Annotations/) or a YOLO "
                    "dataset folder" + ("" if src.exists() else " (it does not exist)"))


def convert(src, out, split="train", images=None, classes=(), crowd=False, difficult=False, overwrite=False,
            imageset=None):
    """COCO or VOC `src` -> split `split` of the YOLO folder `out` (VOC: the images of its `imageset` list, by
    default the split's); YOLO `src` (its split `split`) -> the COCO JSON file `out`. Returns (what was written,
    the dataset)."""
    kind = source_kind(src)
    if kind != "yolo" and split not in ("train", "val", "test"):
        raise UserError(f"split must be train, val or test (the splits of a YOLO folder), got '{split}'")
    if kind == "yolo":
        if Path(out).suffix.lower() != ".json":
            raise UserError(f"out={out}: a YOLO folder converts to a COCO .json file")
        dataset = read_yolo(src, split, classes)
        _check(dataset, src)
        records = dataset.records
        return write_json(out, coco_dataset([r.path.name for r in records], [(r.width, r.height) for r in records],
                                            [r.boxes for r in records], [r.classes for r in records],
                                            dataset.names)), dataset
    if kind == "coco":
        if classes:
            raise UserError("classes=... applies to VOC and YOLO sources; a COCO file names its own categories")
        dataset = read_coco(src, images, crowd)
    else:
        dataset = read_voc(src, imageset or split, classes or folder_class_names(out), difficult, bool(imageset))
    _check(dataset, src)
    return write_yolo(dataset, out, split, overwrite), dataset
