"""The face app's detector (`data.detect`: scikit-image's LBP frontal-face cascade) on photos nobody here drew:
scikit-image's `lfw_subset()` (100 face crops, 100 crops without a face; each padded by a quarter of its side with
its edge pixels, as a face sits in a photo, and upscaled 4x), its sample photos (astronaut has one face; the others
none), and group scenes composed from them (2-4 LFW faces pasted on a real photo). Recall, false faces and ms per
photo for each `data.detect_neighbours`.

With `--detection-run`, the same photos through a detector the detection app trained on its embedded drawn faces
(`keras-suite detection train data.source=faces`), the other way to find faces without a download.

Run: python bench/face_detect.py [--neighbours 4,6,8,10,12] [--scenes 30] [--detection-run runs/detection/<run>]
     [--detection-scores 0.25,0.5,0.8]
"""

import argparse
import os
import sys
import time

import numpy as np
import skimage.data
from PIL import Image

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from keras_suite.apps.face.detect import Face, FaceFinder  # noqa: E402

NO_FACE = ("chelsea", "cat", "coffee", "rocket", "hubble_deep_field", "brick", "grass", "gravel", "colorwheel",
           "immunohistochemistry", "camera")  # camera: a man seen from the side, not a frontal face
BACKGROUNDS = ("coffee", "rocket", "brick", "grass", "hubble_deep_field", "chelsea")
ASTRONAUT_FACE = (170, 55, 120, 120)  # x, y, w, h drawn by hand around her face


def rgb(image):
    """A writable RGB uint8 copy."""
    image = np.asarray(image)
    return (np.stack([image] * 3, -1) if image.ndim == 2 else image[..., :3]).copy()


def lfw_photo(crop, scale=4):
    """A 25 px LFW crop as a face sits in a photo: padded by its edge pixels, upscaled."""
    padded = np.pad((crop * 255).astype(np.uint8), 6, mode="edge")
    return rgb(Image.fromarray(padded).resize((padded.shape[1] * scale, padded.shape[0] * scale), Image.BICUBIC))


def iou(a, b):
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    w, h = max(0, min(ax + aw, bx + bw) - max(ax, bx)), max(0, min(ay + ah, by + bh) - max(ay, by))
    return w * h / (aw * ah + bw * bh - w * h)


def group_scenes(count, seed=0):
    """(photo, face boxes x y w h): 2-4 LFW faces, each 100-160 px, on a real photo, not overlapping."""
    rng = np.random.default_rng(seed)
    faces = skimage.data.lfw_subset()[:100]
    scenes = []
    for i in range(count):
        photo = rgb(getattr(skimage.data, BACKGROUNDS[i % len(BACKGROUNDS)])())
        if min(photo.shape[:2]) < 400:
            photo = rgb(Image.fromarray(photo).resize((photo.shape[1] * 2, photo.shape[0] * 2)))
        boxes = []
        for _ in range(int(rng.integers(2, 5))):
            face = lfw_photo(faces[rng.integers(len(faces))], scale=1)
            side = int(rng.integers(100, 161))
            face = np.asarray(Image.fromarray(face).resize((side, side), Image.BICUBIC))
            for _ in range(50):
                x, y = int(rng.integers(0, photo.shape[1] - side)), int(rng.integers(0, photo.shape[0] - side))
                if all(iou((x, y, side, side), b) == 0 for b in boxes):
                    photo[y:y + side, x:x + side] = face
                    boxes.append((x, y, side, side))
                    break
        scenes.append((photo, boxes))
    return scenes


class DetectionAppFinder:
    """A detection app run as a face finder: its boxes of class "face" scoring at least `score`, largest first."""

    def __init__(self, run, score=0.25):
        from keras_suite.apps.detection.app import DetectionApp, make_grid, serve
        from keras_suite.config import load_config
        from keras_suite.runs import Run

        app = DetectionApp()
        cfg = load_config(app.config_cls, [Run(run).config])
        model, grid = app.trained_model(Run(run)), make_grid(cfg)
        self.detect = lambda image: serve(model, grid, image[None], True, cfg.detect, score)

    def find(self, image):
        d = {k: v.numpy()[0] for k, v in self.detect(image).items()}
        faces = [Face(int(x1), int(y1), int(x2 - x1), int(y2 - y1)) for x1, y1, x2, y2 in
                 d["boxes"][:int(d["num_detections"])]]
        return sorted(faces, key=lambda f: -f.w * f.h)


def score_scenes(finder, scenes):
    """(faces found / faces, false boxes, seconds) over the scenes: a box matches a face whose square holds its
    centre (each face once)."""
    found = false = total = 0
    started = time.perf_counter()
    for photo, boxes in scenes:
        hits = finder.find(photo)
        total += len(boxes)
        taken = set()
        for h in hits:
            cx, cy = h.x + h.w / 2, h.y + h.h / 2
            match = [i for i, (x, y, w, hh) in enumerate(boxes) if x <= cx <= x + w and y <= cy <= y + hh]
            if match and match[0] not in taken:
                taken.add(match[0])
            else:
                false += 1
        found += len(taken)
    return found / max(total, 1), false, time.perf_counter() - started, total


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--neighbours", default="4,6,8,10,12")
    parser.add_argument("--scenes", type=int, default=30)
    parser.add_argument("--detection-run", help="also a detection app run trained on data.source=faces")
    parser.add_argument("--detection-scores", default="0.25,0.5,0.8", help="its score thresholds")
    args = parser.parse_args()
    lfw = skimage.data.lfw_subset()
    lfw_photos = [lfw_photo(x) for x in lfw]
    photos = {name: rgb(getattr(skimage.data, name)()) for name in ("astronaut", *NO_FACE)}
    scenes = group_scenes(args.scenes)
    print("| finder | LFW faces found (of 100) | LFW non-faces with a face (of 100) | astronaut: faces, IoU with "
          "her face | photos without a face: false faces (of 11 photos) | group scenes: faces found | group scenes: "
          "false faces | ms per photo (sample photos, 512 px) |")
    print("|---|---|---|---|---|---|---|---|")
    finders = [(f"cascade, {n}", FaceFinder(neighbours=int(n))) for n in args.neighbours.split(",") if n]
    if args.detection_run:
        scores = [float(score) for score in args.detection_scores.split(",")]
        finders += [(f"detection app on drawn faces, score >= {score}", DetectionAppFinder(args.detection_run, score))
                    for score in scores]
    for name, finder in finders:
        hits = np.array([len(finder.find(x)) > 0 for x in lfw_photos])
        started = time.perf_counter()
        found = {name: finder.find(photo) for name, photo in photos.items()}
        ms = (time.perf_counter() - started) / len(photos) * 1000
        astronaut = found["astronaut"]
        best = max((iou((f.x, f.y, f.w, f.h), ASTRONAUT_FACE) for f in astronaut), default=0.0)
        false_photos = sum(len(found[name]) for name in NO_FACE)
        recall, false, _, total = score_scenes(finder, scenes)
        print(f"| {name} | {hits[:100].sum()} | {hits[100:].sum()} | {len(astronaut)}, {best:.2f} | {false_photos} | "
              f"{recall:.3f} of {total} | {false} | {ms:.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
