"""The export formats, by name: a SavedModel with every signature, and TFLite float32, float16 and int8 files
of the fixed-size signature with builtin ops only, carrying the app's LiteRT metadata, and the same signature
laid out for MediaPipe Tasks (`tflite_tasks`) or for a GPU delegate without non-max suppression
(`tflite_nonms`), where an app has those layouts. Each writes its artifact into the work folder and runs it on
the parity samples."""

import os
import tempfile
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from keras_suite.export import litert_metadata, tflite
from keras_suite.export.parity import ExportError, run_samples
from keras_suite.registry import Registry

EXPORTERS = Registry("export format")
LIMITS_OF = {"tflite_tasks": "tflite", "tflite_nonms": "tflite"}  # checked with another's limits unless configured


def _signature(serving, dynamic, layout=None):
    spec = serving.dynamic_spec if dynamic else (layout and layout.spec) or serving.fixed_spec
    names = list(spec)

    def serve(*args):
        inputs = dict(zip(names, args))
        return layout.fn(inputs) if layout else serving.fn(inputs, dynamic)

    return tf.function(serve, input_signature=[tf.TensorSpec(spec[n].shape, spec[n].dtype, name=n) for n in names])


def _archive(serving, dynamic, layout=None):
    archive = keras.export.ExportArchive()
    archive.track(serving.model)
    archive.add_endpoint("serve", _signature(serving, dynamic, layout))
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

    def call(**x):
        return signature(**{k: tf.constant(v) for k, v in x.items()})

    outputs, ms = run_samples(call, serving.samples)
    if serving.task is not None:
        outputs["task"] = run_samples(call, serving.task.samples)[0]
    return path, outputs, ms


def _tflite(quantization, filename, layout_format=None, purpose=None):
    def exporter(serving, work, ctx):
        layout = serving.layouts.get(layout_format) if layout_format else None
        if layout_format and layout is None:
            raise ExportError(f"this app has no {purpose}: leave {layout_format} out of export.formats")
        folder = f"fixed_saved_model_{layout_format or 'main'}"  # made once, shared by the quantizations
        if folder not in ctx:
            ctx[folder] = Path(tempfile.mkdtemp(prefix=f".fixed-{os.getpid()}-", dir=work.parent))
            _archive(serving, dynamic=False, layout=layout).write_out(str(ctx[folder]), verbose=False)
        try:
            flatbuffer = tflite.convert(ctx[folder], quantization=quantization,
                                        representative=serving.calibration, float_ops=serving.float_ops,
                                        float_from=serving.float_from)
        except Exception as e:  # noqa: BLE001 - converter errors are long; keep the first line
            raise ExportError(f"TFLite conversion ({quantization}) failed: {str(e).splitlines()[0][:300]}") from None
        bad = tflite.non_builtin_ops(flatbuffer)
        if bad:
            raise ExportError(f"TFLite model ({quantization}) needs non-builtin ops: {', '.join(bad)}")
        description = layout.litert if layout else serving.litert
        if description is not None:
            flatbuffer = litert_metadata.pack(flatbuffer, description)
        path = work / filename
        path.write_bytes(flatbuffer)
        prepare = layout.prepare if layout and layout.prepare else dict
        back = layout.back if layout else dict
        samples = [prepare(sample) for sample in serving.samples]
        runner = tflite.Runner(flatbuffer)
        outputs, ms = run_samples(runner, samples)
        outputs = back(outputs)
        if serving.task is not None:
            outputs["task"] = back(run_samples(runner, [prepare(s) for s in serving.task.samples])[0])
        outputs["latency"] = {threads: tflite.latency(flatbuffer, samples, threads) for threads in (1, 2)}
        if serving.probe is not None:  # another interpreter: keeping every tensor turns the fast kernels off
            probe = tflite.Runner(flatbuffer, probe=serving.probe[0])
            outputs["probe"] = np.concatenate([probe(**sample)["probe"] for sample in samples])
        return path, outputs, ms

    return exporter


EXPORTERS.register("tflite")(_tflite("float32", "model.tflite"))
EXPORTERS.register("tflite_fp16")(_tflite("float16", "model_fp16.tflite"))
EXPORTERS.register("tflite_int8")(_tflite("int8", "model_int8.tflite"))
EXPORTERS.register("tflite_tasks")(_tflite("float32", "model_tasks.tflite", "tflite_tasks",
                                           "layout for MediaPipe Tasks / the Task Library"))
EXPORTERS.register("tflite_nonms")(_tflite("float32", "model_nonms.tflite", "tflite_nonms",
                                           "layout without non-max suppression"))
