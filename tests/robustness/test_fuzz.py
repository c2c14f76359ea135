"""Property-based fuzzing of what reads user input: config parser, YOLO box labels, masks, images, text files.

Each either accepts the input and returns values that satisfy the documented contract, or raises
UserError (one line at the CLI); nothing else may escape."""

import io
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from PIL import Image

from keras_suite.apps import APPS
from keras_suite.config import _keys, load_config, parse_value, save_config, split_overrides, to_dict
from keras_suite.data.corpora import read_text_file
from keras_suite.data.detection import read_yolo_labels
from keras_suite.data.pairs import read_tsv
from keras_suite.errors import UserError
from keras_suite.visuals.images import read_mask, read_rgb

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SCHEMAS = [APPS.get(name).config_cls for name in APPS.names()]
KEYS = sorted({key for schema in SCHEMAS for key in _keys(schema)})
VALUES = st.one_of(st.text(max_size=30), st.sampled_from(["-1", "0", "1e999", "nan", "None", "true", "[1, 2]",
                                                          "{'a': 1}", "(", "1,2,3", "3.5", "-0.0", "'x'"]),
                   st.integers(-10**12, 10**12).map(str), st.floats(allow_nan=True).map(repr))


def _file(data, suffix):
    path = Path(tempfile.mkdtemp()) / f"fuzz{suffix}"
    path.write_bytes(data)
    return path


@FUZZ
@given(st.sampled_from(SCHEMAS), st.lists(st.tuples(st.one_of(st.sampled_from(KEYS), st.text(max_size=20)), VALUES),
                                          max_size=4))
def test_config_overrides_build_a_config_or_raise_user_error(schema, pairs):
    try:
        dotted, plain = split_overrides([f"{k}={v}" for k, v in pairs])
        cfg = load_config(schema, (), dotted)
    except UserError as e:
        assert "\n" not in str(e)
        return
    for section in to_dict(cfg).values():  # every number that got through is finite and not negative
        for value in (section.values() if isinstance(section, dict) else []):
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                assert np.isfinite(value) and value >= 0


@FUZZ
@given(st.text(max_size=200))
def test_parse_value_never_raises(text):
    parse_value(text)


@FUZZ
@given(st.sampled_from(SCHEMAS), st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode)))
def test_config_files_load_or_raise_user_error(schema, data):
    path = _file(data, ".yaml")
    try:
        cfg = load_config(schema, [path])
    except UserError:
        return
    out = path.with_name("saved.yaml")
    save_config(cfg, out)
    assert load_config(schema, [out]) == cfg  # whatever was accepted round-trips


NUMBER = st.one_of(st.floats(-2, 3), st.sampled_from([float("nan"), float("inf"), -0.0, 1e-9]), st.integers(-3, 12))
LINE = st.one_of(st.tuples(st.integers(-2, 12), NUMBER, NUMBER, NUMBER, NUMBER).map(lambda t: " ".join(map(str, t))),
                 st.text(max_size=40))


@FUZZ
@given(st.lists(LINE, max_size=6), st.integers(1, 10))
@example(["0 0.0 0.0 1e-09 6.284929152160809e-197"], 1)  # a height above 0 that float32 holds as 0
def test_yolo_labels_are_valid_boxes_or_user_error(lines, num_classes):
    path = _file("\n".join(lines).encode("utf-8", "surrogatepass"), ".txt")
    try:
        boxes, classes = read_yolo_labels(path, num_classes)
    except UserError as e:
        assert "\n" not in str(e)
        return
    assert boxes.shape == (len(classes), 4) and boxes.dtype == np.float32
    assert np.all((boxes >= 0) & (boxes <= 1)) and np.all(boxes[:, 2:] > boxes[:, :2])
    assert np.all((classes >= 0) & (classes < num_classes))


@FUZZ
@given(st.binary(max_size=400))
def test_yolo_labels_from_arbitrary_bytes(data):
    try:
        read_yolo_labels(_file(data, ".txt"), 3)
    except UserError:
        pass


def _png(array, mode):
    buffer = io.BytesIO()
    Image.fromarray(array, mode).save(buffer, format="PNG")
    return buffer.getvalue()


IMAGE = st.tuples(st.sampled_from(["L", "RGB", "RGBA"]), st.integers(1, 12), st.integers(1, 12), st.integers(0, 255))


@FUZZ
@given(IMAGE, st.integers(1, 300), st.integers(1, 255))
def test_masks_hold_only_configured_labels_or_user_error(spec, cut, num_classes):
    mode, h, w, top = spec
    channels = {"L": (), "RGB": (3,), "RGBA": (4,)}[mode]
    array = np.random.default_rng(cut).integers(0, top + 1, (h, w, *channels)).astype(np.uint8)
    data = _png(array, mode)
    for blob in (data, data[:cut]):  # whole and truncated
        try:
            mask = read_mask(_file(blob, ".png"), num_classes)
        except UserError:
            continue
        assert mode == "L" and mask.dtype == np.uint8 and mask.shape == (h, w) and int(mask.max()) < num_classes


@FUZZ
@given(IMAGE, st.binary(max_size=64), st.integers(0, 400))
def test_images_are_rgb_uint8_or_user_error(spec, noise, cut):
    mode, h, w, top = spec
    channels = {"L": (), "RGB": (3,), "RGBA": (4,)}[mode]
    data = _png(np.full((h, w, *channels), top, np.uint8), mode)
    for blob in (data, data[:cut] + noise, noise):
        try:
            image = read_rgb(_file(blob, ".png"))
        except UserError:
            continue
        assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3


@FUZZ
@given(st.one_of(st.binary(max_size=300), st.text(max_size=100).map(lambda t: t.encode("utf-8", "surrogatepass"))))
def test_text_files_decode_or_user_error(data):
    path = _file(data, ".txt")
    try:
        text = read_text_file(path)
        assert isinstance(text, str) and "\x00" not in text
    except UserError:
        pass
    try:
        pairs = read_tsv(path)
    except UserError:
        return
    assert pairs and all(s and t and s == s.strip() and t == t.strip() for s, t in pairs)

