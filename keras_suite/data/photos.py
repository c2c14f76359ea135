"""Real photos that installed packages ship (scikit-image's sample data, scikit-learn's two sample images), and
random square crops of them: training crops for the stylizer, and for the image apps' int8 files, calibration
photos and held-out photos that are never calibrated on (so a quantized file is checked on pictures nobody drew
and the calibration never saw, a dark telescope image among them)."""

import functools

import numpy as np
from PIL import Image

CALIBRATION_PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "china", "camera", "coins", "immunohistochemistry")
HELD_OUT_PHOTOS = ("hubble_deep_field", "cat", "flower", "retina", "clock", "colorwheel")


@functools.lru_cache(maxsize=None)
def photo(name):
    """A photo shipped in scikit-image (`skimage.data.<name>`) or scikit-learn ("china", "flower"), uint8 RGB
    (greyscale ones repeated over three channels)."""
    if name in ("china", "flower"):
        from sklearn.datasets import load_sample_image

        return load_sample_image(f"{name}.jpg")
    import skimage.data

    image = np.asarray(getattr(skimage.data, name)())
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=-1)
    return np.ascontiguousarray(image[..., :3]).astype(np.uint8)


def photo_crops(names, size, count, seed):
    """`count` random square crops (uint8 (count, size, size, 3)) of the named photos (none loaded for none)."""
    return random_crops([photo(name) for name in names] if count else [], size, count, seed)


def export_photos(ecfg, size):
    """(calibration crops, held-out crops) at `size` for an image app's export: `ecfg.calibration_photos` crops of
    CALIBRATION_PHOTOS and `ecfg.photo_samples` of HELD_OUT_PHOTOS (an ImageExportConfig)."""
    return (photo_crops(CALIBRATION_PHOTOS, size, ecfg.calibration_photos, 3),
            photo_crops(HELD_OUT_PHOTOS, size, ecfg.photo_samples, 4))


def random_crops(images, size, count, seed):
    """`count` square crops (uint8 (count, size, size, 3)) of random scale and position from `images`,
    each image first resized so its shorter side is between size and 2 x size."""
    rng = np.random.default_rng(seed)
    out = np.empty((count, size, size, 3), np.uint8)
    for i in range(count):
        image = images[rng.integers(len(images))]
        h, w = image.shape[:2]
        scale = rng.uniform(size, 2 * size) / min(h, w)
        resized = np.asarray(Image.fromarray(image).resize((max(size, round(w * scale)), max(size, round(h * scale))),
                                                           Image.BILINEAR))
        y, x = rng.integers(0, resized.shape[0] - size + 1), rng.integers(0, resized.shape[1] - size + 1)
        crop = resized[y:y + size, x:x + size]
        out[i] = crop[:, ::-1] if rng.random() < 0.5 else crop
    return out
