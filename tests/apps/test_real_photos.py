"""The image apps' `predict` on real photos at their own sizes, and on a phone JPEG whose EXIF orientation turns it:
every picture comes back at the photo's size as a viewer shows it."""

import numpy as np
import pytest
import skimage.data
from PIL import Image

pytestmark = pytest.mark.slow

OUTPUT = {"segmentation": "overlay", "detection": "boxes", "style": "stylized"}


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """astronaut (512 x 512), coffee (600 x 400) and chelsea (451 x 300 shown) stored sideways with orientation 6."""
    folder = tmp_path_factory.mktemp("photos")
    Image.fromarray(skimage.data.astronaut()).save(folder / "astronaut.png")
    Image.fromarray(skimage.data.coffee()).save(folder / "coffee.jpg", quality=90)
    exif = Image.Exif()
    exif[0x0112] = 6  # shown turned 90 degrees clockwise, as phones store portrait shots
    Image.fromarray(np.rot90(skimage.data.chelsea())).save(folder / "phone.jpg", exif=exif, quality=90)
    return folder, {"astronaut": (512, 512), "coffee": (600, 400), "phone": (451, 300)}


@pytest.mark.parametrize("app", sorted(OUTPUT))
def test_predict_keeps_each_photos_size_and_orientation(cli, trained, photos, tmp_path, app):
    folder, sizes = photos
    code, out, err = cli(app, "predict", f"run={trained(app)}", f"image={folder}", f"out={tmp_path}")
    assert code == 0, err
    for stem, size in sizes.items():
        with Image.open(tmp_path / f"{stem}_{OUTPUT[app]}.png") as picture:
            assert picture.size == size, (app, stem, picture.size)
    if app == "segmentation":  # the overlay is the upright photo under the mask: it follows the photo's rows
        shown = np.asarray(Image.open(folder / "phone.jpg").transpose(Image.Transpose.ROTATE_270), np.float32)
        overlay = np.asarray(Image.open(tmp_path / "phone_overlay.png").convert("RGB"), np.float32)
        assert np.corrcoef(shown.mean(-1).ravel(), overlay.mean(-1).ravel())[0, 1] > 0.5
