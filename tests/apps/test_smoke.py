"""Every registered app, end to end on its tiny config: train -> its examples (evaluate, predict/translate/...)
-> export with parity. A new app is tested here by being registered."""

import contextlib
import json

import pytest

from keras_suite.apps import APPS
from keras_suite.config import load_config
from keras_suite.runs import Run
from keras_suite.testing import assert_export_parity, read_litert_metadata

pytestmark = pytest.mark.slow
FORMATS = ["saved_model", "tflite"]


@pytest.mark.parametrize("app", APPS.names())
def test_every_app_trains_runs_its_examples_and_exports(app, trained, cli, tmp_path):
    run = trained(app)
    instance = APPS.get(app).load()()
    cfg = load_config(instance.config_cls, [run / "config.yaml"])
    examples = instance.examples(cfg, Run(run), tmp_path)
    assert examples, f"{app} shows no example"
    for command, args in examples:
        code, out, err = cli(app, command, f"run={run}", *(f"{k}={v}" for k, v in args.items()))
        assert code == 0 and out.strip(), (command, err)
    code, out, err = cli(app, "export", f"run={run}", f"export.out_dir={tmp_path / 'exports'}",
                         f"formats={','.join(FORMATS)}", "name=smoke")
    assert code == 0, err
    report = json.loads((tmp_path / "exports" / app / "smoke" / "parity.json").read_text())
    assert_export_parity(report, FORMATS)
    for metric in report.get("keras", {}):  # the app's own metric, scored for every format beside Keras
        assert all(metric in row and row["limits"][metric] is not None for row in report["formats"].values())
    # the .tflite file describes itself to a phone SDK: every tensor, the labels or vocabulary it refers to
    metadata, files = read_litert_metadata(tmp_path / "exports" / app / "smoke" / "model.tflite")
    assert metadata["name"] == f"keras-suite {app}" and metadata["version"] == run.name
    (subgraph,) = metadata["subgraph_metadata"]
    tensors = subgraph["input_tensor_metadata"] + subgraph["output_tensor_metadata"]
    assert all(t["description"] for t in tensors)
    for ref in [f for t in tensors for f in t.get("associated_files", [])] + metadata.get("associated_files", []):
        assert files[ref["name"]].strip(), ref
    # and which runtimes can run it
    compat = json.loads((tmp_path / "exports" / app / "smoke" / "compat.json").read_text())
    assert list(compat) == ["model.tflite"] and compat["model.tflite"]["targets"]["cpu"]["supported"] == "yes"
    assert "GPU delegate" in out and "model.tflite" in out
    # the model card: every file, and a Python example that runs as written
    card = (tmp_path / "exports" / app / "smoke" / "README.md").read_text()
    assert "## Files" in card and "`model.tflite`" in card and "```kotlin" in card
    example = card.split("```python\n")[1].split("```")[0]
    with contextlib.chdir(tmp_path / "exports" / app / "smoke"):
        exec(example, {})
