"""From the raw head to fixed-size detections in the graph: decode, score = objectness x class
probability (`candidates`), then class-aware NMS with `tf.image.non_max_suppression_padded` (any batch) and boxes
in pixels of the input image (`suppress`); for one image, as a TFLite file runs, `suppress_one` does the same
with the builtin NON_MAX_SUPPRESSION_V5 op, without loops. A phone app that runs the network without NMS (on a
GPU delegate) calls the same `suppress` on the host. `part_candidates` computes the candidates with the heads split
into their parts, for the int8 files."""

import keras
import tensorflow as tf

from keras_suite.detection.grid import AnchorGrid, cxcywh_to_xyxy


def candidates(raw, grid: AnchorGrid):
    """raw (N, P, 5 + C) -> (boxes (N, P, 4) x1 y1 x2 y2 as fractions of the side, clipped to the image;
    class scores (N, P, C) = objectness x class probability): every position before suppression."""
    boxes, _, cls_logit = grid.decode(raw)
    objectness = tf.sigmoid(tf.cast(raw[..., 4:5], tf.float32))  # a slice that keeps the axis: GPU delegates take it
    return tf.clip_by_value(cxcywh_to_xyxy(boxes), 0.0, 1.0), objectness * tf.sigmoid(cls_logit)


def part_candidates(model, grid: AnchorGrid):
    """`images -> candidates(model(images), grid)`, with each scale's head convolution (`head<stride>`) split into
    its box-centre, box-size, objectness and class parts and each decoded on its own: every part is a tensor of its
    own, so a full-integer file gives each its own int8 scale (one scale over box offsets, objectness and class
    logits together loses most of the boxes' precision), and the boxes are clipped before they meet."""
    heads = [model.get_layer(f"head{stride}") for stride in grid.strides]
    features = keras.Model(model.inputs, [head.input for head in heads])

    def fn(images):
        boxes, scores = [], []
        for scale, (f, head) in enumerate(zip(features(images, training=False), heads)):
            f = tf.cast(f, tf.float32)
            b, start = len(grid.anchors[scale]), grid.offset(scale)
            n = grid.sizes[scale] ** 2 * b
            kernel = tf.reshape(head.kernel, [1, 1, head.kernel.shape[2], b, -1])
            bias = tf.reshape(head.bias, [b, -1])

            def part(first, last):
                k = last - first
                out = tf.nn.conv2d(f, tf.reshape(kernel[..., first:last], [1, 1, -1, b * k]), 1, "VALID")
                out += tf.reshape(bias[:, first:last], [-1])
                return tf.reshape(out, [-1, n, k])

            xy, wh = grid.decode_boxes(part(0, 2), part(2, 4), slice(start, start + n))
            boxes.append(tf.concat([tf.clip_by_value(xy - wh / 2, 0.0, 1.0), tf.clip_by_value(xy + wh / 2, 0.0, 1.0)],
                                   -1))
            scores.append(tf.sigmoid(part(4, 5)) * tf.sigmoid(part(5, bias.shape[-1])))
        return tf.concat(boxes, 1), tf.concat(scores, 1)

    return fn


def _best_positions(xyxy, probabilities, max_candidates):
    """(boxes, scores, classes) of each position's best class, only the `max_candidates` best-scoring positions
    (0: all)."""
    scores = tf.reduce_max(probabilities, axis=-1)
    classes = tf.argmax(probabilities, axis=-1, output_type=tf.int32)
    if 0 < max_candidates < xyxy.shape[1]:
        scores, best = tf.math.top_k(scores, k=max_candidates)
        xyxy, classes = tf.gather(xyxy, best, batch_dims=1), tf.gather(classes, best, batch_dims=1)
    return xyxy, scores, classes


def suppress(xyxy, probabilities, image_size, max_detections=100, iou_threshold=0.5, score_threshold=0.25,
             scale=None, max_candidates=256):
    """The `candidates` -> {"boxes" (N, D, 4) x1 y1 x2 y2, "scores" (N, D), "classes" (N, D) int32,
    "num_detections" (N,) int32}; rows past num_detections are zero.

    Each position keeps its best class, and only the `max_candidates` best-scoring positions (0: all) go
    to NMS, whose cost grows with the square of its input. Boxes of different classes are moved apart by
    the class index before one NMS call, so boxes only suppress boxes of their own class. `scale` ((N, 2) width,
    height, or None for the network's input size `image_size`) maps the boxes to image pixels.
    """
    xyxy, scores, classes = _best_positions(xyxy, probabilities, max_candidates)
    shifted = xyxy + 2.0 * tf.cast(classes, tf.float32)[..., None]
    yxyx = tf.gather(shifted, [1, 0, 3, 2], axis=-1)
    selected, count = tf.image.non_max_suppression_padded(yxyx, scores, max_detections, iou_threshold=iou_threshold,
                                                          score_threshold=score_threshold,
                                                          pad_to_max_output_size=True)
    keep = tf.sequence_mask(count, max_detections)
    if scale is None:
        scale = tf.fill([tf.shape(xyxy)[0], 2], float(image_size))
    pixels = tf.tile(tf.cast(scale, tf.float32), [1, 2])[:, None, :]
    out_boxes = tf.gather(xyxy, selected, batch_dims=1) * pixels
    return {"boxes": tf.where(keep[..., None], out_boxes, 0.0),
            "scores": tf.where(keep, tf.gather(scores, selected, batch_dims=1), 0.0),
            "classes": tf.where(keep, tf.gather(classes, selected, batch_dims=1), 0),
            "num_detections": tf.cast(count, tf.int32)}


def suppress_one(xyxy, probabilities, image_size, max_detections=100, iou_threshold=0.5, score_threshold=0.25,
                 max_candidates=256):
    """`suppress` for a batch of one image (a TFLite file's fixed signature), without loops: the same best
    positions, then one NON_MAX_SUPPRESSION_V5 (a TFLite builtin) per class on the scores of that class's positions,
    and the classes' survivors merged by score. The same detections as `suppress` (up to ties in score), but no
    tensor mixes boxes with class offsets: in an int8 file the offsets (up to 2 x classes) would leave a box
    coordinate 1/(2C+1) of the 256 levels, and the suppression would compare boxes blurred by several pixels."""
    xyxy, scores, classes = (t[0] for t in _best_positions(xyxy, probabilities, max_candidates))
    yxyx = tf.gather(xyxy, [1, 0, 3, 2], axis=-1)
    selected, kept_scores, counts = [], [], []
    for c in range(probabilities.shape[-1]):
        index, score, count = tf.raw_ops.NonMaxSuppressionV5(
            boxes=yxyx, scores=tf.where(tf.equal(classes, c), scores, 0.0), max_output_size=max_detections,
            iou_threshold=iou_threshold, score_threshold=score_threshold, soft_nms_sigma=0.0,
            pad_to_max_output_size=True)
        selected.append(index)
        kept_scores.append(tf.where(tf.sequence_mask(count, max_detections), score, -1.0))
        counts.append(count)
    # the count comes from the integer counts: an int8 file clamps the scores' -1 padding to its range's 0
    keep = tf.range(max_detections) < tf.minimum(tf.add_n(counts), max_detections)
    best_scores, order = tf.math.top_k(tf.concat(kept_scores, 0), k=max_detections)
    selected = tf.gather(tf.concat(selected, 0), order)
    return {"boxes": tf.where(keep[:, None], tf.gather(xyxy, selected) * float(image_size), 0.0)[None],
            "scores": tf.where(keep, best_scores, 0.0)[None],
            "classes": tf.where(keep, tf.gather(classes, selected), 0)[None],
            "num_detections": tf.reduce_sum(tf.cast(keep, tf.int32), keepdims=True)}


def detect(raw, grid: AnchorGrid, max_detections=100, iou_threshold=0.5, score_threshold=0.25, scale=None,
           max_candidates=256, one_image=False):
    """raw (N, P, 5 + C) -> fixed-size detections: `suppress(*candidates(raw, grid))`; `one_image` (N = 1, no
    `scale`): `suppress_one`."""
    if one_image:
        return suppress_one(*candidates(raw, grid), grid.image_size, max_detections, iou_threshold, score_threshold,
                            max_candidates)
    return suppress(*candidates(raw, grid), grid.image_size, max_detections, iou_threshold, score_threshold, scale,
                    max_candidates)
