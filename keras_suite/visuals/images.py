"""Reading and writing image files with clear errors for the files users hand us.

Images are read as a photo viewer shows them: turned upright by their EXIF orientation, with
grayscale (8 or 16 bit), palette, CMYK and other modes converted to 8-bit RGB, and transparency
composited on white. A folder of images is read whole; a file in it that cannot be read is reported
and skipped (`ImageFolder`).
"""

import errno
import logging
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from keras_suite.errors import UserError
from keras_suite.files import replacing

log = logging.getLogger("keras_suite")
MAX_PIXELS = 50_000_000
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff", ".gif")


def set_max_pixels(limit):
    """The pixel limit (PIL's own, which also guards decoding) for images read without an explicit one: an
    app's `data.max_pixels`."""
    Image.MAX_IMAGE_PIXELS = int(limit)


def image_files(folder):
    """The image files (by suffix: png, jpg, jpeg, bmp, webp, tif, tiff, gif) directly in `folder`, sorted."""
    return sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def input_images(source):
    """`source` itself, or the images of a folder (an empty folder is an error; other files are named in a
    warning)."""
    source = Path(source)
    if not source.is_dir():
        return [source]
    paths = image_files(source)
    if not paths:
        raise UserError(f"no images ({', '.join('*' + s for s in IMAGE_SUFFIXES)}) in {source}")
    others = sorted(p.name for p in source.iterdir() if p.is_file() and p not in paths and not p.name.startswith("."))
    if others:
        log.warning("skipped %d file(s) of %s that are not images by their suffix: %s", len(others), source,
                    ", ".join(others[:5]) + (", ..." if len(others) > 5 else ""))
    return paths


def output_stems(paths):
    """{path: the stem its outputs are named by}: the file's stem, with its suffix when another input shares
    the stem (chelsea.jpg and chelsea.png give chelsea_jpg and chelsea_png), so no output overwrites another."""
    counts = {}
    for path in paths:
        counts[Path(path).stem] = counts.get(Path(path).stem, 0) + 1
    return {path: Path(path).stem if counts[Path(path).stem] == 1 else f"{Path(path).stem}_{Path(path).suffix[1:]}"
            for path in paths}


def open_image(path, max_pixels=None):
    """Open and fully decode an image file, raising UserError for missing, corrupt or huge files."""
    path = Path(path)
    max_pixels = Image.MAX_IMAGE_PIXELS if max_pixels is None else max_pixels
    if path.is_symlink() and not path.exists():
        try:
            path.resolve(strict=True)
        except RuntimeError:
            raise UserError(f"image {path} is a symlink loop") from None
        except OSError as e:
            if e.errno == errno.ELOOP:
                raise UserError(f"image {path} is a symlink loop") from None
        raise UserError(f"image not found: {path} (a symlink to a missing file)")
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


def to_rgb(img):
    """A PIL image as uint8 RGB (H, W, 3): EXIF orientation applied; 16- and 32-bit grayscale scaled to 8 bit;
    alpha (RGBA, LA, palette transparency) composited on white; every other mode converted by PIL."""
    img = ImageOps.exif_transpose(img)
    if img.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):  # 1.0, 255 or 65535 is white, by the range used
        values = np.asarray(img, np.float64)
        peak = values.max(initial=0)
        top = 65535.0 if img.mode.startswith("I;16") else next(t for t in (1.0, 255.0, 65535.0, peak) if peak <= t)
        img = Image.fromarray(np.clip(values / max(top, 1e-12) * 255.0 + 0.5, 0, 255).astype(np.uint8))
    if img.mode in ("P", "PA") or (img.mode == "L" and "transparency" in img.info):
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "RGBa", "La"):
        background = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, img.convert("RGBA"))
    return np.asarray(img.convert("RGB"), dtype=np.uint8)


def read_rgb(path, max_pixels=None):
    """An image file as uint8 RGB (H, W, 3) (`to_rgb`)."""
    img = open_image(path, max_pixels)
    try:
        return to_rgb(img)
    except (OSError, ValueError) as e:
        raise UserError(f"cannot convert image {path} (mode {img.mode}) to RGB: {str(e).splitlines()[0]}") from None


class ImageFolder:
    """The images a predict-like command was given (`source`: a file or a folder), read up front.

    A single file that cannot be read stops the command; in a folder such a file is reported on stderr (one
    `error:` line each) and left out, the others are processed, and `finish()` ends the command with exit code 2
    and a summary. `items` holds (path, image, output stem) for the images that were read.
    """

    def __init__(self, source, read=read_rgb):
        self.source = Path(source)
        self.paths = input_images(source)
        stems = output_stems(self.paths)
        self.items, self.failed = [], []
        for path in self.paths:
            try:
                self.items.append((path, read(path), stems[path]))
            except UserError as e:
                if not self.source.is_dir():
                    raise
                print(f"error: {e}", file=sys.stderr)
                self.failed.append(path)
        if not self.items:
            raise UserError(f"none of the {len(self.paths)} images in {self.source} could be read (listed above)")

    def finish(self, out):
        """Raise the summary when any image failed."""
        if self.failed:
            raise UserError(f"{len(self.failed)} of {len(self.paths)} images in {self.source} could not be read "
                            f"(listed above); the other {len(self.items)} were written to {out}")


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
