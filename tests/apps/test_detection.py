import contextlib
import io
import json

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from keras_suite.apps.detection.app import match_detections
from keras_suite.data.scenes import make_detection_scenes
from keras_suite.export import tflite
from keras_suite.testing import read_litert_metadata

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def detection_run(trained):
    return trained("detection")


def test_train_writes_anchors_previews_and_map(detection_run):
    config = (detection_run / "config.yaml").read_text()
    assert "anchors:" in config and "- - 0." in config  # k-means anchors saved with the run
    final = json.loads((detection_run / "metrics.json").read_text())["final"]
    assert {"val_map50", "val_map", "loss", "val_loss"} <= set(final)
    assert (detection_run / "previews" / "boxes_epoch002.png").is_file()


def test_the_default_xla_train_step_compiles(cli, tmp_path):
    """The default config trains under XLA (tiny turns it off for speed): every op of the step, gradients
    included, must have an XLA kernel (nearest resizing's gradient has none, which is why the pyramid upsamples
    with UpSampling2D)."""
    code, _, err = cli("detection", "train", "--config", "tiny", "train.jit_compile=true", "train.epochs=1",
                       "train.steps_per_epoch=1", "train.validation_steps=1", f"train.runs_dir={tmp_path}")
    assert code == 0, err


def test_evaluate_predict_and_anchors(cli, detection_run, tmp_path):
    code, out, err = cli("detection", "evaluate", f"run={detection_run}")
    assert code == 0, err
    report = json.loads((detection_run / "eval_test.json").read_text())
    assert report["images"] == 8 and set(report["per_class"]) == {str(d) for d in range(10)}
    assert (detection_run / "previews" / "pr_test.png").is_file() and "map50" in out
    # the COCO JSON it writes loads in pycocotools and scores the same (the writers' own check: test_detection_convert)
    pytest.importorskip("pycocotools")
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        truth = COCO(str(detection_run / "coco_test_ground_truth.json"))
        scored = COCOeval(truth, truth.loadRes(str(detection_run / "coco_test_detections.json")), "bbox")
        scored.evaluate()
        scored.accumulate()
        scored.summarize()
    assert len(truth.getImgIds()) == 8
    assert scored.stats[:2] == pytest.approx([report["map"], report["map50"]], abs=1e-3)

    images, _, _ = make_detection_scenes(2, 80, seed=4)
    folder = tmp_path / "photos"
    folder.mkdir()
    for i, image in enumerate(images):
        Image.fromarray(image[:, :70]).save(folder / f"{i}.png")
    code, out, err = cli("detection", "predict", f"run={detection_run}", f"image={folder}",
                         f"out={tmp_path / 'pred'}")
    assert code == 0, err
    # drawn on the photo enlarged by whole pixels to a shorter side of at least 256, where labels read
    assert Image.open(tmp_path / "pred" / "0_boxes.png").size == (280, 320)

    code, out, err = cli("detection", "anchors", "--config", "tiny", "k=3")
    assert code == 0 and "mean best IoU" in out and "model.anchors=[[" in out


def test_evaluate_a_yolo_folder_without_a_test_split(cli, detection_run, tmp_path):
    """Most YOLO datasets have train/ and val/ only: evaluate says it scores val, and its COCO JSON names the files
    with their own sizes."""
    for split, seed in (("train", 5), ("val", 6)):
        images, boxes, classes = make_detection_scenes(3, 96, seed=seed)
        (tmp_path / "ds" / split / "images").mkdir(parents=True)
        (tmp_path / "ds" / split / "labels").mkdir()
        for i, (image, b, c) in enumerate(zip(images, boxes, classes)):
            Image.fromarray(image).save(tmp_path / "ds" / split / "images" / f"s{i}.png")
            cxcywh = np.concatenate([(b[:, :2] + b[:, 2:]) / 2, b[:, 2:] - b[:, :2]], 1) / 96
            (tmp_path / "ds" / split / "labels" / f"s{i}.txt").write_text(
                "".join(f"{k} {' '.join(f'{v:.6f}' for v in row)}\n" for k, row in zip(c, cxcywh)))
    (tmp_path / "ds" / "classes.txt").write_text("".join(f"{d}\n" for d in range(10)))
    code, out, err = cli("detection", "evaluate", f"run={detection_run}", f"data.source=folder:{tmp_path / 'ds'}")
    assert code == 0, err
    assert "has no test split: evaluating on its val split" in out
    assert json.loads((detection_run / "eval_val.json").read_text())["split"] == "val"
    truth = json.loads((detection_run / "coco_val_ground_truth.json").read_text())
    assert truth["images"][0] == {"id": 1, "file_name": "s0.png", "width": 96, "height": 96}
    assert len(truth["annotations"]) == sum(len(b) for b in make_detection_scenes(3, 96, seed=6)[1])


def test_export_runs_nms_in_every_format(cli, detection_run, tmp_path):
    formats = "saved_model,tflite,tflite_fp16,tflite_int8,tflite_tasks,tflite_nonms,tflite_int8_full"
    # An untrained model's scores sit at the threshold, so int8 parity is checked on trained runs (bench);
    # here int8 must convert with builtin ops and run.
    limits = "{'saved_model': 1.0, 'tflite': 0.9, 'tflite_fp16': 0.8, 'tflite_int8': 0.0, 'tflite_int8_full': 0.0}"
    code, out, err = cli("detection", "export", f"run={detection_run}", f"export.out_dir={tmp_path}",
                         f"formats={formats}", "export.name=tiny", f"export.min_match_rate={limits}")
    assert code == 0, err
    target = tmp_path / "detection" / "tiny"
    report = json.loads((target / "parity.json").read_text())
    assert report["formats"]["saved_model"]["match_rate"] == 1.0
    for name in ("model.tflite", "model_fp16.tflite", "model_int8.tflite"):
        flatbuffer = (target / name).read_bytes()
        assert tflite.non_builtin_ops(flatbuffer) == []
        out = tflite.Runner(flatbuffer)(images=np.zeros((1, 64, 64, 3), np.uint8))
        assert out["boxes"].shape == (1, 100, 4) and out["num_detections"].shape == (1,)
        assert "WHILE" not in tflite.op_names(flatbuffer)  # one builtin NMS per class, no loop
    # int8: the network in integers, each head's parts with their own scale; the suppression in float
    int8_ops = tflite.op_names((target / "model_int8.tflite").read_bytes())
    assert int8_ops.count("NON_MAX_SUPPRESSION_V5") == 10 and "DEQUANTIZE" in int8_ops
    assert int8_ops.count("CONV_2D") > tflite.op_names((target / "model.tflite").read_bytes()).count("CONV_2D")
    # The layout MediaPipe Tasks and the Task Library read: the same detections as four float32 outputs, found
    # by their metadata names, boxes (ymin, xmin, ymax, xmax) in fractions of the image.
    scene = make_detection_scenes(1, 64, seed=6)[0]
    main = tflite.Runner((target / "model.tflite").read_bytes())(images=scene)
    tasks = tflite.Runner((target / "model_tasks.tflite").read_bytes())(images=scene)
    assert all(v.dtype == np.float32 for v in tasks.values())
    np.testing.assert_allclose(tasks["location"] * 64, main["boxes"][..., [1, 0, 3, 2]], atol=1e-4)
    np.testing.assert_array_equal(tasks["category"], main["classes"])
    np.testing.assert_array_equal(tasks["number_of_detections"], main["num_detections"])
    metadata, files = read_litert_metadata(target / "model_tasks.tflite")
    (subgraph,) = metadata["subgraph_metadata"]
    outputs = {t["name"]: t for t in subgraph["output_tensor_metadata"]}
    assert set(outputs) == {"location", "category", "score", "number of detections"}
    assert outputs["location"]["content"]["content_properties"] == {"index": [1, 0, 3, 2], "type": "BOUNDARIES",
                                                                     "coordinate_type": "RATIO"}
    assert outputs["category"]["associated_files"][0]["type"] == "TENSOR_VALUE_LABELS"
    assert files["labels.txt"] == b"".join(f"{d}\n".encode() for d in range(10))
    assert subgraph["output_tensor_groups"] == [{"name": "detection_result",
                                                 "tensor_names": ["location", "category", "score"]}]

    # Without NMS, for a GPU delegate: every position's boxes and class scores from a float photo; the host's
    # suppression (the parity check runs it) gives the in-graph detections. The GPU delegate takes all of it (the
    # feature pyramid upsamples with 4-D concatenations and reshapes, not UpSampling2D's 5-D tiles).
    assert report["formats"]["tflite_nonms"]["match_rate"] == 1.0
    nonms = tflite.Runner((target / "model_nonms.tflite").read_bytes())(images=scene.astype(np.float32))
    assert nonms["boxes"].shape[:2] == nonms["scores"].shape[:2] and nonms["scores"].shape[2] == 10
    compat = json.loads((target / "compat.json").read_text())
    gpu = compat["model_nonms.tflite"]["targets"]["gpu"]
    assert gpu["supported"] == "yes", gpu
    assert "NON_MAX_SUPPRESSION_V5" in compat["model.tflite"]["targets"]["gpu"]["blocking_ops"]  # NMS stays on a CPU
    metadata, _ = read_litert_metadata(target / "model_nonms.tflite")
    scores = next(t for t in metadata["subgraph_metadata"][0]["output_tensor_metadata"] if t["name"] == "scores")
    assert scores["process_units"][0]["options"]["global_score_threshold"] == pytest.approx(0.001)
    # The same in integers only, each head's box, objectness and class parts quantized on their own: the photo's
    # bytes in, uint8 boxes and scores out, which the runner dequantizes to the float file's candidates.
    integer = (target / "model_int8_full.tflite").read_bytes()
    assert compat["model_int8_full.tflite"]["targets"]["full_int8"]["supported"] == "yes"
    full = tflite.Runner(integer)(images=scene)
    assert full["boxes"].shape == nonms["boxes"].shape and full["scores"].shape == nonms["scores"].shape
    np.testing.assert_allclose(full["boxes"], nonms["boxes"], atol=0.1)
    assert "probe_mean_abs_diff" not in report["formats"]["tflite_int8_full"]  # its graph has no raw head
    assert set(report["formats"]["tflite_int8_full"]) >= {"photo_match_rate", "photo_max_abs_diff"}

    loaded = tf.saved_model.load(str(target / "saved_model"))
    images, _, _ = make_detection_scenes(1, 90, seed=5)
    result = loaded.signatures["serving_default"](images=tf.constant(images[:, :, :75]))
    n = int(result["num_detections"][0])
    boxes = result["boxes"].numpy()[0, :n]
    assert np.all(boxes[:, [0, 2]] <= 75 + 1e-3) and np.all(boxes[:, [1, 3]] <= 90 + 1e-3)  # the photo's pixels


def test_export_refuses_parity_on_nothing(cli, detection_run, tmp_path):
    """A model that finds no box on the samples passes no box-level check: there is nothing to compare."""
    code, _, err = cli("detection", "export", f"run={detection_run}", f"export.out_dir={tmp_path}",
                       "formats=saved_model,tflite", "detect.score_threshold=0.999")
    assert code == 2 and "saved_model (match_rate: nothing to compare)" in err and "nothing was written" in err
    assert list((tmp_path / "detection").iterdir()) == []


def test_match_detections_by_hand():
    ref = {"boxes": np.array([[[0, 0, 10, 10], [20, 20, 30, 30]]], np.float32), "scores": np.array([[0.9, 0.8]]),
           "classes": np.array([[1, 2]]), "num_detections": np.array([2])}
    same = match_detections(ref, ref)
    assert same == {"match_rate": 1.0, "matched_iou": 1.0, "score_diff": 0.0}
    moved = {**ref, "boxes": ref["boxes"] + np.array([1, 0, 1, 0], np.float32), "scores": np.array([[0.85, 0.8]])}
    r = match_detections(ref, moved)
    assert r["match_rate"] == 1.0 and r["matched_iou"] == pytest.approx(90 / 110)
    assert r["score_diff"] == pytest.approx(0.05)
    other_class = {**ref, "classes": np.array([[1, 3]])}
    assert match_detections(ref, other_class)["match_rate"] == pytest.approx(0.5)  # 2 x 1 matched / 4 boxes
    fewer = {**ref, "num_detections": np.array([1])}
    assert match_detections(ref, fewer)["match_rate"] == pytest.approx(2 / 3)
    none = {**ref, "num_detections": np.array([0])}
    assert match_detections(none, none)["match_rate"] is None  # was 1.0: parity on nothing passed


def test_bad_labels_exit_2(cli, tmp_path):
    for part in ("train", "val", "test"):
        (tmp_path / part / "images").mkdir(parents=True)
        (tmp_path / part / "labels").mkdir()
        Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(tmp_path / part / "images" / "a.png")
        (tmp_path / part / "labels" / "a.txt").write_text("0 0.5 0.5 0.2 0.2\n")
    (tmp_path / "train" / "labels" / "a.txt").write_text("0 0.5 0.5 0.2 0.2\n7 0.5 0.5 0.2 0.2\n")
    code, _, err = cli("detection", "train", "--config", "tiny", f"train.runs_dir={tmp_path / 'runs'}",
                       f"data.source=folder:{tmp_path}", "data.class_names=cat,dog")
    assert code == 2 and "a.txt:2: class 7 is outside the 2 configured classes" in err
    assert not (tmp_path / "runs").exists()

