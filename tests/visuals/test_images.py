import numpy as np
import pytest
from PIL import Image

from keras_suite.errors import UserError
from keras_suite.visuals.images import read_mask, read_rgb, write_png
from keras_suite.visuals.overlay import colorize, grid, overlay, palette


def test_read_rgb_accepts_rgb_and_palette_images(tmp_path):
    rgb = np.random.default_rng(0).integers(0, 255, (5, 7, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / "a.png")
    np.testing.assert_array_equal(read_rgb(tmp_path / "a.png"), rgb)
    Image.fromarray(rgb).convert("P").save(tmp_path / "p.png")
    assert read_rgb(tmp_path / "p.png").shape == (5, 7, 3)


def test_read_rgb_refuses_huge_images(tmp_path):
    Image.fromarray(np.zeros((100, 100, 3), np.uint8)).save(tmp_path / "big.png")
    with pytest.raises(UserError, match="over the limit of 5000 pixels"):
        read_rgb(tmp_path / "big.png", max_pixels=5000)


def test_read_mask_rejects_colour_masks(tmp_path):
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(tmp_path / "m.png")
    with pytest.raises(UserError, match="expected a single-channel label PNG"):
        read_mask(tmp_path / "m.png", 2)


def test_indexed_png_keeps_class_indices(tmp_path):
    mask = np.array([[0, 1], [2, 3]], np.uint8)
    path = write_png(tmp_path / "mask.png", mask, palette=palette(4))
    img = Image.open(path)
    assert img.mode == "P"
    np.testing.assert_array_equal(np.asarray(img), mask)
    assert read_mask(path, 4).tolist() == mask.tolist()
    assert not list(tmp_path.glob("*.tmp*"))


def test_overlay_and_grid():
    image = np.full((2, 2, 3), 100, np.uint8)
    mask = np.array([[0, 1], [0, 0]])
    out = overlay(image, mask, 2, alpha=0.5)
    assert (out[0, 0] == 100).all() and not (out[0, 1] == 100).all()
    assert colorize(mask, 2).shape == (2, 2, 3) and palette(40).shape == (40, 3)
    assert grid([[image, image], [image]], pad=1).shape == (2 * 3 + 1, 2 * 3 + 1, 3)

