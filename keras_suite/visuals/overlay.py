"""Pictures of label masks: a fixed palette, colourized masks, overlays and image grids."""

import numpy as np

_BASE = np.array([
    [0, 0, 0], [230, 25, 75], [60, 180, 75], [255, 225, 25], [0, 130, 200], [245, 130, 48],
    [145, 30, 180], [70, 240, 240], [240, 50, 230], [210, 245, 60], [250, 190, 212],
    [0, 128, 128], [220, 190, 255], [170, 110, 40], [255, 250, 200], [128, 0, 0],
], dtype=np.uint8)


def palette(num_classes):
    """A (num_classes, 3) uint8 palette; class 0 is black."""
    reps = -(-num_classes // len(_BASE))
    return np.tile(_BASE, (reps, 1))[:num_classes]


def colorize(mask, num_classes):
    return palette(max(num_classes, int(mask.max()) + 1))[mask]


def overlay(image, mask, num_classes, alpha=0.5):
    """Blend the colourized mask over the image; background (class 0) stays untouched."""
    colours = colorize(mask, num_classes).astype(np.float32)
    blend = image.astype(np.float32) * (1 - alpha) + colours * alpha
    return np.where(mask[..., None] > 0, blend, image).astype(np.uint8)


def grid(rows, pad=2):
    """Stack rows of equally sized uint8 RGB images into one picture with white padding."""
    h, w = rows[0][0].shape[:2]
    cols = max(len(r) for r in rows)
    out = np.full((len(rows) * (h + pad) + pad, cols * (w + pad) + pad, 3), 255, np.uint8)
    for i, row in enumerate(rows):
        for j, img in enumerate(row):
            y, x = pad + i * (h + pad), pad + j * (w + pad)
            out[y:y + h, x:x + w] = img if img.ndim == 3 else img[..., None]
    return out


def draw_boxes(image, boxes, classes, names, scores=None, colour_of=None):
    """The image (uint8 RGB) with each xyxy pixel box outlined in its class colour and labelled
    `name score`."""
    from PIL import Image, ImageDraw

    picture = Image.fromarray(np.asarray(image, np.uint8))
    draw = ImageDraw.Draw(picture)
    colours = palette(len(names) + 1)[1:]
    for i, (box, cls) in enumerate(zip(np.asarray(boxes, np.float64), classes)):
        colour = tuple(int(v) for v in (colour_of if colour_of is not None else colours[int(cls)]))
        draw.rectangle([float(v) for v in box], outline=colour, width=max(1, picture.width // 160))
        label = names[int(cls)] + ("" if scores is None else f" {float(scores[i]):.2f}")
        draw.text((float(box[0]) + 2, max(0.0, float(box[1]) - 11)), label, fill=colour)
    return np.asarray(picture)
