"""Export: model.keras, SavedModel and TFLite float/fp16/int8, checked against Keras before anything lands.

Everything is written into a temporary sibling of the target and renamed into place only after
the parity check passed, so a failed or killed export never leaves a half-written artifact.
"""

import logging
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from keras_suite.errors import UserError, environment_failure
from keras_suite.export import card, compat
from keras_suite.export.formats import EXPORTERS, LIMITS_OF, layout_for
from keras_suite.export.parity import ExportError, compare, judge, run_samples
from keras_suite.files import default_permissions, process_ended, storage_errors, write_json, write_text

log = logging.getLogger("keras_suite")


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
    """Write model.keras + each format in `ecfg.formats` + metadata.json + parity.json into `target`, with
    compat.json (which runtimes can run each TFLite file: CPU, GPU delegate, full-integer accelerators) and the
    model card README.md.

    Returns the parity report, with the compatibility reports under "compat". Raises ExportError (nothing
    written) if any format is outside `ecfg.max_abs_diff` / `ecfg.min_agreement` against the Keras model on
    `serving.samples`.
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
        # traced once, as the exported signature is: an eager beam search per sample would take minutes
        fixed = tf.function(lambda inputs: serving.fn(inputs, False), input_signature=[
            {name: tf.TensorSpec(spec.shape, spec.dtype, name=name) for name, spec in serving.fixed_spec.items()}])

        def keras_call(**x):
            return fixed({k: tf.constant(v) for k, v in x.items()})

        reference, _ = run_samples(keras_call, serving.samples)
        photo_reference = run_samples(keras_call, serving.photos)[0] if serving.photos else None
        task, task_reference = serving.task, None
        if task is not None:
            log.info("export: scoring the Keras model on %d held-out samples ...", len(task))
            task_reference = task.score(task.run(keras_call))
        if serving.probe is not None:
            probe_reference = np.concatenate([np.asarray(serving.probe[1](s)) for s in serving.samples])
        report = {"samples": len(serving.samples), "photos": len(serving.photos), "formats": {}}
        if task is not None:
            report.update(task_samples=len(task), keras=task_reference)
        failures = []
        for number, (name, exporter) in enumerate(exporters.items(), 1):
            log.info("export %d/%d: %s: converting and checking on %d samples ...", number, len(exporters), name,
                     len(serving.samples))
            started = time.monotonic()
            path, outputs, ms = exporter(serving, work, ctx)
            probe, latency, task_outputs, photos = (outputs.pop(k, None) for k in ("probe", "latency", "task",
                                                                                   "photos"))
            row = {"file": path.name, "bytes": _size(path), "ms_per_sample": round(ms, 3),
                   **{f"ms_{n}_thread{'s' if n > 1 else ''}": round(t, 3) for n, t in (latency or {}).items()},
                   **compare(reference, outputs)}
            if serving.scores is not None:
                row.update(serving.scores(reference, outputs))
            if task is not None:
                row.update(task.score(task_outputs))
            if photos is not None:  # reported, not limited: what the app's own samples do not show
                figures = {**compare(photo_reference, photos),
                           **(serving.scores(photo_reference, photos) if serving.scores else {})}
                row.update({f"photo_{k}": v for k, v in figures.items() if v is not None})
            if probe is not None:  # a layout without the probed tensor has no probe figures
                diff = np.abs(np.asarray(probe, np.float64) - probe_reference)
                row["probe_max_abs_diff"], row["probe_mean_abs_diff"] = float(diff.max()), float(diff.mean())
            limits = {"max_abs_diff": _limit(ecfg.max_abs_diff, name),
                      "min_agreement": _limit(ecfg.min_agreement, name),
                      **{score: _limit(per_format, name) for score, per_format in serving.min_scores.items()},
                      **({"probe_mean_abs_diff": _limit(serving.probe_limits, name)} if probe is not None else {}),
                      **_task_limits(task, task_reference, ecfg.max_metric_drop, name)}
            failed = judge(row, limits, lower=task.lower_is_better if task else ())
            row["passed"], row["limits"] = not failed, limits
            log.info("export %d/%d: %s: %s in %.1f s", number, len(exporters), name,
                     "failed the check" if failed else "done", time.monotonic() - started)
            report["formats"][name] = row
            if failed:
                failures.append(f"{name} ({'; '.join(failed)})")
        if failures:
            raise ExportError(f"parity check failed against Keras for {', '.join(failures)}; nothing was written")
        report["keras_model_bytes"] = _size(work / "model.keras")
        write_json(work / "parity.json", report)
        files = sorted(work.glob("*.tflite"))
        if files:
            log.info("export: checking which runtimes can run %d TFLite files ...", len(files))
            report["compat"] = {path.name: compat.report(path.read_bytes()) for path in files}
            write_json(work / "compat.json", report["compat"])
        metadata = {**metadata, "formats": {n: r["file"] for n, r in report["formats"].items()},
                    "versions": {"tensorflow": tf.__version__, "keras": keras.__version__}}
        if serving.files:
            for name, (text, _) in serving.files.items():
                write_text(work / name, text)
            metadata["other_files"] = {name: note for name, (_, note) in serving.files.items()}
        write_json(work / "metadata.json", metadata)
        files = {row["file"]: layout_for(serving, name) for name, row in report["formats"].items()
                 if row["file"].endswith(".tflite")}
        card.write(work, report, metadata, {file: (layout or serving).litert for file, layout in files.items()},
                   {file: layout.usage for file, layout in files.items() if layout and layout.usage})
        _replace(work, target)
        return report
    except storage_errors() as e:  # a full disk or a forbidden folder: name the artifact, not its temporary folder
        raise environment_failure(e, target) from None
    finally:
        for path in [work, *ctx.values()]:  # the context holds the fixed-size SavedModels the formats share
            if Path(path).exists():
                shutil.rmtree(path, ignore_errors=True)


def _limit(per_format, name):
    return per_format.get(name, per_format.get(LIMITS_OF.get(name)))


def _drop(drops, name, metric):
    """The drop of `metric` allowed to format `name`: its own "<format>.<metric>" or "<format>" key, else those of
    the format whose limits it shares; None when none is configured."""
    keys = [k for f in (name, LIMITS_OF.get(name)) if f for k in (f"{f}.{metric}", f)]
    return next((drops[k] for k in keys if k in drops), None)


def _task_limits(task, reference, drops, name):
    """The least (or, where lower is better, the largest) value of each task metric format `name` may have: Keras'
    value less the allowed drop (`_drop`); none when no drop is configured."""
    if task is None:
        return {}
    limits = {}
    for metric, value in reference.items():
        drop = _drop(drops, name, metric)
        limits[metric] = (None if drop is None or value is None else
                          value + drop if metric in task.lower_is_better else value - drop)
    return limits


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
