import numpy as np
import pytest
import tensorflow as tf

from keras_suite.export import compat, tflite


def _convert(fn, specs, tmp_path, full_int8=False):
    """A builtin-ops TFLite model of `fn` (a tf.function over `specs`); `full_int8`: every tensor 8-bit."""
    module = tf.Module()
    module.fn = tf.function(fn, input_signature=specs)
    tf.saved_model.save(module, str(tmp_path / "m"), signatures={"serve": module.fn})
    if not full_int8:
        return tflite.convert(tmp_path / "m")
    converter = tf.lite.TFLiteConverter.from_saved_model(str(tmp_path / "m"), signature_keys=["serve"])
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    rng = np.random.default_rng(0)
    converter.representative_dataset = lambda: ([rng.random(s.shape, np.float32)] for s in specs for _ in range(8))
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = converter.inference_output_type = tf.int8
    return converter.convert()


KERNEL = tf.constant(np.random.default_rng(1).normal(size=(3, 3, 3, 4)).astype(np.float32))


def CONV(x):  # noqa: N802 - stands for a layer
    return tf.nn.relu(tf.nn.conv2d(x, KERNEL, 1, "SAME"))


def test_a_float_conv_net_runs_everywhere_but_on_8_bit_accelerators(tmp_path):
    report = compat.report(_convert(lambda x: tf.nn.softmax(CONV(x)), [tf.TensorSpec([1, 8, 8, 3])], tmp_path))
    targets = report["targets"]
    assert targets["cpu"]["supported"] == "yes" and targets["cpu"]["xnnpack_partitions"] >= 1
    assert targets["gpu"]["supported"] == "yes" and "first_blocker" not in targets["gpu"]
    assert targets["full_int8"]["supported"] == "no"
    assert targets["full_int8"]["first_blocker"]["reason"] == "FLOAT32 runtime tensor (not 8-bit)"
    assert report["subgraphs"][0]["ops"] == {"CONV_2D": 1, "SOFTMAX": 1}


def test_uint8_input_and_argmax_leave_the_ends_of_the_graph_on_the_cpu(tmp_path):
    def fn(x):
        return tf.argmax(CONV(tf.cast(x, tf.float32) / 255), -1)

    gpu = compat.report(_convert(fn, [tf.TensorSpec([1, 8, 8, 3], tf.uint8)], tmp_path))["targets"]["gpu"]
    assert gpu["supported"] == "partial" and gpu["main_graph_ops_taken"] >= 1
    assert gpu["first_blocker"] == {"op": "CAST", "subgraph": 0, "index": 0,
                                    "reason": "CAST UINT8 -> FLOAT32 is not supported"}
    assert "ARG_MAX" in gpu["blocking_ops"]


def test_a_loop_and_a_dynamic_shape_block_the_gpu(tmp_path):
    def loop(x):
        return tf.while_loop(lambda i, y: i < tf.cast(tf.reduce_sum(x), tf.int32), lambda i, y: (i + 1, y * 2.0),
                             (0, x))[1]

    gpu = compat.report(_convert(loop, [tf.TensorSpec([1, 4])], tmp_path))["targets"]["gpu"]
    assert gpu["supported"] != "yes" and "WHILE" in gpu["blocking_ops"]
    dynamic = compat.report(_convert(lambda x: tf.nn.relu(x) * 2.0, [tf.TensorSpec([1, None])], tmp_path / "d"))
    assert dynamic["targets"]["gpu"]["supported"] == "no"
    assert dynamic["targets"]["gpu"]["first_blocker"]["reason"] == "a tensor of dynamic shape"


def test_a_full_integer_model_is_ready_for_8_bit_accelerators(tmp_path):
    flatbuffer = _convert(lambda x: CONV(x), [tf.TensorSpec([1, 8, 8, 3])], tmp_path, full_int8=True)
    report = compat.report(flatbuffer)
    assert report["targets"]["full_int8"]["supported"] == "yes", report["targets"]["full_int8"]
    table = compat.format_table({"model_int8_full.tflite": report})
    assert table.splitlines()[1].startswith("model_int8_full.tflite") and table.splitlines()[1].endswith("yes")


@pytest.mark.parametrize("name", ["WHILE", "IF", "CALL_ONCE"])
def test_control_flow_is_named_as_such(name):
    op = compat.Op(0, 0, name, [], [], None)
    assert compat._gpu_reason(op) == "not a GPU delegate op (control flow)"
    assert compat._int8_reason(op) == "control flow"


def test_fp16_weights_do_not_block_the_gpu(tmp_path):
    """A float16-weight model dequantizes its weights in DEQUANTIZE ops, which the GPU delegate folds into the
    convolutions that read them."""
    module_dir = tmp_path / "m"
    module = tf.Module()
    module.fn = tf.function(lambda x: tf.nn.softmax(CONV(x)), input_signature=[tf.TensorSpec([1, 8, 8, 3])])
    tf.saved_model.save(module, str(module_dir), signatures={"serve": module.fn})
    report = compat.report(tflite.convert(module_dir, quantization="float16"))
    assert "DEQUANTIZE" in report["subgraphs"][0]["ops"]
    assert report["targets"]["gpu"]["supported"] == "yes"


def _tensor(shape, const=False, dtype="FLOAT32"):
    return compat.Tensor(dtype, tuple(shape), False, const)


@pytest.mark.parametrize("shapes, blocked", [
    (((5, 1, 1), (1, 1, 128)), True),  # an outer product: each input smaller somewhere (Keras' layer norm)
    (((5, 1, 128), (5, 1, 1)), False),  # one input broadcast into the other
    (((5, 1, 128), (128,)), False)])
def test_mul_takes_one_way_broadcasts_only(shapes, blocked):
    op = compat.Op(0, 0, "MUL", [_tensor(shapes[0]), _tensor(shapes[1], const=True)], [_tensor((5, 1, 128))],
                   None)
    assert bool(compat._gpu_reason(op)) == blocked


def test_select_and_one_hot_follow_the_delegate_rules():
    cond = _tensor((4, 1, 1, 8), dtype="BOOL")
    select = compat.Op(0, 0, "SELECT_V2", [cond, _tensor((4, 2, 1, 8)), _tensor((), const=True)],
                       [_tensor((4, 2, 1, 8))], None)
    assert compat._gpu_reason(select) is None
    select.inputs[2] = _tensor((4, 1, 1, 8))
    assert "neither the output's shape nor a scalar" in compat._gpu_reason(select)
    one_hot = compat.Op(0, 0, "ONE_HOT", [_tensor((1, 7), dtype="INT32"), _tensor((), True, "INT32"),
                                          _tensor((), True), _tensor((), True)], [_tensor((1, 7, 9))], None)
    assert compat._gpu_reason(one_hot) is None
    one_hot.inputs[0] = _tensor((2, 7), dtype="INT32")
    assert "non-singleton" in compat._gpu_reason(one_hot)
