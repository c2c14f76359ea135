"""The anchor grid of a multi-scale YOLO head and the decoding of its raw outputs (Redmon & Farhadi,
2018, "YOLOv3: An Incremental Improvement", https://arxiv.org/abs/1804.02767).

The head's outputs of every scale are flattened into one tensor (N, P, 5 + C), P = sum over scales
of S*S*B, position order (scale, row, column, anchor). Raw values per position are
(tx, ty, tw, th, objectness logit, class logits); the box is
cx = (2 sigmoid(tx) - 0.5 + column) / S, cy = (2 sigmoid(ty) - 0.5 + row) / S, w = anchor_w * exp(tw),
h = anchor_h * exp(th), all as fractions of the image side. The centre offset spans (-0.5, 1.5) cells (YOLOv4's
"eliminate grid sensitivity", as YOLOv5): the cell's edges are reached without saturating the sigmoid, and a
neighbouring cell can predict a centre (`assign_targets(neighbors=True)`).
"""

import numpy as np
from keras import ops

MAX_LOG_SCALE = 4.0  # exp(4) = 55x the anchor: keeps exp finite for wild early predictions


class AnchorGrid:
    """Positions, cells and anchors of a head with one grid per stride.

    Args:
        image_size: square input side in pixels.
        strides: downsampling of each scale (e.g. (8, 16, 32)), image_size divisible by each.
        anchors: per scale a list of (w, h) as fractions of the image side.
    """

    def __init__(self, image_size, strides, anchors):
        if len(strides) != len(anchors):
            raise ValueError(f"{len(strides)} strides but anchors for {len(anchors)} scales")
        for s in strides:
            if image_size % s:
                raise ValueError(f"image size {image_size} is not divisible by stride {s}")
        self.image_size, self.strides = image_size, tuple(strides)
        self.anchors = [np.asarray(a, np.float32).reshape(-1, 2) for a in anchors]
        self.sizes = [image_size // s for s in strides]
        cells, whs, scales, grid_sizes = [], [], [], []
        for scale, (size, anchors_s) in enumerate(zip(self.sizes, self.anchors)):
            b = len(anchors_s)
            row, col, _ = np.meshgrid(np.arange(size), np.arange(size), np.arange(b), indexing="ij")
            cells.append(np.stack([col, row], -1).reshape(-1, 2))
            whs.append(np.tile(anchors_s, (size * size, 1)))
            scales.append(np.full(size * size * b, scale))
            grid_sizes.append(np.full(size * size * b, size))
        self.cells = np.concatenate(cells).astype(np.float32)  # (P, 2) column, row
        self.anchor_wh = np.concatenate(whs).astype(np.float32)  # (P, 2)
        self.scale = np.concatenate(scales)  # (P,)
        self.grid_size = np.concatenate(grid_sizes).astype(np.float32)[:, None]  # (P, 1)
        self.positions = len(self.cells)

    @property
    def all_anchors(self):
        """(A, 2) anchors of every scale, in scale order."""
        return np.concatenate(self.anchors)

    def offset(self, scale):
        """Index of the first position of `scale` in the flattened layout."""
        return int(sum(s * s * len(a) for s, a in zip(self.sizes[:scale], self.anchors[:scale])))

    def decode(self, raw):
        """raw (N, P, 5 + C) -> (boxes (N, P, 4) cx, cy, w, h in [0, 1] of the side, objectness logits (N, P),
        class logits (N, P, C))."""
        raw = ops.cast(raw, "float32")
        xy, wh = self.decode_boxes(raw[..., 0:2], raw[..., 2:4])
        return ops.concatenate([xy, wh], axis=-1), raw[..., 4], raw[..., 5:]

    def decode_boxes(self, xy, wh, positions=slice(None)):
        """Raw centre values xy (..., p, 2) and size values wh (..., p, 2) of the positions `positions` (a slice of
        the flattened layout) -> (centres cx, cy; sizes w, h), fractions of the image side."""
        centres = (2.0 * ops.sigmoid(xy) - 0.5 + self.cells[positions]) / self.grid_size[positions]
        return centres, self.anchor_wh[positions] * ops.exp(ops.minimum(wh, MAX_LOG_SCALE))

    def get_config(self):
        return {"image_size": self.image_size, "strides": list(self.strides),
                "anchors": [a.tolist() for a in self.anchors]}


def cxcywh_to_xyxy(boxes):
    xy, wh = boxes[..., :2], boxes[..., 2:4]
    return ops.concatenate([xy - wh / 2, xy + wh / 2], axis=-1)
