"""Embedded face identities drawn procedurally with PIL, deterministic from a seed.

Each identity fixes its geometry and colours (face shape, skin, hair style and colour, eye spacing
and colour, brows, nose, mouth width, glasses, beard); each image varies what a camera and a
person vary (rotation, shift, scale, lighting direction and strength, expression, background,
sensor noise). Identity i is the same in every call, so held-out identities are simply other ids.
"""

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

SCALE = 4  # draw large, then downsample: antialiased edges


def _identity(identity, seed):
    rng = np.random.default_rng([seed, identity])
    return {
        "face_w": rng.uniform(0.50, 0.66), "face_h": rng.uniform(0.66, 0.82),
        "skin": np.array([90, 55, 35]) + rng.uniform() * np.array([165, 165, 155]) + rng.uniform(-12, 12, 3),
        "hair": rng.uniform(0, 255, 3) * rng.uniform(0.2, 1.0), "hair_style": rng.integers(0, 4),
        "hair_depth": rng.uniform(0.08, 0.22),
        "eye_gap": rng.uniform(0.16, 0.28), "eye_y": rng.uniform(0.40, 0.48), "eye_size": rng.uniform(0.035, 0.06),
        "iris": rng.uniform(0, 200, 3), "brow_tilt": rng.uniform(-0.04, 0.04), "brow_thick": rng.uniform(0.01, 0.03),
        "nose_len": rng.uniform(0.08, 0.16), "nose_w": rng.uniform(0.03, 0.07),
        "mouth_w": rng.uniform(0.12, 0.26), "mouth_y": rng.uniform(0.66, 0.74), "lips": rng.uniform(90, 220, 3),
        "glasses": rng.random() < 0.3, "beard": rng.random() < 0.25,
    }


def _draw(face, rng, size):
    big = size * SCALE
    background = tuple(int(v) for v in rng.uniform(40, 230, 3))
    img = Image.new("RGB", (big, big), background)
    draw = ImageDraw.Draw(img)
    s = lambda v: v * big  # noqa: E731 - fraction of the canvas to pixels
    cx, cy = 0.5, 0.52
    fw, fh = face["face_w"] / 2, face["face_h"] / 2
    skin = tuple(int(v) for v in face["skin"])
    hair = tuple(int(v) for v in face["hair"])
    if face["hair_style"] in (1, 3):  # long hair behind the face
        draw.ellipse([s(cx - fw - 0.06), s(cy - fh - 0.04), s(cx + fw + 0.06), s(cy + fh * 0.9)], fill=hair)
    draw.ellipse([s(cx - fw), s(cy - fh), s(cx + fw), s(cy + fh)], fill=skin)
    if face["hair_style"] != 2:  # 2: bald
        draw.chord([s(cx - fw), s(cy - fh), s(cx + fw), s(cy - fh + 2 * face["hair_depth"] + 0.1)], 180, 360,
                   fill=hair)
    if face["beard"]:
        draw.chord([s(cx - fw), s(cy - fh * 0.2), s(cx + fw), s(cy + fh)], 0, 180, fill=hair)
    smile = rng.uniform(-0.03, 0.05)  # expression
    blink = rng.random() < 0.1
    for side in (-1, 1):
        ex, ey, r = cx + side * face["eye_gap"] / 2, face["eye_y"], face["eye_size"]
        if blink:
            draw.line([s(ex - r), s(ey), s(ex + r), s(ey)], fill=(30, 20, 20), width=max(1, int(s(0.012))))
        else:
            draw.ellipse([s(ex - r), s(ey - r * 0.7), s(ex + r), s(ey + r * 0.7)], fill=(245, 245, 245))
            draw.ellipse([s(ex - r * 0.5), s(ey - r * 0.5), s(ex + r * 0.5), s(ey + r * 0.5)],
                         fill=tuple(int(v) for v in face["iris"]))
        brow_y = ey - r - 0.03
        draw.line([s(ex - r * 1.2), s(brow_y + side * face["brow_tilt"]), s(ex + r * 1.2),
                   s(brow_y - side * face["brow_tilt"])], fill=hair, width=max(1, int(s(face["brow_thick"]))))
        if face["glasses"]:
            draw.ellipse([s(ex - r * 1.8), s(ey - r * 1.5), s(ex + r * 1.8), s(ey + r * 1.5)], outline=(20, 20, 20),
                         width=max(1, int(s(0.01))))
    nose_top, nose_w = face["eye_y"] + 0.03, face["nose_w"]
    draw.polygon([(s(cx), s(nose_top)), (s(cx - nose_w), s(nose_top + face["nose_len"])),
                  (s(cx + nose_w), s(nose_top + face["nose_len"]))], fill=tuple(int(v * 0.85) for v in face["skin"]))
    mw, my = face["mouth_w"] / 2, face["mouth_y"]
    draw.chord([s(cx - mw), s(my - 0.03 - max(smile, 0)), s(cx + mw), s(my + 0.03 + abs(smile))],
               0 if smile >= 0 else 180, 180 if smile >= 0 else 360, fill=tuple(int(v) for v in face["lips"]))
    # Pose: in-plane rotation, scale and shift as one affine map (output pixel -> source pixel).
    theta, zoom = np.deg2rad(rng.uniform(-15, 15)), rng.uniform(0.88, 1.12)
    shift = rng.uniform(-0.06, 0.06, 2) * big
    rot = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    centre = np.array([big / 2, big / 2])
    offset = centre + rot @ shift - rot @ centre / zoom
    (a, b), (d, e) = rot / zoom
    img = img.transform((big, big), Image.AFFINE, (a, b, offset[0], d, e, offset[1]), Image.BILINEAR,
                        fillcolor=background)
    img = img.resize((size, size), Image.LANCZOS).filter(ImageFilter.GaussianBlur(rng.uniform(0.2, 0.6)))
    pixels = np.asarray(img, np.float32)
    # Lighting: a directional gradient and an overall strength; then sensor noise.
    angle = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:size, 0:size] / size - 0.5
    light = rng.uniform(0.7, 1.2) * (1 + rng.uniform(0, 0.5) * (np.cos(angle) * xx + np.sin(angle) * yy))
    pixels = pixels * light[..., None] + rng.normal(0, rng.uniform(2, 8), pixels.shape)
    return np.clip(pixels, 0, 255).astype(np.uint8)


def face_images(identity, count, size=64, seed=0, image_seed=0):
    """`count` (size, size, 3) uint8 images of one identity; `image_seed` picks the variations."""
    face = _identity(identity, seed)
    rng = np.random.default_rng([seed, identity, image_seed, 1])
    return np.stack([_draw(face, rng, size) for _ in range(count)])


def face_dataset(identities, per_identity, size=64, seed=0, image_seed=0):
    """(images (N, size, size, 3) uint8, labels (N,)) for the given identity ids, `per_identity` each."""
    images = [face_images(i, per_identity, size, seed, image_seed) for i in identities]
    return np.concatenate(images), np.repeat(np.asarray(list(identities)), per_identity)
