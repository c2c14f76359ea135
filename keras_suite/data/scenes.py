"""Synthetic scenes with exact masks (segmentation) or exact boxes (detection), deterministic from a seed.

Objects are geometric shapes ("shapes") or real handwritten digits from
`sklearn.datasets.load_digits` ("digits"), pasted with random colour, size and rotation onto
tinted natural textures from `skimage.data` (brick, grass, gravel, camera, moon), in a colour that
stands out from what lies behind. The mask comes from the same drawing as the image, so it is exact.
"""

import functools

import numpy as np
from PIL import Image, ImageDraw

from keras_suite.choices import SCENE_KINDS
from keras_suite.metrics.mean_average_precision import box_iou

SHAPE_CLASSES = ("background", "circle", "square", "triangle")
DIGIT_CLASSES = ("background",) + tuple(str(d) for d in range(10))
KINDS = dict(zip(SCENE_KINDS, (SHAPE_CLASSES, DIGIT_CLASSES), strict=True))


@functools.lru_cache(maxsize=1)
def _textures():
    import skimage.data

    return [np.asarray(getattr(skimage.data, n)(), np.float32) / 255.0
            for n in ("brick", "grass", "gravel", "camera", "moon")]


@functools.lru_cache(maxsize=1)
def _digits():
    from sklearn.datasets import load_digits

    d = load_digits()
    return d.images.astype(np.float32) / 16.0, d.target


def background(rng, size):
    """A size x size float RGB crop of a natural texture, recoloured between two random colours."""
    tex = _textures()[rng.integers(len(_textures()))]
    crop = int(rng.integers(size, min(tex.shape[:2])))
    y, x = rng.integers(0, tex.shape[0] - crop + 1), rng.integers(0, tex.shape[1] - crop + 1)
    patch = Image.fromarray((tex[y:y + crop, x:x + crop] * 255).astype(np.uint8)).resize((size, size))
    t = np.asarray(patch, np.float32)[..., None] / 255.0
    dark, light = rng.uniform(0, 140, 3), rng.uniform(110, 255, 3)
    return t * light + (1 - t) * dark


def _shape_polygon(rng, kind, cx, cy, r):
    if kind == 1:
        return None
    sides = 4 if kind == 2 else 3
    angle = rng.uniform(0, 2 * np.pi)
    return [(cx + r * np.cos(angle + 2 * np.pi * k / sides), cy + r * np.sin(angle + 2 * np.pi * k / sides))
            for k in range(sides)]


# Area of a shape with circumradius 1: circle, square, equilateral triangle. Sizes are drawn as areas
# so that shape, not size, tells the classes apart.
_UNIT_AREA = {1: np.pi, 2: 2.0, 3: 3 * np.sqrt(3) / 4}


def shape_mask(rng, cls, cx, cy, r, size):
    """The bool (size, size) mask of shape class `cls` (SHAPE_CLASSES) with circumradius `r` at (cx, cy), turned
    by a random angle."""
    layer = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(layer)
    poly = _shape_polygon(rng, cls, cx, cy, r)
    if poly is None:
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=1)
    else:
        draw.polygon(poly, fill=1)
    return np.asarray(layer, bool)


def _paste_shape(rng, size):
    cls = int(rng.integers(1, len(SHAPE_CLASSES)))
    area = rng.uniform(0.025, 0.15) * size * size
    r = np.sqrt(area / _UNIT_AREA[cls])
    cx, cy = rng.uniform(r, size - r, 2)
    return cls, shape_mask(rng, cls, cx, cy, r, size)


def _paste_digit(rng, size):
    images, targets = _digits()
    i = int(rng.integers(len(images)))
    side = int(rng.uniform(0.3, 0.55) * size)
    glyph = np.asarray(Image.fromarray((images[i] * 255).astype(np.uint8)).resize((side, side), Image.BILINEAR))
    y, x = rng.integers(0, size - side + 1, 2)
    region = np.zeros((size, size), bool)
    region[y:y + side, x:x + side] = glyph > 100
    return int(targets[i]) + 1, region


def _contrasting_colour(rng, behind, min_distance=90.0, tries=20):
    """A random RGB colour at least `min_distance` away from `behind` (so a person could see the object)."""
    for _ in range(tries):
        colour = rng.uniform(0, 255, 3)
        if np.linalg.norm(colour - behind) >= min_distance:
            return colour
    return np.where(behind > 127, 0.0, 255.0)


def make_scenes(kind, count, size, seed, max_objects=3):
    """Return `(images uint8 (N, S, S, 3), masks uint8 (N, S, S))` for `kind` in KINDS."""
    if kind not in KINDS:
        raise ValueError(f"unknown scene kind '{kind}'; choose from {sorted(KINDS)}")
    paste = _paste_shape if kind == "shapes" else _paste_digit
    rng = np.random.default_rng(seed)
    images = np.empty((count, size, size, 3), np.uint8)
    masks = np.zeros((count, size, size), np.uint8)
    for n in range(count):
        image = background(rng, size)
        mask = masks[n]
        for _ in range(int(rng.integers(1, max_objects + 1))):
            cls, region = paste(rng, size)
            colour = _contrasting_colour(rng, image[region].mean(axis=0))
            shade = rng.uniform(0.75, 1.0, (size, size, 1))
            image[region] = (colour * shade)[region]
            mask[region] = cls
        noise = rng.normal(0, rng.uniform(0, 12), image.shape)
        images[n] = np.clip(image + noise, 0, 255).astype(np.uint8)
    return images, masks


def make_detection_scenes(count, size, seed, max_objects=4, min_side=0.15, max_side=0.4, max_overlap=0.3):
    """Handwritten digits (10 classes) on textured backgrounds with exact boxes.

    Returns (images uint8 (N, S, S, 3), boxes: per image float32 (M, 4) x1 y1 x2 y2 in pixels, the tight
    box of the glyph's ink, classes: per image int32 (M,)). Objects may overlap up to `max_overlap` IoU.
    """
    glyphs, targets = _digits()
    rng = np.random.default_rng(seed)
    images = np.empty((count, size, size, 3), np.uint8)
    all_boxes, all_classes = [], []
    for n in range(count):
        image = background(rng, size)
        boxes, classes = [], []
        for _ in range(int(rng.integers(1, max_objects + 1))):
            for _ in range(20):  # placements overlapping an earlier digit too much are drawn again
                i = int(rng.integers(len(glyphs)))
                side = int(rng.uniform(min_side, max_side) * size)
                glyph = np.asarray(Image.fromarray((glyphs[i] * 255).astype(np.uint8)).resize((side, side),
                                                                                           Image.BILINEAR)) > 100
                ys, xs = np.nonzero(glyph)
                y, x = rng.integers(0, size - side + 1, 2)
                box = np.array([x + xs.min(), y + ys.min(), x + xs.max() + 1, y + ys.max() + 1], np.float64)
                if not boxes or box_iou(box, boxes).max() <= max_overlap:
                    break
            else:
                continue
            region = np.zeros((size, size), bool)
            region[y:y + side, x:x + side] = glyph
            colour = _contrasting_colour(rng, image[region].mean(axis=0))
            image[region] = (colour * rng.uniform(0.75, 1.0, (size, size, 1)))[region]
            boxes.append(box)
            classes.append(int(targets[i]))
        noise = rng.normal(0, rng.uniform(0, 12), image.shape)
        images[n] = np.clip(image + noise, 0, 255).astype(np.uint8)
        all_boxes.append(np.asarray(boxes, np.float32).reshape(-1, 4))
        all_classes.append(np.asarray(classes, np.int32))
    return images, all_boxes, all_classes


FACE_RADII = (0.36, 0.44)  # the elliptical mask a drawn face is pasted through, as fractions of its square
FACE_BOX = np.array([0.5 - FACE_RADII[0], 0.5 - FACE_RADII[1], 0.5 + FACE_RADII[0], 0.5 + FACE_RADII[1]])


def make_face_scenes(count, size, seed, max_objects=3, min_side=0.2, max_side=0.5, max_overlap=0.1):
    """The embedded drawn faces (`keras_suite.data.faces`, identities of their own) on textured backgrounds, one class.

    Returns (images uint8 (N, S, S, 3), boxes: per image float32 (M, 4) x1 y1 x2 y2 in pixels, classes: per image
    int32 (M,) zeros). Each face is pasted through an elliptical mask whose bounds are its box."""
    from keras_suite.data.faces import face_images

    rng = np.random.default_rng(seed)
    images = np.empty((count, size, size, 3), np.uint8)
    all_boxes, all_classes = [], []
    for n in range(count):
        image = background(rng, size)
        boxes = []
        for _ in range(int(rng.integers(1, max_objects + 1))):
            side = int(rng.uniform(min_side, max_side) * size)
            y, x = rng.integers(0, size - side + 1, 2)
            box = np.array([x, y, x, y], np.float64) + FACE_BOX * side
            if boxes and box_iou(box, boxes).max() > max_overlap:
                continue
            face = face_images(int(rng.integers(10**6)), 1, side, seed, int(rng.integers(10**6)))[0].astype(np.float32)
            yy, xx = (np.mgrid[0:side, 0:side] + 0.5) / side - 0.5
            mask = (((xx / FACE_RADII[0]) ** 2 + (yy / FACE_RADII[1]) ** 2) <= 1)[..., None]
            region = image[y:y + side, x:x + side]
            image[y:y + side, x:x + side] = np.where(mask, face, region)
            boxes.append(box)
        noise = rng.normal(0, rng.uniform(0, 8), image.shape)
        images[n] = np.clip(image + noise, 0, 255).astype(np.uint8)
        all_boxes.append(np.asarray(boxes, np.float32).reshape(-1, 4))
        all_classes.append(np.zeros(len(boxes), np.int32))
    return images, all_boxes, all_classes
