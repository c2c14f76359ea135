"""TFLite (LiteRT) conversion with builtin ops only, op inspection, and running with ai_edge_litert."""

import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter

QUANTIZATIONS = ("float32", "float16", "int8")


def convert(saved_model_dir, signature="serve", quantization="float32", representative=None, float_ops=()):
    """Convert one signature of a SavedModel to a flatbuffer using TFLITE_BUILTINS only.

    quantization: "float32"; "float16" (weights in fp16); "int8" (weights and activations, calibrated
    on `representative`, an iterable of `{input_name: array}` with batch 1). `float_ops` (TFLite op
    names, e.g. "DIV") stay in float in an int8 model (selective quantization through the quantization
    debugger), for ops whose quantized kernels fail on the values they meet (box IoU in NMS).
    """
    converter = tf.lite.TFLiteConverter.from_saved_model(str(saved_model_dir), signature_keys=[signature])
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if quantization == "float16":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    elif quantization == "int8":
        if representative is None:
            raise ValueError("int8 quantization needs a representative dataset")
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: iter(representative)
        if float_ops:
            options = tf.lite.experimental.QuantizationDebugOptions(denylisted_ops=list(float_ops))
            debugger = tf.lite.experimental.QuantizationDebugger(
                converter=converter, debug_dataset=lambda: iter(representative), debug_options=options)
            return debugger.get_nondebug_quantized_model()
    elif quantization != "float32":
        raise ValueError(f"quantization must be one of {QUANTIZATIONS}")
    return converter.convert()


def op_names(flatbuffer):
    """The operator names used by a TFLite model, in graph order."""
    interpreter = Interpreter(model_content=flatbuffer)
    return [d["op_name"] for d in interpreter._get_ops_details()]


def non_builtin_ops(flatbuffer):
    """Ops a stock LiteRT runtime cannot run without extra delegates (Flex or custom ops)."""
    return sorted({op for op in op_names(flatbuffer) if op.startswith("Flex") or op == "CUSTOM"
                   or op.startswith("DELEGATE")})


class Runner:
    """Runs one signature of a TFLite model: `runner(name=array, ...) -> {output: array}`."""

    def __init__(self, flatbuffer, signature="serve"):
        self.interpreter = Interpreter(model_content=flatbuffer)
        self.runner = self.interpreter.get_signature_runner(signature)

    def __call__(self, **inputs):
        return self.runner(**inputs)
