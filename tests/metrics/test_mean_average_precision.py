import contextlib
import io

import numpy as np
import pytest

from keras_suite.metrics.mean_average_precision import RECALL_POINTS, box_iou, evaluate_detections


def _one(det_boxes, scores, gt_boxes):
    return evaluate_detections([(np.array(det_boxes), np.array(scores), np.zeros(len(scores), int))],
                               [(np.array(gt_boxes), np.zeros(len(gt_boxes), int))], num_classes=1)


def test_box_iou_by_hand():
    assert box_iou([[0, 0, 10, 10]], [[5, 0, 15, 10]])[0, 0] == pytest.approx(50 / 150)
    assert box_iou([[0, 0, 10, 10]], [[20, 20, 30, 30]])[0, 0] == 0.0


def test_perfect_detections_score_one():
    r = _one([[0, 0, 10, 10], [20, 20, 40, 40]], [0.9, 0.8], [[0, 0, 10, 10], [20, 20, 40, 40]])
    assert r["map"] == r["map50"] == r["map75"] == 1.0


def test_a_false_positive_ranked_first_halves_precision():
    # FP at 0.9, then the TP at 0.8: precision 0.5 at recall 1, and the envelope is 0.5 everywhere.
    r = _one([[50, 50, 60, 60], [0, 0, 10, 10]], [0.9, 0.8], [[0, 0, 10, 10]])
    assert r["map50"] == pytest.approx(0.5)
    # The same FP ranked last costs nothing: precision 1 up to recall 1.
    assert _one([[50, 50, 60, 60], [0, 0, 10, 10]], [0.1, 0.8], [[0, 0, 10, 10]])["map50"] == 1.0


def test_half_recall_gives_51_of_101_points():
    r = _one([[0, 0, 10, 10]], [0.9], [[0, 0, 10, 10], [30, 30, 40, 40]])
    assert r["map50"] == pytest.approx(np.sum(RECALL_POINTS <= 0.5) / 101) == pytest.approx(51 / 101)


def test_iou_thresholds_count_towards_the_coco_average():
    # IoU 0.72: a true positive at thresholds 0.50 ... 0.70 (5 of 10), a miss above.
    det = [[0, 0, 10, 7.2]]
    r = _one(det, [0.9], [[0, 0, 10, 10]])
    assert r["map50"] == 1.0 and r["map75"] == 0.0 and r["map"] == pytest.approx(0.5)


def test_duplicates_are_false_positives_and_classes_are_separate():
    dets = [(np.array([[0, 0, 10, 10], [0, 0, 10, 10], [20, 20, 30, 30]]), np.array([0.9, 0.8, 0.7]),
             np.array([0, 0, 1]))]
    gts = [(np.array([[0, 0, 10, 10], [20, 20, 30, 30]]), np.array([0, 1]))]
    r = evaluate_detections(dets, gts, num_classes=3)
    assert r["per_class"][0]["ap50"] == 1.0  # the duplicate at a lower score does not lower the envelope
    assert r["per_class"][1]["ap50"] == 1.0
    assert r["per_class"][2]["ap"] is None and r["map50"] == 1.0  # no ground truth: left out of the mean
    recall, precision = r["pr_curves"][0]
    np.testing.assert_allclose(recall, [1, 1]) and np.testing.assert_allclose(precision, [1, 0.5])


def _coco_reference(dets, gts, num_classes):
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    images, annotations, results = [], [], []
    for i, ((db, ds, dc), (gb, gc)) in enumerate(zip(dets, gts)):
        images.append({"id": i + 1, "width": 200, "height": 200})
        for b, c in zip(gb, gc):
            w, h = b[2] - b[0], b[3] - b[1]
            annotations.append({"id": len(annotations) + 1, "image_id": i + 1, "category_id": int(c) + 1,
                                "bbox": [float(b[0]), float(b[1]), float(w), float(h)], "area": float(w * h),
                                "iscrowd": 0})
        for b, s, c in zip(db, ds, dc):
            results.append({"image_id": i + 1, "category_id": int(c) + 1, "score": float(s),
                            "bbox": [float(b[0]), float(b[1]), float(b[2] - b[0]), float(b[3] - b[1])]})
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO()
        coco.dataset = {"images": images, "annotations": annotations,
                        "categories": [{"id": c + 1, "name": str(c)} for c in range(num_classes)]}
        coco.createIndex()
        evaluator = COCOeval(coco, coco.loadRes(results), "bbox")
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return evaluator.stats  # map, map50, map75, small, medium, large, ...


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_matches_pycocotools_on_random_scenes(seed):
    pytest.importorskip("pycocotools")
    rng = np.random.default_rng(seed)
    num_classes, dets, gts = 3, [], []
    for _ in range(6):
        n = int(rng.integers(1, 6))
        xy = rng.uniform(0, 150, (n, 2))
        wh = rng.uniform(8, 120, (n, 2))
        gb = np.concatenate([xy, xy + wh], 1)
        gc = rng.integers(0, num_classes, n)
        # detections: jittered copies of some boxes (some with the wrong class), plus random boxes
        keep = rng.random(n) < 0.8
        jitter = gb[keep] + rng.normal(0, 6, (int(keep.sum()), 4))
        jitter[:, 2:] = np.maximum(jitter[:, 2:], jitter[:, :2] + 2)
        dc = np.where(rng.random(int(keep.sum())) < 0.85, gc[keep], rng.integers(0, num_classes, int(keep.sum())))
        m = int(rng.integers(0, 4))
        rxy = rng.uniform(0, 150, (m, 2))
        db = np.concatenate([jitter, np.concatenate([rxy, rxy + rng.uniform(8, 60, (m, 2))], 1)])
        dets.append((db, rng.uniform(0, 1, len(db)), np.concatenate([dc, rng.integers(0, num_classes, m)])))
        gts.append((gb, gc))
    ours = evaluate_detections(dets, gts, num_classes)
    reference = _coco_reference(dets, gts, num_classes)
    for key, ref in zip(("map", "map50", "map75", "map_small", "map_medium", "map_large"), reference[:6]):
        expected = None if ref == -1 else ref
        assert ours[key] == pytest.approx(expected, abs=1e-9), (key, ours[key], ref)

