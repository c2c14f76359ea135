"""int8 weights with float activations."""

import keras
import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as schema

from keras_suite.export import tflite


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A SavedModel of two named conv layers and an activation, and calibration images."""
    inputs = keras.Input((8, 8, 3), batch_size=1, name="images")
    body = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="body")(inputs)
    head = keras.layers.Conv2D(6, 1, name="head")(body)
    outputs = keras.layers.Activation("sigmoid", name="scores")(head)  # the last op is named after the output
    model = keras.Model(inputs, outputs)
    folder = tmp_path_factory.mktemp("m") / "saved"
    model.export(str(folder), verbose=False)
    rng = np.random.default_rng(0)
    return folder, [{"images": rng.random((1, 8, 8, 3), np.float32)} for _ in range(8)]


def _conv_output_types(flatbuffer):
    """The output tensor type of each CONV_2D of the main graph, in order."""
    model = schema.ModelT.InitFromPackedBuf(flatbuffer, 0)
    graph = model.subgraphs[0]
    types = {v: k for k, v in vars(schema.TensorType).items() if not k.startswith("_")}
    return [types[graph.tensors[op.outputs[0]].type] for op in graph.operators
            if tflite.builtin_name(model, op) == "CONV_2D"]


def test_dynamic_int8_stores_int8_weights_and_computes_in_float(saved):
    folder, calibration = saved
    float32 = tflite.convert(folder)
    dynamic = tflite.convert(folder, quantization="dynamic_int8")
    assert _conv_output_types(dynamic) == ["FLOAT32", "FLOAT32"]
    x = calibration[0]["images"]
    expected = tflite.Runner(float32)(images=x)["output_0"]
    np.testing.assert_allclose(tflite.Runner(dynamic)(images=x)["output_0"], expected, atol=0.05)


def test_conversion_of_a_model_saved_without_gradient_functions_logs_no_gradient_warning(tmp_path, caplog):
    """The SavedModels written for the converter skip gradient functions (`CONVERSION_ONLY`); TF warns on load that
    a gradient of those ops would fail, which the converter never asks for: that warning stays out of the output."""
    import tensorflow as tf

    from keras_suite.export.formats import CONVERSION_ONLY

    module = tf.Module()
    module.f = tf.function(lambda x: tf.nn.silu(x), input_signature=[tf.TensorSpec([1, 4], tf.float32)])
    folder = str(tmp_path / "silu")
    tf.saved_model.save(module, folder, signatures={"serve": module.f}, options=CONVERSION_ONLY)
    with caplog.at_level("WARNING"):
        tf.saved_model.load(folder)  # silu's gradient is a custom one: the warning exists, and is caught here
    assert "unsaved custom gradients" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING"):
        flatbuffer = tflite.convert(folder)
    assert "unsaved custom gradients" not in caplog.text
    np.testing.assert_allclose(tflite.Runner(flatbuffer)(x=np.ones((1, 4), np.float32))["output_0"],
                               tf.nn.silu(np.ones((1, 4), np.float32)), rtol=1e-6)
