import numpy as np
import pytest

from keras_suite.data.photos import random_crops
from keras_suite.data.style_images import CONTENT, STYLES, builtin_image, cover, style_at
from keras_suite.errors import UserError


def test_style_images_and_crops():
    for name in CONTENT + STYLES:
        image = builtin_image(name)
        assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[-1] == 3, name
    assert style_at(builtin_image("starry_night"), 256, "starry_night").shape[1] == 256
    with pytest.raises(UserError, match="far smaller than size 512"):
        style_at(np.zeros((60, 80, 3), np.uint8), 512, "tiny.png")
    crops = random_crops([builtin_image("chelsea"), builtin_image("coffee")], 48, 5, seed=0)
    assert crops.shape == (5, 48, 48, 3)
    np.testing.assert_array_equal(crops, random_crops([builtin_image("chelsea"), builtin_image("coffee")], 48, 5, 0))
    assert cover(builtin_image("starry_night"), (30, 70)).shape == (30, 70, 3)

