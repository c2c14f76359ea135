"""Full-integer files: uint8 in and out with their scale and zero point, no float op, and the runner and the
metadata that make them usable; the detector's heads decoded part by part for them."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_suite.detection.grid import AnchorGrid
from keras_suite.detection.postprocess import candidates, part_candidates
from keras_suite.export import compat, litert_metadata, tflite
from keras_suite.export.serving import full_integer_layout
from keras_suite.models.yolo import build_yolo


@pytest.fixture(scope="module")
def integer_file(tmp_path_factory):
    """A conv net with a unit-normalized output, in the full-integer layout, converted to int8_full; and its
    float layout's outputs on a few photos."""
    inputs = keras.Input((16, 16, 3), batch_size=1)
    x = keras.layers.Rescaling(1 / 127.5, offset=-1)(inputs)
    x = keras.layers.Conv2D(8, 3, activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, keras.layers.Dense(4)(x))
    layout = full_integer_layout(lambda x: {"embedding": tf.math.l2_normalize(model(x["images"]), -1)}, 16, dict,
                                 litert_metadata.Description("t", "test", inputs={"images": {"description": "x"}},
                                                             outputs={"embedding": {"description": "unit vector"}}))
    rng = np.random.default_rng(0)
    photos = [{"images": rng.integers(40, 200, (1, 16, 16, 3), np.uint8)} for _ in range(24)]
    archive = keras.export.ExportArchive()
    archive.track(model)
    spec = layout.spec["images"]
    archive.add_endpoint("serve", tf.function(lambda images: layout.fn({"images": images}),
                                              input_signature=[tf.TensorSpec(spec.shape, spec.dtype, name="images")]))
    folder = tmp_path_factory.mktemp("full") / "saved"
    archive.write_out(str(folder), verbose=False)
    # the photos span 40-199 only: the auto-levelled copy still pins the input to the full 0-255 range
    flatbuffer = tflite.convert(folder, quantization="int8_full", representative=layout.calibrate(photos[:16]))
    expected = [layout.fn(layout.prepare(p))["embedding"].numpy() for p in photos[16:]]
    return flatbuffer, layout, photos[16:], expected


def test_int8_full_takes_and_gives_uint8_and_runs_no_float_op(integer_file):
    flatbuffer, _, photos, expected = integer_file
    runner = tflite.Runner(flatbuffer)
    inputs, outputs = runner.runner.get_input_details(), runner.runner.get_output_details()
    assert inputs["images"]["dtype"] == np.uint8 and inputs["images"]["quantization"] == (1.0, 0)
    assert outputs["embedding"]["dtype"] == np.uint8 and outputs["embedding"]["quantization"][0] > 0
    assert "L2_NORMALIZATION" in tflite.op_names(flatbuffer)
    assert compat.report(flatbuffer)["targets"]["full_int8"]["supported"] == "yes"
    for photo, want in zip(photos, expected):
        got = runner(**photo)["embedding"]  # dequantized by the runner
        assert got.dtype == np.float32
        assert float(np.sum(got * want) / np.linalg.norm(got) / np.linalg.norm(want)) > 0.98


def test_quantize_rounds_saturates_and_dequantize_inverts():
    details = {"dtype": np.uint8, "quantization": (0.5, 10)}
    np.testing.assert_array_equal(tflite.quantize(np.array([-100.0, 0.0, 1.2, 200.0]), details), [0, 10, 12, 255])
    np.testing.assert_allclose(tflite.dequantize(np.array([0, 10, 12, 255], np.uint8), details), [-5, 0, 1, 122.5])
    assert tflite.quantization({"quantization": (0.0, 0)}) is None


def test_metadata_states_each_quantized_tensors_scale_and_zero_point(integer_file):
    flatbuffer, layout, _, _ = integer_file
    runner = tflite.Runner(flatbuffer)
    scale, zero_point = runner.runner.get_output_details()["embedding"]["quantization"]
    described = litert_metadata.quantized(layout.litert, flatbuffer)
    assert described.outputs["embedding"]["description"] == (
        f"unit vector; uint8, quantized: real value = {scale:.9g} x (q - {zero_point})")
    assert described.inputs["images"]["description"] == "x; uint8, quantized: real value = 1 x (q - 0)"
    assert layout.litert.outputs["embedding"]["description"] == "unit vector"  # the original is left as it was


def test_part_candidates_equal_the_whole_heads_decoded():
    grid = AnchorGrid(64, (16, 32), [[(0.2, 0.3), (0.5, 0.4)], [(0.6, 0.7), (0.9, 0.8)]])
    model = build_yolo(64, 3, (16, 32), 2, width=8, depth=1)
    images = tf.constant(np.random.default_rng(1).uniform(0, 255, (2, 64, 64, 3)), tf.float32)
    boxes, scores = candidates(model(images, training=False), grid)
    part_boxes, part_scores = part_candidates(model, grid)(images)
    np.testing.assert_allclose(part_boxes, boxes, atol=1e-5)
    np.testing.assert_allclose(part_scores, scores, atol=1e-5)
