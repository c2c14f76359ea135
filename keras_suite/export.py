"""Export: model.keras, SavedModel and TFLite float/fp16/int8, checked against Keras before anything lands.

Everything is written into a temporary sibling of the target and renamed into place only after
the parity check passed, so a failed or killed export never leaves a half-written artifact.
"""

import dataclasses
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from keras_suite import tflite
from keras_suite.errors import UserError
from keras_suite.registry import Registry
from keras_suite.runs import default_permissions, process_ended, write_json

EXPORTERS = Registry("export format")


@dataclasses.dataclass
class Serving:
    """What an app exports: the model and its serving function at any and at a fixed input size.

    `fn(inputs: dict of tensors, dynamic: bool)` returns a dict of tensors. `dynamic_spec` and
    `fixed_spec` map input names to TensorSpecs (the fixed one has batch 1, for TFLite). `samples`
    are real fixed-size inputs (dicts of arrays, batch 1) on which every format is compared with
    Keras; `calibration` (same form) calibrates int8. `endpoints` are further SavedModel
    signatures (name -> tf.function with an input signature), e.g. string-in/string-out
    generation; `track` lists further layers they use (lookup tables). `scores(reference, outputs)`
    adds app-specific parity scores to each format's row (e.g. the lowest cosine similarity of
    embeddings, "min_cosine"), and `min_scores` {score: {format: minimum}} are their limits. `float_ops`
    are TFLite ops kept in float in the int8 file; so is everything from the op whose output tensor name
    contains `float_from` on (post-processing after the network).
    """

    model: keras.Model
    fn: callable
    dynamic_spec: dict
    fixed_spec: dict
    samples: list
    calibration: list
    endpoints: dict = dataclasses.field(default_factory=dict)
    track: list = dataclasses.field(default_factory=list)
    scores: callable = None
    float_ops: tuple = ()
    float_from: str = None
    min_scores: dict = dataclasses.field(default_factory=dict)


class ExportError(UserError):
    """An export that failed its parity check or could not be converted."""


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


def _run_all(call, samples):
    """Run `call(**sample)` on each sample and concatenate each output over the samples."""
    start = time.perf_counter()
    outs = [{k: np.asarray(v) for k, v in call(**sample).items()} for sample in samples]
    ms = (time.perf_counter() - start) * 1000 / len(samples)
    return {k: np.concatenate([o[k] for o in outs]) for k in outs[0]}, ms


def _compare(reference, outputs):
    row = {"max_abs_diff": 0.0, "mean_abs_diff": 0.0, "agreement": 1.0}
    for key, ref in reference.items():
        out = np.asarray(outputs[key])
        ref = np.asarray(ref)
        if out.shape != ref.shape:
            raise ExportError(f"output '{key}' has shape {out.shape}, Keras gives {ref.shape}")
        if np.issubdtype(ref.dtype, np.floating):
            diff = np.abs(out.astype(np.float64) - ref)
            row["max_abs_diff"] = max(row["max_abs_diff"], float(diff.max()))
            row["mean_abs_diff"] = max(row["mean_abs_diff"], float(diff.mean()))
        else:
            row["agreement"] = min(row["agreement"], float(np.mean(out == ref)))
    return row


@EXPORTERS.register("saved_model")
def _saved_model(serving, work, ctx):
    path = work / "saved_model"
    _archive(serving, dynamic=True).write_out(str(path), verbose=False)
    signature = tf.saved_model.load(str(path)).signatures["serve"]
    return (path, *_run_all(lambda **x: signature(**{k: tf.constant(v) for k, v in x.items()}), serving.samples))


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
        return (path, *_run_all(tflite.Runner(flatbuffer), serving.samples))

    return exporter


EXPORTERS.register("tflite")(_tflite("float32", "model.tflite"))
EXPORTERS.register("tflite_fp16")(_tflite("float16", "model_fp16.tflite"))
EXPORTERS.register("tflite_int8")(_tflite("int8", "model_int8.tflite"))


def _size(path):
    path = Path(path)
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def check_target(target, overwrite):
    target = Path(target)
    if target.exists() and (not target.is_dir() or any(target.iterdir())) and not overwrite:
        raise UserError(f"export target {target} exists and is not empty; pass export.overwrite=true or another name")


def export(serving, target, ecfg, metadata):
    """Write model.keras + each format in `ecfg.formats` + metadata.json + parity.json into `target`.

    Returns the parity report. Raises ExportError (nothing written) if any format is outside
    `ecfg.max_abs_diff` / `ecfg.min_agreement` against the Keras model on `serving.samples`.
    """
    target = Path(target)
    exporters = {name: EXPORTERS.get(name) for name in ecfg.formats}
    recover(target.parent)
    check_target(target, ecfg.overwrite)
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-{os.getpid()}-", dir=target.parent))
    default_permissions(work)
    ctx = {}
    try:
        serving.model.save(work / "model.keras")
        reference, _ = _run_all(lambda **x: serving.fn({k: tf.constant(v) for k, v in x.items()}, False),
                                serving.samples)
        report = {"samples": len(serving.samples), "formats": {}}
        failures = []
        for name, exporter in exporters.items():
            path, outputs, ms = exporter(serving, work, ctx)
            row = {"file": path.name, "bytes": _size(path), "ms_per_sample": round(ms, 3),
                   **_compare(reference, outputs)}
            if serving.scores is not None:
                row.update(serving.scores(reference, outputs))
            limits = {"max_abs_diff": ecfg.max_abs_diff.get(name), "min_agreement": ecfg.min_agreement.get(name),
                      **{score: per_format.get(name) for score, per_format in serving.min_scores.items()}}
            row["passed"] = ((limits["max_abs_diff"] is None or row["max_abs_diff"] <= limits["max_abs_diff"])
                             and (limits["min_agreement"] is None or row["agreement"] >= limits["min_agreement"])
                             and all(limits[s] is None or row[s] >= limits[s]
                                     for s in serving.min_scores))
            row["limits"] = limits
            report["formats"][name] = row
            if not row["passed"]:
                extra = "".join(f", {s} {row[s]:.6f}" for s in serving.min_scores)
                failures.append(f"{name} (max abs diff {row['max_abs_diff']:.3g}, "
                                f"agreement {row['agreement']:.4f}{extra})")
        if failures:
            raise ExportError(f"parity check failed against Keras for {', '.join(failures)}; nothing was written")
        report["keras_model_bytes"] = _size(work / "model.keras")
        write_json(work / "parity.json", report)
        write_json(work / "metadata.json", {**metadata, "formats": {n: r["file"] for n, r in report["formats"].items()},
                                            "versions": {"tensorflow": tf.__version__, "keras": keras.__version__}})
        _replace(work, target)
        return report
    finally:
        for path in [work, ctx.get("fixed_saved_model")]:
            if path is not None and Path(path).exists():
                shutil.rmtree(path, ignore_errors=True)


def _dead(name):
    """Whether the process that made a temporary export folder (its id is in the name) has ended."""
    match = re.search(r"(?:\.tmp-|\.old-|^\.fixed-)(\d+)", name)
    return match is not None and process_ended(int(match.group(1)))


def recover(folder):
    """Clean up after exports into `folder` that were killed: put back an artifact moved aside just before
    the kill and remove the temporary folders of processes that have ended."""
    folder = Path(folder)
    if not folder.is_dir():
        return
    for old in folder.glob(".*.old-*"):
        target = folder / old.name[1:].rsplit(".old-", 1)[0]
        if _dead(old.name):
            if target.exists():
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(old, target)
    for stale in [*folder.glob(".*.tmp-*"), *folder.glob(".fixed-*")]:
        if _dead(stale.name):
            shutil.rmtree(stale, ignore_errors=True)


def _replace(work, target):
    """Rename `work` to `target`; an existing target is moved aside first and removed after."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.replace(target, old)
    os.replace(work, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def format_report(report):
    """One line per format; app-specific scores (Serving.scores) are columns after the standard ones."""
    rows = report["formats"].values()
    extra = [k for k in next(iter(rows), {}).get("limits", {}) if k not in ("max_abs_diff", "min_agreement")]
    lines = [f"{'format':<13}{'file':<20}{'size':>10}{'max|diff|':>11}{'agree':>8}{'ms/call':>9}"
             + "".join(f"{k:>12}" for k in extra) + "  ok"]
    for name, r in report["formats"].items():
        lines.append(f"{name:<13}{r['file']:<20}{r['bytes'] / 1e6:>8.2f}MB{r['max_abs_diff']:>11.2e}"
                     f"{r['agreement']:>8.4f}{r['ms_per_sample']:>9.2f}" + "".join(f"{r[k]:>12.6f}" for k in extra)
                     + f"  {'yes' if r['passed'] else 'NO'}")
    return "\n".join(lines)
