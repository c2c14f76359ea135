"""Captioned scenes for image captioning: one or two groups of same-coloured shapes on natural textures, each
scene described by several reference captions written from its own layout (counts, colours, shapes and where the
groups are relative to each other), in different word orders. Colour-shape combinations held out of training
appear only in the test split (in half of its scenes, `NOVEL_SHARE`), so a model has to compose what it learned:
"yellow" from yellow squares and circles, "triangle" from triangles of other colours; the other half shows how
it does on combinations it has seen."""

import dataclasses

import numpy as np

from keras_suite.data.scenes import SHAPE_CLASSES, background, shape_mask

COLOURS = {"red": (215, 35, 35), "green": (35, 165, 55), "blue": (40, 75, 225), "yellow": (240, 215, 35)}
SHAPES = SHAPE_CLASSES[1:]  # circle, square, triangle
HELD_OUT = (("yellow", "triangle"), ("blue", "circle"))  # colour-shape pairs only the test split shows
RELATIONS = {"above": ("below", 0), "below": ("above", 0), "left of": ("right of", 1), "right of": ("left of", 1)}
NUMBERS = ("", "one", "two", "three")
GAP = 4  # pixels at least between the circles around two shapes: a person counts them apart
NOVEL_SHARE = 0.5  # of the test scenes hold a held-out colour-shape pair


@dataclasses.dataclass(frozen=True)
class Group:
    count: int
    colour: str
    shape: str

    def phrase(self, article=True):
        """"two red circles", "a red circle" (or "one red circle" without the article)."""
        number = "a" if self.count == 1 and article else NUMBERS[self.count]
        return f"{number} {self.colour} {self.shape}{'s' if self.count > 1 else ''}"


def captions(groups, relation=None):
    """The reference captions of a layout: one group, or two with `relation` (groups[0] is `relation` groups[1])."""
    first = groups[0]
    if len(groups) == 1:
        be = "are" if first.count > 1 else "is"
        return [first.phrase(), first.phrase(article=False), f"{first.phrase()} on the ground",
                f"{NUMBERS[first.count]} {first.shape}{'s' if first.count > 1 else ''} that {be} {first.colour}"]
    second, inverse = groups[1], RELATIONS[relation][0]
    return [f"{first.phrase()} {relation} {second.phrase()}", f"{second.phrase()} {inverse} {first.phrase()}",
            f"{first.phrase(article=False)} {relation} {second.phrase(article=False)}"]


def novel(groups, held_out=HELD_OUT):
    """Whether a layout's groups hold a held-out colour-shape pair."""
    return any((g.colour, g.shape) in held_out for g in groups)


def _layout(rng, split, held_out):
    """(groups, relation) for a scene of `split`: training and validation layouts avoid the held-out colour-shape
    pairs; a test layout holds at least one with probability NOVEL_SHARE, else none."""
    wanted = split == "test" and rng.uniform() < NOVEL_SHARE
    while True:
        groups = [Group(int(rng.integers(1, 4)), str(rng.choice(list(COLOURS))), str(rng.choice(SHAPES)))
                  for _ in range(int(rng.integers(1, 3)))]
        if len(groups) == 2 and (groups[0].colour, groups[0].shape) == (groups[1].colour, groups[1].shape):
            continue  # two groups of the same kind would be one group
        if novel(groups, held_out) == wanted:
            return groups, (str(rng.choice(list(RELATIONS))) if len(groups) == 2 else None)


def _place(rng, count, box, size, taken):
    """Centres and radii of `count` shapes inside `box` (x0, y0, x1, y1 in pixels), not overlapping `taken`."""
    x0, y0, x1, y1 = box
    placed = []
    for _ in range(count):
        for _ in range(200):
            r = rng.uniform(0.06, 0.1) * size
            if x1 - x0 <= 2 * r or y1 - y0 <= 2 * r:
                continue
            cx, cy = rng.uniform(x0 + r, x1 - r), rng.uniform(y0 + r, y1 - r)
            if all(np.hypot(cx - x, cy - y) > r + q + GAP for x, y, q in taken + placed):
                placed.append((cx, cy, r))
                break
        else:
            raise RuntimeError("no room for the shapes; raise the image size")
    return placed


def caption_scenes(count, size=96, seed=0, split="train", held_out=HELD_OUT):
    """(images uint8 (N, S, S, 3), references: per image a list of captions, layouts: per image (groups,
    relation, masks) with one bool (S, S) mask per group)."""
    if split not in ("train", "val", "test"):
        raise ValueError(f"split must be train, val or test, got '{split}'")
    rng = np.random.default_rng([seed, ("train", "val", "test").index(split)])
    images = np.empty((count, size, size, 3), np.uint8)
    references, layouts = [], []
    half = size / 2
    for n in range(count):
        groups, relation = _layout(rng, split, held_out)
        if relation is None:
            boxes = [(0, 0, size, size)]
        else:
            axis = RELATIONS[relation][1]
            first_low = relation in ("above", "left of")  # the first group in the top or left half
            low, high = ((0, 0, size, half), (0, half, size, size)) if axis == 0 else (
                (0, 0, half, size), (half, 0, size, size))
            boxes = [low, high] if first_low else [high, low]
        image = background(rng, size)
        shade = rng.uniform(0.85, 1.0, (size, size, 1))
        taken, masks = [], []
        for group, box in zip(groups, boxes):
            mask = np.zeros((size, size), bool)
            for cx, cy, r in _place(rng, group.count, box, size, taken):
                taken.append((cx, cy, r))
                mask |= shape_mask(rng, SHAPES.index(group.shape) + 1, cx, cy, r, size)
            image[mask] = (np.asarray(COLOURS[group.colour], np.float32) * shade)[mask]
            masks.append(mask)
        noise = rng.normal(0, 4, image.shape)
        images[n] = np.clip(image + noise, 0, 255).astype(np.uint8)
        references.append(captions(groups, relation))
        layouts.append((groups, relation, masks))
    return images, references, layouts
