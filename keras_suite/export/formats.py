"""The export formats, by name: a SavedModel with every signature, and TFLite float32, float16 and int8 files
of the fixed-size signature with builtin ops only. Each writes its artifact into the work folder and runs
it on the parity samples."""

import os
import tempfile
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from keras_suite.export import tflite
from keras_suite.export.parity import ExportError, run_samples
from keras_suite.registry import Registry

EXPORTERS = Registry("export format")


def _signature(serving, dynamic):
    spec = serving.dynamic_spec if dynamic else serving.fixed_spec
    names = list(spec)

    def serve(*args):
        return serving.fn(dict(zip(names, args)), dynamic)

    return tf.function(serve, input_signature=[tf.TensorSpec(spec[n].shape, spec[n].dtype, name=n) for n in names])


def _archive(serving, dynamic):
    archive = keras.export.ExportArchive()
    archive.track(serving.model)
    archive.add_endpoint("serve", _signature(serving, dynamic))
    if dynamic:
        for layer in serving.track:
            archive.track(layer)
        for name, fn in serving.endpoints.items():
            archive.add_endpoint(name, fn)
    return archive


@EXPORTERS.register("saved_model")
def _saved_model(serving, work, ctx):
    path = work / "saved_model"
    _archive(serving, dynamic=True).write_out(str(path), verbose=False)
    signature = tf.saved_model.load(str(path)).signatures["serve"]
    return (path, *run_samples(lambda **x: signature(**{k: tf.constant(v) for k, v in x.items()}), serving.samples))


def _tflite(quantization, filename):
    def exporter(serving, work, ctx):
        if "fixed_saved_model" not in ctx:
            ctx["fixed_saved_model"] = Path(tempfile.mkdtemp(prefix=f".fixed-{os.getpid()}-", dir=work.parent))
            _archive(serving, dynamic=False).write_out(str(ctx["fixed_saved_model"]), verbose=False)
        try:
            flatbuffer = tflite.convert(ctx["fixed_saved_model"], quantization=quantization,
                                        representative=serving.calibration, float_ops=serving.float_ops,
                                        float_from=serving.float_from)
        except Exception as e:  # noqa: BLE001 - converter errors are long; keep the first line
            raise ExportError(f"TFLite conversion ({quantization}) failed: {str(e).splitlines()[0][:300]}") from None
        bad = tflite.non_builtin_ops(flatbuffer)
        if bad:
            raise ExportError(f"TFLite model ({quantization}) needs non-builtin ops: {', '.join(bad)}")
        path = work / filename
        path.write_bytes(flatbuffer)
        outputs, ms = run_samples(tflite.Runner(flatbuffer), serving.samples)
        if serving.probe is not None:  # another interpreter: keeping every tensor turns the fast kernels off
            probe = tflite.Runner(flatbuffer, probe=serving.probe[0])
            outputs["probe"] = np.concatenate([probe(**sample)["probe"] for sample in serving.samples])
        return path, outputs, ms

    return exporter


EXPORTERS.register("tflite")(_tflite("float32", "model.tflite"))
EXPORTERS.register("tflite_fp16")(_tflite("float16", "model_fp16.tflite"))
EXPORTERS.register("tflite_int8")(_tflite("int8", "model_int8.tflite"))
