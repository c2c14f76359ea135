import numpy as np
import pytest
from scipy import ndimage

from keras_suite.data.captions import COLOURS, HELD_OUT, Group, caption_scenes, captions, novel


@pytest.fixture(scope="module")
def train():
    return caption_scenes(120, 96, seed=3, split="train")


def test_scenes_are_seeded_per_split(train):
    images, references, _ = train
    again = caption_scenes(120, 96, seed=3, split="train")
    assert np.array_equal(images, again[0]) and references == again[1]
    assert references != caption_scenes(120, 96, seed=3, split="val")[1]
    with pytest.raises(ValueError):
        caption_scenes(1, split="dev")


def test_held_out_colour_shape_pairs_appear_only_in_half_of_the_test_split(train):
    _, _, layouts = train
    _, _, test_layouts = caption_scenes(200, 32, seed=3, split="test")
    pairs = lambda groups: {(g.colour, g.shape) for g in groups}  # noqa: E731
    assert not any(pairs(groups) & set(HELD_OUT) for groups, _, _ in layouts)
    held = [bool(pairs(groups) & set(HELD_OUT)) for groups, _, _ in test_layouts]
    assert held == [novel(groups) for groups, _, _ in test_layouts] and 0.4 < np.mean(held) < 0.6


def test_pixels_show_what_the_captions_say(train):
    images, references, layouts = train
    names, rgb = list(COLOURS), np.array(list(COLOURS.values()), np.float64)
    for image, refs, (groups, relation, masks) in zip(images, references, layouts):
        assert refs[0].startswith(groups[0].phrase()) and len(set(refs)) >= 2
        centres = []
        for group, mask in zip(groups, masks):
            mean = image[mask].astype(np.float64).mean(axis=0)
            assert names[int(np.argmin(np.linalg.norm(rgb - mean, axis=1)))] == group.colour
            assert ndimage.label(mask, np.ones((3, 3)))[1] == group.count  # apart, as many as the caption says
            centres.append(np.argwhere(mask).mean(axis=0))  # (row, column)
        if relation is not None:
            axis = 0 if relation in ("above", "below") else 1
            first_lower = centres[0][axis] < centres[1][axis]
            assert first_lower == (relation in ("above", "left of")), (refs[0], centres)


def test_captions_of_one_and_two_groups():
    one = captions([Group(1, "red", "circle")])
    assert one[0] == "a red circle" and "one circle that is red" in one
    two = captions([Group(2, "blue", "square"), Group(1, "green", "triangle")], "left of")
    assert two[:2] == ["two blue squares left of a green triangle", "a green triangle right of two blue squares"]
