"""Pictures of label masks and boxes: a fixed palette, colourized masks, overlays, boxes with their labels, and
grids with column titles and a colour legend, big enough to read."""

import numpy as np
from PIL import Image, ImageDraw, ImageFont

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


def font(size):
    """Pillow's built-in scalable font at `size` pixels."""
    return ImageFont.load_default(size=size)


def upscale(image, factor):
    """A uint8 image `factor` times larger, each pixel a block (no blur between labels)."""
    return np.repeat(np.repeat(np.asarray(image), factor, axis=0), factor, axis=1)


def tiles(images, side):
    """Images (N, S, S, C) in 0-255 (any float or int type; grey or RGB) as uint8 RGB tiles enlarged by whole
    pixels to at least `side` high."""
    images = np.clip(np.round(np.asarray(images, np.float32)), 0, 255).astype(np.uint8)
    if images.shape[-1] == 1:
        images = np.repeat(images, 3, axis=-1)
    factor = max(1, -(-side // images.shape[1]))
    return [upscale(image, factor) for image in images]


def draw_boxes(image, boxes, classes, names, scores=None, colour_of=None):
    """The image (uint8 RGB) with each xyxy pixel box outlined in its class colour and labelled `name score` on a
    dark band, in a font sized to the image (legible from about 200 px wide)."""
    picture = Image.fromarray(np.asarray(image, np.uint8))
    draw = ImageDraw.Draw(picture)
    text = font(max(10, picture.width // 24))
    colours = palette(len(names) + 1)[1:]
    for i, (box, cls) in enumerate(zip(np.asarray(boxes, np.float64), classes)):
        colour = tuple(int(v) for v in (colour_of if colour_of is not None else colours[int(cls)]))
        draw.rectangle([float(v) for v in box], outline=colour, width=max(1, picture.width // 160))
        label = names[int(cls)] + ("" if scores is None else f" {float(scores[i]):.2f}")
        left, top, right, bottom = draw.textbbox((0, 0), label, font=text)
        x, y = float(box[0]), max(0.0, float(box[1]) - (bottom - top) - 4)
        draw.rectangle([x, y, x + right - left + 4, y + bottom - top + 4], fill=(0, 0, 0))
        draw.text((x + 2 - left, y + 2 - top), label, fill=colour, font=text)
    return np.asarray(picture)


def labelled_grid(rows, titles, legend=(), size=14):
    """`grid(rows)` under a band of column `titles`, above a `legend` of (name, rgb colour) swatches."""
    body = grid(rows, pad=4)
    text = font(size)
    width = body.shape[1]
    header = Image.new("RGB", (width, size + 12), (255, 255, 255))
    draw = ImageDraw.Draw(header)
    column = (width - 4) / max(len(titles), 1)
    for i, title in enumerate(titles):
        left, _, right, _ = draw.textbbox((0, 0), title, font=text)
        draw.text((4 + column * i + (column - (right - left)) / 2, 4), title, fill=(0, 0, 0), font=text)
    parts = [np.asarray(header), body]
    if legend:
        band = Image.new("RGB", (width, (size + 8) * len(legend) + 8), (255, 255, 255))  # cut to the lines used
        draw = ImageDraw.Draw(band)
        x, y = 6, 4
        for name, colour in legend:
            left, _, right, _ = draw.textbbox((0, 0), name, font=text)
            if x + size + 6 + right - left > width:
                x, y = 6, y + size + 8
            draw.rectangle([x, y, x + size, y + size], fill=tuple(int(c) for c in colour), outline=(90, 90, 90))
            draw.text((x + size + 4, y - 1), name, fill=(0, 0, 0), font=text)
            x += size + 16 + right - left
        parts.append(np.asarray(band)[:y + size + 8])
    return np.concatenate(parts, axis=0)
