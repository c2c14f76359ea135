"""Reading and writing image files with clear errors for the files users hand us."""

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from keras_suite.errors import UserError
from keras_suite.files import replacing

MAX_PIXELS = 50_000_000
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")


def set_max_pixels(limit):
    """The pixel limit (PIL's own, which also guards decoding) for images read without an explicit one: an
    app's `data.max_pixels`."""
    Image.MAX_IMAGE_PIXELS = int(limit)


def image_files(folder):
    """The image files (*.png, *.jpg, *.jpeg, *.bmp) directly in `folder`, sorted."""
    return sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def input_images(source):
    """`source` itself, or the images of a folder (an empty folder is an error)."""
    source = Path(source)
    if not source.is_dir():
        return [source]
    paths = image_files(source)
    if not paths:
        raise UserError(f"no images (*.png, *.jpg) in {source}")
    return paths


def open_image(path, max_pixels=None):
    """Open and fully decode an image file, raising UserError for missing, corrupt or huge files."""
    path = Path(path)
    max_pixels = Image.MAX_IMAGE_PIXELS if max_pixels is None else max_pixels
    if path.is_dir():
        raise UserError(f"{path} is a folder; give an image file")
    if not path.is_file():
        raise UserError(f"image not found: {path}")
    try:
        with Image.open(path) as img:
            if img.width * img.height > max_pixels:
                raise UserError(f"image {path} is {img.width}x{img.height}, over the limit of {max_pixels} pixels")
            img.load()
            return img.copy()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
        raise UserError(f"cannot read image {path}: {str(e).splitlines()[0] if str(e) else type(e).__name__}") from None


def read_rgb(path, max_pixels=None):
    """An RGB image as uint8 (H, W, 3); grayscale, alpha or CMYK images are refused."""
    img = open_image(path, max_pixels)
    if img.mode in ("P", "PA"):
        img = img.convert("RGBA" if "transparency" in img.info or img.mode == "PA" else "RGB")
    if img.mode != "RGB":
        channels = len(img.getbands())
        raise UserError(f"image {path} has {channels} channel(s) (mode {img.mode}); expected 3 (RGB)")
    return np.asarray(img, dtype=np.uint8)


def read_mask(path, num_classes, max_pixels=None):
    """A single-channel label mask as uint8 (H, W) with every label below `num_classes`."""
    img = open_image(path, max_pixels)
    if img.mode not in ("L", "P", "I", "I;16"):
        raise UserError(f"mask {path} has mode {img.mode}; expected a single-channel label PNG")
    mask = np.asarray(img)
    if mask.size and int(mask.max()) >= num_classes:
        raise UserError(f"mask {path} has label {int(mask.max())}, outside the {num_classes} configured classes")
    return mask.astype(np.uint8)


def write_png(path, array, palette=None):
    """Write uint8 (H, W) or (H, W, 3) atomically (temp file + rename).

    With `palette` ((K, 3) uint8), a (H, W) label array is written as an indexed PNG: pixel values
    stay class indices and viewers show the palette colours.
    """
    array = np.ascontiguousarray(array, dtype=np.uint8)
    if palette is None:
        img = Image.fromarray(array)
    else:
        img = Image.frombytes("P", (array.shape[1], array.shape[0]), array.tobytes())
        img.putpalette(np.asarray(palette, np.uint8).ravel().tolist())
    with replacing(path) as tmp:
        img.save(tmp, format="PNG")
    return Path(path)
