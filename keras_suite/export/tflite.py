"""TFLite (LiteRT) conversion with builtin ops only, op inspection, and running with ai_edge_litert."""

import contextlib
import logging
import time
import warnings

import numpy as np
import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter
from tensorflow.lite.python import schema_py_generated as schema

from keras_suite.console import native_stderr_silenced

QUANTIZATIONS = ("float32", "float16", "dynamic_int8", "int8", "int8_full")
OP_NAMES = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}


def builtin_name(model, op):
    """The builtin operator name of `op` in a `ModelT` ("CUSTOM" for custom ops); codes past 127 sit in the
    extended field, older ones in the deprecated one."""
    code = model.operatorCodes[op.opcodeIndex]
    return OP_NAMES.get(max(code.builtinCode, code.deprecatedBuiltinCode), "CUSTOM")


def _not_gradient_notice(record):
    return "unsaved custom gradients" not in record.getMessage()


@contextlib.contextmanager
def _gradient_notice_dropped():
    """Without TF's warning, once per function, that a SavedModel saved without its gradient functions
    (`formats.CONVERSION_ONLY`) cannot give gradients: the converter asks for none."""
    logger = logging.getLogger("absl")
    logger.addFilter(_not_gradient_notice)
    try:
        yield
    finally:
        logger.removeFilter(_not_gradient_notice)


@_gradient_notice_dropped()
def convert(saved_model_dir, signatures=("serve",), quantization="float32", representative=None):
    """Convert signatures of a SavedModel to a flatbuffer using TFLITE_BUILTINS only.

    quantization: "float32"; "float16" (weights in fp16); "dynamic_int8" (weights in int8, activations float,
    quantized on the fly by the kernels that can); "int8" (weights and activations, calibrated
    on `representative`, an iterable of `{input_name: array}` with batch 1); "int8_full" (every op integer-only
    and uint8 inputs and outputs, each with the scale and zero point the calibration gave: for NPUs and Edge-TPU
    style accelerators, which run no float op). Ops without an int8 kernel (NON_MAX_SUPPRESSION_V5) stay in float
    in "int8" files, between DEQUANTIZE and QUANTIZE ops.
    """
    converter = tf.lite.TFLiteConverter.from_saved_model(str(saved_model_dir), signature_keys=list(signatures))
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if quantization == "dynamic_int8":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    elif quantization == "float16":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    elif quantization == "int8":
        if representative is None:
            raise ValueError("int8 quantization needs a representative dataset")
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: iter(representative)
    elif quantization == "int8_full":
        if representative is None:
            raise ValueError("int8_full quantization needs a representative dataset")
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: iter(representative)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = converter.inference_output_type = tf.uint8
    elif quantization != "float32":
        raise ValueError(f"quantization must be one of {QUANTIZATIONS}")
    with native_stderr_silenced():
        return converter.convert()


def interpreter(flatbuffer, preserve_all_tensors=False, allocate=True, num_threads=None):
    """A LiteRT interpreter of the model, made without the runtime's notices on stderr (the XNNPACK delegate's,
    the warning that keeping every tensor is for debugging). Allocating applies the default delegate, which
    replaces the ops it takes by one DELEGATE op."""
    with native_stderr_silenced(), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*experimental_preserve_all_tensors.*")
        made = Interpreter(model_content=flatbuffer, experimental_preserve_all_tensors=preserve_all_tensors,
                           num_threads=num_threads)
        if allocate:
            made.allocate_tensors()
    return made


def op_names(flatbuffer, delegated=False):
    """The operator names of a TFLite model's main graph in execution order: as written, or `delegated`, after the
    default delegate (XNNPACK) replaced the ops it takes by DELEGATE ops."""
    return [d["op_name"] for d in interpreter(flatbuffer, allocate=delegated)._get_ops_details()]


def non_builtin_ops(flatbuffer):
    """Ops a stock LiteRT runtime cannot run without extra delegates (Flex or custom ops)."""
    return sorted({op for op in op_names(flatbuffer) if op.startswith("Flex") or op == "CUSTOM"
                   or op.startswith("DELEGATE")})


def latency(runner, samples, warmup=2):
    """Median milliseconds per `runner(**sample)` call over the samples (at most 16), after `warmup` calls."""
    samples = list(samples)[:16]
    for _ in range(warmup):
        runner(**samples[0])
    times = []
    for sample in samples:
        start = time.perf_counter()
        runner(**sample)
        times.append((time.perf_counter() - start) * 1000)
    return float(np.median(times))


def quantization(details):
    """(scale, zero point) of a tensor's details from the interpreter; None when it holds plain values."""
    scale, zero_point = details["quantization"]
    return (float(scale), int(zero_point)) if scale else None


def quantize(values, details):
    """Real `values` as the integers of a quantized input tensor: round(x / scale) + zero point, saturated."""
    scale, zero_point = quantization(details)
    info = np.iinfo(details["dtype"])
    q = np.round(np.asarray(values, np.float64) / scale) + zero_point
    return np.clip(q, info.min, info.max).astype(details["dtype"])


def dequantize(q, details):
    """The real values of a quantized output tensor: scale x (q - zero point), float32."""
    scale, zero_point = quantization(details)
    return (scale * (np.asarray(q, np.float32) - zero_point)).astype(np.float32)


class Runner:
    """Runs one signature of a TFLite model: `runner(name=array, ...) -> {output: array}`, in real values:
    inputs of a full-integer file are quantized with their scale and zero point and its outputs dequantized
    (a uint8 image input of scale 1 and zero point 0 takes the pixels as they are).

    With `probe` (a substring of a tensor's name, e.g. a Keras layer's "/raw"), the outputs also hold
    "probe": that intermediate tensor (the interpreter keeps every tensor, which is for checking, not serving).
    """

    def __init__(self, flatbuffer, signature="serve", probe=None, num_threads=None):
        self.probe = probe
        self.interpreter = interpreter(flatbuffer, preserve_all_tensors=probe is not None, num_threads=num_threads)
        self.runner = self.interpreter.get_signature_runner(signature)
        self.quantized = [{name: d for name, d in details.items() if quantization(d)} for details in
                          (self.runner.get_input_details(), self.runner.get_output_details())]
        if probe is not None:
            found = [t for t in self.interpreter.get_tensor_details() if probe in t["name"]]
            if not found:
                raise ValueError(f"no tensor named like '{probe}' in the TFLite model")
            self.probe_details = found[-1]  # the last op writing it: a concatenation's result, not its inputs

    def __call__(self, **inputs):
        quantized_in, quantized_out = self.quantized
        outputs = self.runner(**{k: quantize(v, quantized_in[k]) if k in quantized_in else v
                                 for k, v in inputs.items()})
        outputs = {k: dequantize(v, quantized_out[k]) if k in quantized_out else v for k, v in outputs.items()}
        if self.probe is not None:
            probe = self.interpreter.get_tensor(self.probe_details["index"]).copy()
            outputs["probe"] = dequantize(probe, self.probe_details) if quantization(self.probe_details) else probe
        return outputs
