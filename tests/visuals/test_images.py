from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from keras_suite.errors import UserError
from keras_suite.visuals.images import ImageFolder, output_stems, read_mask, read_rgb, write_png
from keras_suite.visuals.overlay import colorize, draw_boxes, grid, labelled_grid, overlay, palette, upscale


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



@pytest.mark.parametrize("mode, pixel, expected", [
    ("L", 100, (100, 100, 100)),  # grayscale spread to three channels
    ("I;16", 65535, (255, 255, 255)),  # 16-bit grayscale scaled to 8 bit
    ("RGBA", (255, 0, 0, 0), (255, 255, 255)),  # fully transparent: the white it is composited on
    ("RGBA", (255, 0, 0, 255), (255, 0, 0)),
    ("LA", (0, 128), (127, 127, 127)),  # half-transparent black on white
    ("CMYK", (0, 255, 255, 0), (255, 0, 0)),
])
def test_ordinary_modes_are_converted_to_rgb(tmp_path, mode, pixel, expected):
    path = tmp_path / ("a.jpg" if mode == "CMYK" else "a.png")
    Image.new(mode, (4, 3), pixel).save(path)
    rgb = read_rgb(path)
    assert rgb.shape == (3, 4, 3) and rgb.dtype == np.uint8
    np.testing.assert_allclose(rgb[1, 1], expected, atol=2)


def test_a_palette_png_with_a_transparent_colour_shows_white_there(tmp_path):
    image = Image.new("P", (2, 1))
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    image.putpixel((1, 0), 1)
    image.save(tmp_path / "p.png", transparency=0)
    assert read_rgb(tmp_path / "p.png").tolist() == [[[255, 255, 255], [255, 0, 0]]]


def test_exif_orientation_turns_a_phone_photo_upright(tmp_path):
    sideways = np.zeros((2, 4, 3), np.uint8)  # stored 4 wide, 2 high; orientation 6: turn 90 degrees clockwise
    sideways[0, 0] = 255
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(sideways).save(tmp_path / "phone.jpg", exif=exif, quality=100)
    upright = read_rgb(tmp_path / "phone.jpg")
    assert upright.shape == (4, 2, 3) and upright[0, 1].min() > 200  # the corner pixel went to the top right


def test_symlink_loops_and_dangling_links_say_so(tmp_path):
    (tmp_path / "a.png").symlink_to(tmp_path / "b.png")
    (tmp_path / "b.png").symlink_to(tmp_path / "a.png")
    with pytest.raises(UserError, match="a.png is a symlink loop"):
        read_rgb(tmp_path / "a.png")
    (tmp_path / "c.png").symlink_to(tmp_path / "missing.png")
    with pytest.raises(UserError, match="a symlink to a missing file"):
        read_rgb(tmp_path / "c.png")


def test_outputs_of_inputs_sharing_a_stem_keep_their_suffix():
    stems = output_stems([Path("x/chelsea.jpg"), Path("x/chelsea.png"), Path("x/coffee.png")])
    assert list(stems.values()) == ["chelsea_jpg", "chelsea_png", "coffee"]


def test_a_folder_with_a_bad_image_reports_it_and_reads_the_rest(tmp_path, capsys, caplog):
    for name in ("a.png", "c.webp", "d.tif"):
        Image.new("RGB", (5, 5), (1, 2, 3)).save(tmp_path / name)
    (tmp_path / "b.jpg").write_bytes(b"not a jpeg")
    (tmp_path / "notes.txt").write_text("hello")
    folder = ImageFolder(tmp_path)
    assert [p.name for p, _, _ in folder.items] == ["a.png", "c.webp", "d.tif"]
    assert capsys.readouterr().err.strip().startswith(f"error: cannot read image {tmp_path / 'b.jpg'}")
    assert "skipped 1 file(s)" in caplog.text and "notes.txt" in caplog.text
    with pytest.raises(UserError, match="1 of 4 images .* could not be read .*the other 3 were written to out"):
        folder.finish("out")
    with pytest.raises(UserError, match="cannot read image"):  # a single file given by name stops the command
        ImageFolder(tmp_path / "b.jpg")


def test_labelled_grid_has_titles_above_and_a_legend_below():
    tile = upscale(np.full((4, 4, 3), 128, np.uint8), 50)
    assert tile.shape == (200, 200, 3) and (tile == 128).all()
    legend = [(name, colour) for name, colour in zip(["background", "circle", "square"], palette(3))]
    picture = labelled_grid([[tile, tile], [tile, tile]], ["image", "prediction"], legend)
    body = grid([[tile, tile], [tile, tile]], pad=4)
    assert picture.shape[1] == body.shape[1] and picture.shape[0] > body.shape[0] + 30
    header, footer = picture[:20], picture[-20:]
    assert (header < 100).any() and (footer < 100).any()  # dark text above, swatches and names below
    assert (footer == palette(3)[1]).all(axis=-1).any()  # the circle's colour swatch


def test_box_labels_scale_with_the_picture():
    """A label's text is about 1/24 of the picture's width tall: a 480 px preview gets 20 px letters."""
    def label_height(size):
        image = np.zeros((size, size, 3), np.uint8)
        drawn = draw_boxes(image, [[size * 0.3, size * 0.5, size * 0.6, size * 0.9]], [1], ["a", "seven"],
                           colour_of=(255, 255, 255))
        rows = np.nonzero((drawn[: int(size * 0.5)] > 0).any(axis=(1, 2)))[0]  # the label band above the box
        return rows.max() - rows.min()

    assert label_height(480) >= 2 * label_height(120) > 0
