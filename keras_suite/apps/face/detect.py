"""Faces found in ordinary photos before they are embedded (`data.detect`): scikit-image's LBP frontal-face cascade
(multi-block LBP features, Liao et al. 2007, "Learning Multi-scale Block Local Binary Patterns for Face
Recognition"; the cascade trained by OpenCV that ships inside scikit-image), run over an image pyramid. Each face is
cropped square around its box with a margin on every side and then embedded as a crop is, as facenet crops MTCNN's
boxes (Schroff et al. 2015: a 32-pixel margin at 160). The cascade gives boxes, not landmarks, so faces are not
turned to level the eyes. bench/RESULTS.md has its recall and false positives on real photos."""

import dataclasses

import numpy as np
from PIL import Image

SEARCH_SIDE = 640  # photos are searched at most this large (longer side); boxes are scaled back


@dataclasses.dataclass(frozen=True)
class Face:
    """A face box in the photo's pixels: left, top, width, height."""

    x: int
    y: int
    w: int
    h: int

    @property
    def xyxy(self):
        return np.float32([self.x, self.y, self.x + self.w, self.y + self.h])


def detecting(setting, source):
    """Whether `data.detect` runs the detector: "auto" does for runs trained on photos (a folder or tfds:lfw),
    not on the embedded drawn faces, which are crops already."""
    return setting == "cascade" or (setting == "auto" and str(source).strip() != "synthetic")


class FaceFinder:
    """Frontal faces of at least `min_size` pixels (in the photo as searched, SEARCH_SIDE at most), from a pyramid
    of `scale_factor` steps; a face needs `neighbours` overlapping window hits (more: fewer false faces, fewer
    faces; at 4 the cascade found a face in scikit-image's cat photos, at 10 in none of its photos without one).
    A box whose centre lies in a larger one is the same face."""

    def __init__(self, min_size=40, scale_factor=1.1, neighbours=10):
        from skimage.color import rgb2gray
        from skimage.data import lbp_frontal_face_cascade_filename
        from skimage.feature import Cascade

        self.min_size, self.scale_factor, self.neighbours = min_size, scale_factor, neighbours
        self.cascade, self.gray = Cascade(lbp_frontal_face_cascade_filename()), rgb2gray

    def find(self, image):
        """The faces of an RGB uint8 image (H, W, 3), largest first."""
        h, w = image.shape[:2]
        scale = min(1.0, SEARCH_SIDE / max(h, w))
        small = image if scale == 1.0 else np.asarray(
            Image.fromarray(image).resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.BILINEAR))
        gray = self.gray(small)
        side = min(gray.shape)
        if side < self.min_size:
            return []
        found = self.cascade.detect_multi_scale(
            img=gray, scale_factor=self.scale_factor, step_ratio=1, min_size=(self.min_size, self.min_size),
            max_size=(side, side), min_neighbor_number=self.neighbours)
        faces = [Face(round(f["c"] / scale), round(f["r"] / scale), round(f["width"] / scale),
                      round(f["height"] / scale)) for f in found]
        kept = []
        for face in sorted(faces, key=lambda f: (-f.w * f.h, f.y, f.x)):  # one box per face: the largest
            cx, cy = face.x + face.w / 2, face.y + face.h / 2
            if not any(k.x <= cx <= k.x + k.w and k.y <= cy <= k.y + k.h for k in kept):
                kept.append(face)
        return kept


def crop_face(image, face, margin):
    """The square around `face`, `margin` times its side added on every side; beyond the photo's edges, the edge
    pixels repeat."""
    side = max(face.w, face.h) * (1 + 2 * margin)
    cx, cy = face.x + face.w / 2, face.y + face.h / 2
    left, top = int(round(cx - side / 2)), int(round(cy - side / 2))
    size = max(1, int(round(side)))
    h, w = image.shape[:2]
    pad = max(0, -left, -top, left + size - w, top + size - h)
    if pad:
        image = np.pad(image, ((pad, pad), (pad, pad), (0, 0)), mode="edge")
        left, top = left + pad, top + pad
    return image[top:top + size, left:left + size]
