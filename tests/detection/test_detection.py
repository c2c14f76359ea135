import numpy as np
import pytest
import tensorflow as tf

from keras_suite.detection.anchors import kmeans_anchors, wh_iou
from keras_suite.detection.grid import AnchorGrid
from keras_suite.detection.postprocess import detect
from keras_suite.detection.targets import assign_targets
from keras_suite.testing import perfect_yolo_head

ANCHORS = [[(0.1, 0.1), (0.2, 0.2)], [(0.5, 0.5), (0.8, 0.4)]]
C = 3


@pytest.fixture
def grid():
    return AnchorGrid(64, (16, 32), ANCHORS)  # grids 4x4 and 2x2, 2 anchors each: 40 positions


def test_grid_layout_and_decode(grid):
    assert grid.sizes == [4, 2] and grid.positions == 4 * 4 * 2 + 2 * 2 * 2 and grid.offset(1) == 32
    boxes, obj, cls = (t.numpy() for t in grid.decode(tf.zeros((1, grid.positions, 5 + C))))
    # position 19: scale 0, row 2, column 1, anchor 1 -> centre of cell (1, 2), the anchor's size
    np.testing.assert_allclose(boxes[0, 19], [1.5 / 4, 2.5 / 4, 0.2, 0.2], atol=1e-6)
    np.testing.assert_allclose(boxes[0, 35], [1.5 / 2, 0.5 / 2, 0.8, 0.4], atol=1e-6)
    assert obj.shape == (1, 40) and cls.shape == (1, 40, C)
    # the centre offset spans (-0.5, 1.5) cells: a neighbouring cell reaches a centre
    far = grid.decode(tf.fill((1, grid.positions, 5 + C), 30.0))[0].numpy()
    near = grid.decode(tf.fill((1, grid.positions, 5 + C), -30.0))[0].numpy()
    np.testing.assert_allclose(far[0, 19, :2], [2.5 / 4, 3.5 / 4], atol=1e-6)
    np.testing.assert_allclose(near[0, 19, :2], [0.5 / 4, 1.5 / 4], atol=1e-6)
    with pytest.raises(ValueError, match="divisible"):
        AnchorGrid(60, (16,), [ANCHORS[0]])


def test_assign_targets_by_hand(grid):
    boxes = np.array([[0.3, 0.6, 0.18, 0.2], [0.7, 0.2, 0.75, 0.45], [0.5, 0.5, 0.1, 0.1]], np.float32)
    classes = np.array([2, 0, -1])  # the last row is padding
    t = assign_targets(boxes, classes, grid, C).numpy()
    assert t.shape == (40, 5 + C) and np.flatnonzero(t[:, 4]).tolist() == [19, 35]
    np.testing.assert_allclose(t[19], [0.3, 0.6, 0.18, 0.2, 1, 0, 0, 1], atol=1e-6)  # anchor (0.2, 0.2), cell (1, 2)
    np.testing.assert_allclose(t[35], [0.7, 0.2, 0.75, 0.45, 1, 1, 0, 0], atol=1e-6)  # anchor (0.8, 0.4), cell (1, 0)
    # extra_iou: the small box also matches anchor (0.1, 0.1) with IoU 0.25 and (0.2, 0.2) best.
    extra = assign_targets(boxes, classes, grid, C, extra_iou=0.2).numpy()
    assert np.flatnonzero(extra[:, 4]).tolist() == [18, 19, 34, 35]
    # neighbours: box 0 (column 1.2, row 2.4 of 4) also at cells (0, 2) and (1, 1); box 1 (1.4, 0.4 of 2) at (0, 0),
    # its neighbour above is outside the grid
    near = assign_targets(boxes, classes, grid, C, neighbors=True).numpy()
    assert np.flatnonzero(near[:, 4]).tolist() == [11, 17, 19, 33, 35]
    for p, own in ((11, 19), (17, 19), (33, 35)):
        np.testing.assert_array_equal(near[p], near[own])


@pytest.mark.parametrize("seed", [0, 1])
def test_neighbouring_cells_reach_the_centre_and_a_box_keeps_its_own_cell(grid, seed):
    rng = np.random.default_rng(seed)
    boxes = np.concatenate([rng.uniform(0.02, 0.98, (6, 2)), rng.uniform(0.05, 0.9, (6, 2))], 1).astype(np.float32)
    classes = rng.integers(0, C, 6)
    own = assign_targets(boxes, classes, grid, C).numpy()
    near = assign_targets(boxes, classes, grid, C, neighbors=True).numpy()
    for p in np.flatnonzero(near[:, 4]):
        offset = near[p, :2] * grid.grid_size[p, 0] - grid.cells[p]
        assert np.all(offset > -0.5) and np.all(offset < 1.5)  # within what decode can reach
        assert np.sum(np.abs(np.floor(offset))) <= 1  # the own cell or one step left, right, up or down
    for p in np.flatnonzero(own[:, 4]):  # a box's own cell is never taken by another box's neighbour
        np.testing.assert_array_equal(near[p], own[p])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_assigned_cell_holds_the_centre_and_anchor_fits_best(grid, seed):
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0.02, 0.98, (6, 2))
    wh = rng.uniform(0.05, 0.9, (6, 2))
    t = assign_targets(np.concatenate([xy, wh], 1), rng.integers(0, C, 6), grid, C).numpy()
    for p in np.flatnonzero(t[:, 4]):
        cx, cy, w, h = t[p, :4]
        size = grid.grid_size[p, 0]
        assert (int(cx * size), int(cy * size)) == tuple(grid.cells[p].astype(int))
        best = grid.all_anchors[np.argmax(wh_iou([[w, h]], grid.all_anchors)[0])]
        np.testing.assert_allclose(grid.anchor_wh[p], best)


def test_kmeans_anchors_recovers_clusters():
    rng = np.random.default_rng(0)
    centres = np.array([[0.05, 0.08], [0.3, 0.2], [0.6, 0.7]])
    wh = np.concatenate([c * rng.uniform(0.9, 1.1, (50, 2)) for c in centres])
    anchors, mean_iou = kmeans_anchors(wh, 3, seed=1)
    np.testing.assert_allclose(anchors, centres, rtol=0.06)
    assert mean_iou > 0.85
    assert np.all(np.diff(anchors.prod(1)) > 0)  # sorted by area
    with pytest.raises(ValueError, match="cannot make"):
        kmeans_anchors(wh[:2], 3)


def test_detect_suppresses_within_a_class_only(grid):
    boxes = np.array([[0.3, 0.6, 0.18, 0.2], [0.7, 0.2, 0.75, 0.45]], np.float32)
    targets = assign_targets(boxes, [2, 0], grid, C).numpy()[None]
    raw = perfect_yolo_head(grid, targets)
    raw[0, 18, :4] = raw[0, 19, :4]  # a near-duplicate of box 0, same class, lower score
    raw[0, 18, 2:4] = np.log(0.2 / 0.1) + 0.05
    raw[0, 18, 4], raw[0, 18, 5:] = 2.0, [-20, -20, 20]
    raw[0, 17, :4] = raw[0, 18, :4]  # the same box, another class
    raw[0, 17, 2:4] = np.log(0.2 / 0.1)
    raw[0, 17, 4], raw[0, 17, 5:] = 3.0, [-20, 20, -20]
    out = {k: v.numpy() for k, v in detect(tf.constant(raw), grid, max_detections=5,
                                           scale=tf.constant([[200.0, 100.0]])).items()}
    assert out["num_detections"].tolist() == [3]
    assert out["classes"][0, :3].tolist() == [2, 0, 1] and np.all(out["scores"][0, 3:] == 0)
    np.testing.assert_allclose(out["boxes"][0, 0], [(0.3 - 0.09) * 200, (0.6 - 0.1) * 100, (0.3 + 0.09) * 200,
                                                    (0.6 + 0.1) * 100], atol=1e-3)
    assert np.all(out["boxes"][0, 3:] == 0)


def test_candidate_preselection_keeps_the_detections(grid):
    """NMS on the best-scoring positions only gives the same detections while the candidates hold every
    position above the score threshold; with fewer candidates, the best ones survive."""
    raw = np.random.default_rng(0).normal(0, 2, (2, grid.positions, 5 + C)).astype(np.float32)
    full = {k: v.numpy() for k, v in detect(tf.constant(raw), grid, 20, 0.5, 0.3, max_candidates=0).items()}
    above = int(np.max(np.sum(tf.reduce_max(tf.sigmoid(raw[..., 4:5]) * tf.sigmoid(raw[..., 5:]), -1) > 0.3, -1)))
    assert 0 < above < grid.positions
    some = {k: v.numpy() for k, v in detect(tf.constant(raw), grid, 20, 0.5, 0.3, max_candidates=above).items()}
    for k in full:
        np.testing.assert_allclose(some[k], full[k], atol=1e-6)
    best = {k: v.numpy() for k, v in detect(tf.constant(raw), grid, 20, 0.5, 0.3, max_candidates=1).items()}
    assert best["num_detections"].tolist() == [1, 1]
    np.testing.assert_allclose(best["scores"][:, 0], full["scores"][:, 0])



@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("max_candidates", [0, 24])
def test_one_image_suppression_equals_the_batched_one(grid, seed, max_candidates):
    """`suppress_one` (a TFLite file's loop-free NMS: one builtin NMS per class, merged by score) gives the batched
    suppression's detections, in the same order, on heads with many overlapping boxes of several classes."""
    raw = np.random.default_rng(seed).normal(0, 2, (1, grid.positions, 5 + C)).astype(np.float32)
    batched = {k: v.numpy() for k, v in detect(tf.constant(raw), grid, 30, 0.4, 0.2,
                                               max_candidates=max_candidates).items()}
    one = {k: v.numpy() for k, v in detect(tf.constant(raw), grid, 30, 0.4, 0.2, max_candidates=max_candidates,
                                           one_image=True).items()}
    assert 5 < batched["num_detections"][0] < 30 and len(set(batched["classes"][0])) == C
    assert {k: v.shape for k, v in one.items()} == {k: v.shape for k, v in batched.items()}
    for k in batched:
        np.testing.assert_allclose(one[k], batched[k], atol=1e-5, err_msg=k)
