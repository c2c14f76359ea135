"""The model card written beside every export (README.md): what each file takes and gives, how it compares with
Keras, how fast it runs, where it runs, and how to call it from Python and from an Android app."""

from pathlib import Path

import numpy as np

from keras_suite.export import compat, tflite
from keras_suite.export.parity import LOWER_IS_BETTER, column

KOTLIN_TYPES = {"float32": 4, "float16": 2, "int32": 4, "int64": 8, "uint8": 1, "int8": 1, "bool": 1}


def _tensors(details):
    """{name: (dtype, shape, (scale, zero point) or None)} of a signature's tensors."""
    return {name: (np.dtype(d["dtype"]).name, [int(x) for x in d["shape"]], tflite.quantization(d))
            for name, d in details.items()}


def _signatures(path):
    """{signature key: (inputs, outputs)} of a .tflite file, each as `_tensors` gives them."""
    made = tflite.interpreter(Path(path).read_bytes())
    runners = {key: made.get_signature_runner(key) for key in made.get_signature_list()}
    return {key: (_tensors(r.get_input_details()), _tensors(r.get_output_details())) for key, r in runners.items()}


def _ordered(signatures, description):
    """The signatures in the order their description lists them (encode before decode_step)."""
    order = list(description.signatures) if description and description.signatures else []
    return dict(sorted(signatures.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order)))


def _checks(row):
    shown = []
    for name, limit in row["limits"].items():
        value = row.get(column(name))
        if limit is None or value is None:
            continue
        shown.append(f"{column(name)} {value:.4g} {'<=' if name in LOWER_IS_BETTER else '>='} {limit:g}")
    return "; ".join(shown) or "-"


def _photo_figures(row):
    return "; ".join(f"{k[len('photo_'):]} {v:.4g}" for k, v in row.items() if k.startswith("photo_")) or "-"


def _io_table(described, tensors):
    lines = ["| tensor | dtype | shape | meaning | labels |", "|---|---|---|---|---|"]
    for name, (dtype, shape, quantization) in tensors.items():
        meta = described.get(name, {})
        if quantization:  # what a caller needs to turn real values into the tensor's integers and back
            dtype += f" (real = {quantization[0]:.6g} x (q - {quantization[1]}))"
        files = ", ".join(f"`{f['name']}`" for f in meta.get("associated_files", []))
        lines.append(f"| `{name}` | {dtype} | {shape} | {meta.get('description', '')} | {files} |")
    return lines


def _python(file, signatures):
    lines = ["```python", "import numpy as np", "from ai_edge_litert.interpreter import Interpreter", "",
             f'interpreter = Interpreter(model_path="{file}")']
    for key, (inputs, _) in signatures.items():
        args = ", ".join(f"{n}=np.zeros({tuple(s)}, np.{d})" for n, (d, s, _) in inputs.items())
        lines += [f'outputs = interpreter.get_signature_runner("{key}")({args})',
                  "print({name: value.shape for name, value in outputs.items()})"]
    return lines + ["```"]


def _kotlin(file, signatures):
    def buffer(dtype, shape):
        return (f"ByteBuffer.allocateDirect({int(np.prod(shape)) * KOTLIN_TYPES.get(dtype, 4)})"
                ".order(ByteOrder.nativeOrder())")

    lines = ["```kotlin", "// LiteRT (org.tensorflow:tensorflow-lite); the file in the app's assets",
             f'val interpreter = Interpreter(FileUtil.loadMappedFile(context, "{file}"))']
    for number, (key, (inputs, outputs)) in enumerate(signatures.items()):
        suffix = "" if len(signatures) == 1 else str(number + 1)
        lines.append(f"val inputs{suffix} = mapOf<String, Any>(")
        lines += [f'    "{n}" to {buffer(d, s)},  // {d} {s}' for n, (d, s, _) in inputs.items()]
        lines.append(")")
        lines.append(f"val outputs{suffix} = mapOf<String, Any>(")
        lines += [f'    "{n}" to {buffer(d, s)},  // {d} {s}' for n, (d, s, _) in outputs.items()]
        lines += [")", f'interpreter.runSignature(inputs{suffix}, outputs{suffix}, "{key}")']
    return lines + ["```"]


def write(folder, report, metadata, descriptions, usages=None):
    """Write README.md into the export `folder`: `report` is the parity report (with "compat"), `metadata` what
    metadata.json holds, `descriptions` the LiteRT description of each .tflite file by file name, `usages` the
    Python that drives a file whose signatures the host strings together (a search over a decoder step)."""
    folder = Path(folder)
    rows = report["formats"]
    main = next(iter(descriptions.values()), None)
    title = main.name if main else f"keras-suite {metadata.get('app', '')}"
    lines = [f"# {title}", ""]
    if main:
        lines += [main.description, ""]
    lines += [f"Exported by keras-suite from the run `{metadata.get('run', '')}` "
              f"(TensorFlow {metadata['versions']['tensorflow']}, Keras {metadata['versions']['keras']}). "
              f"Each format was run on {report['samples']} held-out samples and compared with the Keras model.", "",
              "## Files", "",
              "| format | file | size | ms, 1 thread | ms, 2 threads | checked against Keras |"
              + (" on held-out real photos |" if report.get("photos") else ""),
              "|---|---|---|---|---|---|" + ("---|" if report.get("photos") else "")]
    for name, row in rows.items():
        ms = [f"{row[k]:.3g}" if k in row else "-" for k in ("ms_1_thread", "ms_2_threads")]
        lines.append(f"| {name} | `{row['file']}` | {row['bytes'] / 1e6:.2f} MB | {ms[0]} | {ms[1]} | {_checks(row)} |"
                     + (f" {_photo_figures(row)} |" if report.get("photos") else ""))
    lines += [f"| - | `{name}` | | | | {note} |" for name, note in metadata.get("other_files", {}).items()]
    lines += ["", "Milliseconds: the median over the samples after two warm-up calls, on the exporting machine's CPU "
              "with XNNPACK."]
    if report.get("photos"):
        lines.append(f"Real photos: {report['photos']} crops of photos that scikit-image and scikit-learn ship, none "
                     "of them used to calibrate int8, compared with Keras the same way (reported, not limited).")
    if report.get("keras"):
        scores = ", ".join(f"{k} {v:.4g}" for k, v in report["keras"].items() if v is not None)
        lines += [f"The app's own metric on {report['task_samples']} held-out samples: the Keras model has {scores}; "
                  "each format's value is in its checks, with the least it had to reach."]
    lines.append("")
    signatures = {file: _ordered(_signatures(folder / file), d) for file, d in descriptions.items()}
    groups = {}  # files with the same description and tensors (float, fp16, int8 of one layout) share a section
    for file, description in descriptions.items():
        groups.setdefault((id(description), repr(signatures[file])), (description, signatures[file], []))[2].append(
            file)
    for description, tensors, files in groups.values():
        for key, (inputs, outputs) in tensors.items():
            described = description.signature(key) if description else None
            lines += [f"## {', '.join(f'`{f}`' for f in files)}: signature `{key}`", ""]
            if described and described.description != main.description:
                lines += [described.description, ""]
            lines += ["Inputs:", "", *_io_table(described.inputs if described else {}, inputs), "", "Outputs:", "",
                      *_io_table(described.outputs if described else {}, outputs), ""]
    if report.get("compat"):
        lines += ["## Where the files run", "", "```", compat.format_table(report["compat"]), "```", "",
                  "`partial`: the runtime takes that many ops of the signatures' graphs and leaves the rest to the "
                  "CPU. Details per op in `compat.json`.", ""]
    if descriptions:
        file = next(iter(descriptions))
        lines += ["## Use", "", "The metadata inside each `.tflite` file (read by MediaPipe Tasks and the LiteRT "
                  "support library) says the same as this page; `unzip -l` lists its label and vocabulary files.", "",
                  "Python:", "", *_python(file, signatures[file]), "", "Android (Kotlin):", "",
                  *_kotlin(file, signatures[file]), ""]
        for file, usage in (usages or {}).items():
            lines += [f"Driving `{file}` from Python (port it to the app's language):", "", "```python",
                      *usage.replace("{file}", file).splitlines(), "```", ""]
    (folder / "README.md").write_text("\n".join(lines), encoding="utf-8")
