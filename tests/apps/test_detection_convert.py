"""`keras-suite detection convert`: COCO JSON and Pascal VOC to YOLO folders and back, on small hand-written files."""

import json

import numpy as np
import pytest
from PIL import Image

from keras_suite.apps.detection.convert import coco_dataset, coco_results, convert, displayed_size
from keras_suite.data.detection import load_detection
from keras_suite.errors import UserError
from keras_suite.metrics.mean_average_precision import evaluate_detections


def _image(path, width, height, value=90):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((height, width, 3), value, np.uint8)).save(path)
    return path


def _coco(tmp_path, annotations=None, images=None):
    """A COCO file over three images in tmp_path/photos: categories with ids 3 (cat) and 7 (dog)."""
    _image(tmp_path / "photos" / "a.jpg", 100, 50)
    _image(tmp_path / "photos" / "b.jpg", 40, 80)
    _image(tmp_path / "photos" / "c.png", 60, 60)
    data = {
        "images": images or [{"id": 1, "file_name": "a.jpg", "width": 100, "height": 50},
                             {"id": 2, "file_name": "train2017/b.jpg", "width": 40, "height": 80},
                             {"id": 5, "file_name": "c.png"}],
        "annotations": annotations or [
            {"id": 10, "image_id": 1, "category_id": 7, "bbox": [10, 5, 20, 10], "iscrowd": 0},
            {"id": 11, "image_id": 1, "category_id": 3, "bbox": [90, 40, 30, 30], "iscrowd": 0},  # clipped
            {"id": 12, "image_id": 2, "category_id": 3, "bbox": [0, 0, 40, 80], "iscrowd": 0},
            {"id": 13, "image_id": 2, "category_id": 7, "bbox": [1, 1, 5, 5], "iscrowd": 1}],  # crowd: left out
        "categories": [{"id": 7, "name": "dog"}, {"id": 3, "name": "cat"}]}
    path = tmp_path / "annotations" / "instances.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(data))
    return path


def test_coco_to_a_yolo_folder_the_app_reads(tmp_path):
    src, out = _coco(tmp_path), tmp_path / "yolo"
    written, dataset = convert(src, out, "train", images=tmp_path / "photos")
    assert written == out / "train" and dataset.notes == {"boxes clipped to their image": 1,
                                                          "crowd regions left out": 1}
    assert (out / "classes.txt").read_text() == "cat\ndog\n"  # in the order of the category ids
    labels = out / "train" / "labels"
    assert (labels / "a.txt").read_text() == ("1 0.200000 0.200000 0.200000 0.200000\n"
                                              "0 0.950000 0.900000 0.100000 0.200000\n")
    assert (labels / "b.txt").read_text() == "0 0.500000 0.500000 1.000000 1.000000\n"
    assert (labels / "c.txt").read_text() == ""  # an image without boxes is kept
    assert sorted(p.name for p in (out / "train" / "images").iterdir()) == ["a.jpg", "b.jpg", "c.png"]
    assert (out / "train" / "images" / "b.jpg").read_bytes() == (tmp_path / "photos" / "b.jpg").read_bytes()

    with pytest.raises(UserError, match="already holds files; pass overwrite=true"):
        convert(src, out, "train", images=tmp_path / "photos")
    convert(src, out, "train", images=tmp_path / "photos", overwrite=True)
    convert(src, out, "val", images=tmp_path / "photos")
    # no test/ split: the app reads train and val, and says its test split is val; the classes come from the folder
    splits = load_detection(source=f"folder:{out}", image_size=32)
    assert splits.class_names == ("cat", "dog") and splits.test_name == "val"
    assert splits.train.files == ("a.jpg", "b.jpg", "c.png") and splits.train.sizes.tolist() == [[100, 50], [40, 80],
                                                                                                [60, 60]]
    np.testing.assert_allclose(splits.train.boxes[0], [[0.1, 0.1, 0.3, 0.3], [0.9, 0.8, 1.0, 1.0]], atol=1e-6)
    assert [c.tolist() for c in splits.train.classes] == [[1, 0], [0], []]


def test_coco_bad_records_are_all_reported_and_nothing_is_written(tmp_path, capsys):
    src = _coco(tmp_path, annotations=[
        {"id": 1, "image_id": 1, "category_id": 7, "bbox": [10, 5, 20, 10]},
        {"id": 2, "image_id": 99, "category_id": 7, "bbox": [10, 5, 20, 10]},
        {"id": 3, "image_id": 1, "category_id": 4, "bbox": [10, 5, 20, 10]},
        {"id": 4, "image_id": 1, "category_id": 3, "bbox": [10, 5, 0, 10]},
        {"id": 5, "image_id": 1, "category_id": 3, "bbox": [10, "x", 3, 10]},
        {"id": 6, "image_id": 1, "category_id": 3, "bbox": [200, 100, 5, 5]}],
        images=[{"id": 1, "file_name": "a.jpg", "width": 100, "height": 50},
                {"id": 2, "file_name": "b.jpg", "width": 41, "height": 80},
                {"id": 3, "file_name": "gone.jpg"}])
    with pytest.raises(UserError, match="7 bad record"):
        convert(src, tmp_path / "yolo", "train", images=tmp_path / "photos")
    err = capsys.readouterr().err
    for expected in ("annotation id 2: image id 99 is not among", "annotation id 3: category id 4",
                     "annotation id 4: bbox [10, 5, 0, 10] has zero", "annotation id 5: bbox must be four",
                     "annotation id 6: box x1 y1 x2 y2 [200.0, 100.0, 205.0, 105.0] has no area",
                     "image id 2: the annotations say 41x80 pixels", "image id 3: image file"):
        assert expected in err
    assert not (tmp_path / "yolo").exists()
    with pytest.raises(UserError, match="none of the 3 images .* pass images="):
        convert(_coco(tmp_path), tmp_path / "yolo", "train")  # the images are not beside the JSON
    with pytest.raises(UserError, match="split must be train, val or test"):
        convert(src, tmp_path / "yolo", "val2017", images=tmp_path / "photos")
    layout = tmp_path / "annotations" / "instances_photos.json"  # COCO's layout: photos/ beside annotations/
    _coco(tmp_path).rename(layout)
    assert convert(layout, tmp_path / "found", "train")[0] == tmp_path / "found" / "train"


def _voc(root):
    _image(root / "JPEGImages" / "000001.jpg", 80, 60)
    _image(root / "JPEGImages" / "000002.jpg", 50, 50)
    (root / "Annotations").mkdir(parents=True)
    (root / "Annotations" / "000001.xml").write_text(
        "<annotation><filename>000001.jpg</filename><size><width>80</width><height>60</height></size>"
        "<object><name>dog</name><difficult>0</difficult>"
        "<bndbox><xmin>1</xmin><ymin>1</ymin><xmax>40</xmax><ymax>30</ymax></bndbox></object>"
        "<object><name>person</name><difficult>1</difficult>"
        "<bndbox><xmin>5</xmin><ymin>5</ymin><xmax>9</xmax><ymax>9</ymax></bndbox></object></annotation>")
    (root / "Annotations" / "000002.xml").write_text("<annotation><filename>000002.jpg</filename></annotation>")
    (root / "ImageSets" / "Main").mkdir(parents=True)
    (root / "ImageSets" / "Main" / "trainval.txt").write_text("000001\n000002\n")


def test_voc_to_yolo(tmp_path, capsys):
    root, out = tmp_path / "VOC2007", tmp_path / "yolo"
    _voc(root)
    written, dataset = convert(root, out, "train", imageset="trainval")
    assert dataset.names[:3] == ("aeroplane", "bicycle", "bird") and len(dataset.names) == 20  # VOC's own order
    assert dataset.notes == {"difficult objects left out": 1}
    dog = dataset.names.index("dog")
    # VOC counts pixels from 1: corners 1..40 x 1..30 cover x 0-40, y 0-30
    assert (written / "labels" / "000001.txt").read_text() == f"{dog} 0.250000 0.250000 0.500000 0.500000\n"
    assert (written / "labels" / "000002.txt").read_text() == ""
    _, dataset = convert(root, tmp_path / "all", "train", difficult=True, classes=("dog", "person"))
    assert dataset.names == ("dog", "person") and sum(len(r.boxes) for r in dataset.records) == 2
    with pytest.raises(UserError, match="no image list"):
        convert(root, tmp_path / "x", "train", imageset="missing")

    (root / "Annotations" / "000003.xml").write_text("<annotation><object>\n<name>dog</name></annotation>")
    (root / "ImageSets" / "Main" / "trainval.txt").write_text("000001\n000003\n000004\n")
    with pytest.raises(UserError, match="2 bad record"):
        convert(root, tmp_path / "bad", "train", imageset="trainval")
    err = capsys.readouterr().err
    assert "000003.xml:2: not valid XML" in err and "trainval.txt:3: no annotation file" in err
    assert not (tmp_path / "bad").exists()


def test_yolo_to_coco_to_yolo_is_exact(tmp_path):
    """A YOLO split -> COCO JSON -> YOLO again gives the same label files, byte for byte, and the same images."""
    root = tmp_path / "yolo"
    rng = np.random.default_rng(0)
    (root / "train" / "labels").mkdir(parents=True)
    for i, (w, h) in enumerate([(97, 61), (640, 480), (33, 200), (128, 128)]):
        _image(root / "train" / "images" / f"img{i}.jpg", w, h, value=20 * i)
        lines = []
        for _ in range(i):
            cx, cy = rng.uniform(0.3, 0.7, 2)
            bw, bh = rng.uniform(0.05, 0.5, 2)
            lines.append(f"{rng.integers(3)} {cx:.6f} {cy:.6f} {bw:.6f} {bh:.6f}\n")
        (root / "train" / "labels" / f"img{i}.txt").write_text("".join(lines))
    (root / "classes.txt").write_text("a\nb\nc\n")
    coco, dataset = convert(root, tmp_path / "coco.json", "train")
    data = json.loads(coco.read_text())
    assert [c["name"] for c in data["categories"]] == ["a", "b", "c"] and len(data["annotations"]) == 6
    assert data["images"][1] == {"id": 2, "file_name": "img1.jpg", "width": 640, "height": 480}
    back, _ = convert(coco, tmp_path / "again", "train", images=root / "train" / "images")
    for i in range(4):
        assert (back / "labels" / f"img{i}.txt").read_text() == (root / "train" / "labels" / f"img{i}.txt").read_text()
        image = f"img{i}.jpg"
        assert (back / "images" / image).read_bytes() == (root / "train" / "images" / image).read_bytes()
    assert (tmp_path / "again" / "classes.txt").read_text() == "a\nb\nc\n"


def test_ultralytics_layout_and_data_yaml(tmp_path):
    root = tmp_path / "ds"
    for split in ("train", "val"):
        _image(root / "images" / split / "x.jpg", 40, 30)
        (root / "labels" / split).mkdir(parents=True)
        (root / "labels" / split / "x.txt").write_text("1 0.5 0.5 0.5 0.5\n")
    (root / "data.yaml").write_text("path: .\ntrain: images/train\nval: images/val\nnames:\n  0: person\n  1: car\n")
    splits = load_detection(source=f"folder:{root}", image_size=32)
    assert splits.class_names == ("person", "car") and splits.test_name == "val"
    assert splits.val.classes[0].tolist() == [1]
    (root / "data.yaml").write_text("names: 3\n")
    with pytest.raises(UserError, match="has no 'names' list"):
        load_detection(source=f"folder:{root}", image_size=32)


def test_displayed_size_follows_exif_rotation(tmp_path):
    path = tmp_path / "phone.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees to show
    Image.fromarray(np.zeros((30, 50, 3), np.uint8)).save(path, exif=exif)
    assert displayed_size(path) == (30, 50)


def test_convert_command(cli, tmp_path):
    src = _coco(tmp_path)
    code, out, err = cli("detection", "convert", f"src={src}", f"out={tmp_path / 'yolo'}",
                         f"images={tmp_path / 'photos'}", "split=val")
    assert code == 0, err
    assert "3 images (1 without boxes), 3 boxes, 2 classes; 1 boxes clipped" in out
    assert f"data.source=folder:{tmp_path / 'yolo'}" in out
    code, _, err = cli("detection", "convert", f"src={src}", f"out={tmp_path / 'yolo'}",
                       f"images={tmp_path / 'photos'}", "split=val", "crowd=maybe")
    assert code == 2 and "crowd must be true or false" in err
    code, _, err = cli("detection", "convert", f"src={tmp_path / 'nothing'}", f"out={tmp_path / 'y'}")
    assert code == 2 and "it does not exist" in err and len(err.strip().splitlines()) == 1


def test_coco_json_of_truth_and_detections_scores_as_ours_in_pycocotools():
    """What `evaluate` writes: ground truth and detections as COCO JSON in each image's own pixels (any aspect);
    pycocotools scores them as our mAP scores the same boxes at the network's square size."""
    pytest.importorskip("pycocotools")
    import contextlib
    import io

    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    rng = np.random.default_rng(0)
    sizes, truth, found = [], [], []
    for _ in range(12):
        sizes.append((int(rng.integers(60, 700)), int(rng.integers(60, 700))))
        n = int(rng.integers(0, 5))
        xy = rng.uniform(0, 0.6, (n, 2))
        boxes = np.concatenate([xy, xy + rng.uniform(0.05, 0.4, (n, 2))], 1)
        classes = rng.integers(0, 3, n)
        jitter = np.clip(boxes + rng.normal(0, 0.01, boxes.shape), 0, 1)
        jitter[:, 2:] = np.maximum(jitter[:, 2:], jitter[:, :2] + 0.01)
        found.append((jitter, rng.uniform(0, 1, n), np.where(rng.random(n) < 0.8, classes, rng.integers(0, 3, n))))
        truth.append((boxes, classes))
    ours = evaluate_detections([(b * 128, s, c) for b, s, c in found], [(b * 128, c) for b, c in truth], 3)
    sides = [np.float64([w, h, w, h]) for w, h in sizes]  # each image's own pixels
    dataset = coco_dataset([f"{i}.jpg" for i in range(12)], sizes, [b * s for (b, _), s in zip(truth, sides)],
                           [c for _, c in truth], ("a", "b", "c"))
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO()
        coco.dataset = dataset
        coco.createIndex()
        scored = COCOeval(coco, coco.loadRes(coco_results([(b * s, sc, c) for (b, sc, c), s in zip(found, sides)])),
                          "bbox")
        scored.evaluate()
        scored.accumulate()
        scored.summarize()
    assert ours["map50"] > 0.3
    assert scored.stats[:2] == pytest.approx([ours["map"], ours["map50"]], abs=1e-4)


def test_hostile_coco_values_are_bad_records_not_crashes(tmp_path, capsys):
    src = _coco(tmp_path, annotations=[
        {"id": 1, "image_id": [1], "category_id": 7, "bbox": [1, 1, 5, 5]},
        {"id": 2, "image_id": 1, "category_id": {"x": 1}, "bbox": [1, 1, 5, 5]},
        {"id": 3, "image_id": 1, "category_id": 7, "bbox": [1, 1, 1e400, 5]},
        {"id": 4, "image_id": 1, "category_id": 7, "bbox": [True, 1, 5, 5]},
        "not an object"],
        images=[{"id": 1, "file_name": "a.jpg"}, {"id": [2], "file_name": "b.jpg"}, {"id": 3, "file_name": ["c"]}])
    with pytest.raises(UserError, match="7 bad record"):
        convert(src, tmp_path / "yolo", "train", images=tmp_path / "photos")
    assert "image id [2]: an image needs an integer id" in capsys.readouterr().err


def test_an_entity_bomb_in_voc_xml_is_a_bad_record(tmp_path, capsys):
    root = tmp_path / "VOC"
    _voc(root)
    entities = "".join(f'<!ENTITY e{i + 1} "{f"&e{i};" * 10}">' for i in range(9))
    (root / "Annotations" / "000002.xml").write_text(
        f'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY e0 "boom">{entities}]><annotation><filename>&e9;</filename>'
        "</annotation>")
    with pytest.raises(UserError, match="1 bad record"):
        convert(root, tmp_path / "yolo", "train")
    assert "000002.xml:1: not valid XML (limit on input amplification factor" in capsys.readouterr().err
