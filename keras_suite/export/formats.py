"""The export formats, by name: a SavedModel with every signature, and TFLite float32, float16 and int8 files
of the fixed-size signature with builtin ops only (int8 of the app's own graph for it where it gives one), carrying
the app's LiteRT metadata; where an app has those layouts, the same signature laid out for MediaPipe Tasks
(`tflite_tasks`) or for a GPU delegate without non-max suppression (`tflite_nonms`), a layout of integers only for
NPUs (`tflite_int8_full`: uint8 in and out, no float op), a translator's encoder and decoder step for a search on
the host (`tflite_step`, and `tflite_step_int8` with int8 weights), and an autoencoder's encoder and decoder as two
signatures (`tflite_split`). Each writes its artifact into the work folder and runs it on the parity samples."""

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
# checked with another format's limits unless configured
LIMITS_OF = {"tflite_tasks": "tflite", "tflite_nonms": "tflite", "tflite_step": "tflite", "tflite_split": "tflite",
             "tflite_step_int8": "tflite_int8", "tflite_int8_full": "tflite_int8"}
# the formats that write a layout, and which (int8: an app's own layout where it has one, else the main one)
LAYOUT_OF = {"tflite_int8": "tflite_int8", "tflite_tasks": "tflite_tasks", "tflite_nonms": "tflite_nonms",
             "tflite_step": "tflite_step", "tflite_split": "tflite_split", "tflite_step_int8": "tflite_step",
             "tflite_int8_full": "tflite_int8_full"}


# a SavedModel written only for the converter: no gradient functions (tracing them took 4 s of each)
CONVERSION_ONLY = tf.saved_model.SaveOptions(experimental_custom_gradients=False)


def _function(fn, spec):
    """`fn(dict of inputs)` as a tf.function of named positional inputs, as a signature wants."""
    names = list(spec)
    return tf.function(lambda *args: fn(dict(zip(names, args))),
                       input_signature=[tf.TensorSpec(spec[n].shape, spec[n].dtype, name=n) for n in names])


def _archive(serving, dynamic, layout=None):
    archive = keras.export.ExportArchive()
    archive.track(serving.model)
    if layout is not None and layout.signatures:
        for key, (fn, spec) in layout.signatures.items():
            archive.add_endpoint(key, _function(fn, spec))
    elif layout is not None:
        archive.add_endpoint("serve", _function(layout.fn, layout.spec or serving.fixed_spec))
    else:
        spec = serving.dynamic_spec if dynamic else serving.fixed_spec
        archive.add_endpoint("serve", _function(lambda inputs: serving.fn(inputs, dynamic), spec))
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
        outputs["task"] = serving.task.run(call)
    if serving.photos:
        outputs["photos"] = run_samples(call, serving.photos)[0]
    return path, outputs, ms


def layout_for(serving, name):
    """The layout that format `name` writes (None: the main signature)."""
    return serving.layouts.get(LAYOUT_OF.get(name))


def _tflite(quantization, filename, name=None, purpose=None):
    def exporter(serving, work, ctx):
        layout = layout_for(serving, name)
        if purpose and layout is None:
            raise ExportError(f"this app has no {purpose}: leave {name} out of export.formats")
        folder = f"fixed_saved_model_{LAYOUT_OF[name] if layout else 'main'}"  # made once, shared by the quantizations
        if folder not in ctx:
            ctx[folder] = Path(tempfile.mkdtemp(prefix=f".fixed-{os.getpid()}-", dir=work.parent))
            _archive(serving, dynamic=False, layout=layout).write_out(str(ctx[folder]), verbose=False,
                                                                      options=CONVERSION_ONLY)
        keys = list(layout.signatures) if layout and layout.signatures else ["serve"]
        prepare = layout.prepare if layout and layout.prepare else dict
        calibration = (layout.calibrate(serving.calibration) if layout and layout.calibrate
                       else [prepare(s) for s in serving.calibration])
        try:
            flatbuffer = tflite.convert(ctx[folder], keys, quantization=quantization, representative=calibration)
        except Exception as e:  # noqa: BLE001 - converter errors are long; keep the first line
            raise ExportError(f"TFLite conversion ({quantization}) failed: {str(e).splitlines()[0][:300]}") from None
        bad = tflite.non_builtin_ops(flatbuffer)
        if bad:
            raise ExportError(f"TFLite model ({quantization}) needs non-builtin ops: {', '.join(bad)}")
        description = layout.litert if layout else serving.litert
        if description is not None and quantization == "int8_full":
            description = litert_metadata.quantized(description, flatbuffer)
        if description is not None:
            flatbuffer = litert_metadata.pack(flatbuffer, description)
        path = work / filename
        path.write_bytes(flatbuffer)
        back = layout.back if layout else dict
        samples = [prepare(sample) for sample in serving.samples]

        def runner(threads=None):
            if layout and layout.runner:
                return layout.runner(tflite.interpreter(flatbuffer, num_threads=threads))
            return tflite.Runner(flatbuffer, num_threads=threads)

        call = runner()
        outputs, ms = run_samples(call, samples)
        outputs = back(outputs)
        if serving.task is not None:
            outputs["task"] = back(serving.task.run(lambda **sample: call(**prepare(sample))))
        if serving.photos:
            outputs["photos"] = back(run_samples(call, [prepare(photo) for photo in serving.photos])[0])
        outputs["latency"] = {threads: tflite.latency(runner(threads), samples) for threads in (1, 2)}
        # another interpreter: keeping every tensor turns the fast kernels off
        if serving.probe is not None and (layout is None or layout.probe):
            probe = tflite.Runner(flatbuffer, probe=serving.probe[0])
            outputs["probe"] = np.concatenate([probe(**sample)["probe"] for sample in samples])
        return path, outputs, ms

    return exporter


EXPORTERS.register("tflite")(_tflite("float32", "model.tflite"))
EXPORTERS.register("tflite_fp16")(_tflite("float16", "model_fp16.tflite"))
EXPORTERS.register("tflite_int8")(_tflite("int8", "model_int8.tflite", "tflite_int8"))
EXPORTERS.register("tflite_tasks")(_tflite("float32", "model_tasks.tflite", "tflite_tasks",
                                           "layout for MediaPipe Tasks / the Task Library"))
EXPORTERS.register("tflite_nonms")(_tflite("float32", "model_nonms.tflite", "tflite_nonms",
                                           "layout without non-max suppression"))
EXPORTERS.register("tflite_step")(_tflite("float32", "model_step.tflite", "tflite_step",
                                          "encode / decode_step layout"))
EXPORTERS.register("tflite_split")(_tflite("float32", "model_split.tflite", "tflite_split",
                                           "encode / decode layout"))
EXPORTERS.register("tflite_int8_full")(_tflite("int8_full", "model_int8_full.tflite", "tflite_int8_full",
                                               "full-integer layout"))
EXPORTERS.register("tflite_step_int8")(_tflite("dynamic_int8", "model_step_int8.tflite", "tflite_step_int8",
                                               "encode / decode_step layout"))
