"""Shared test harness: layer checks, get_config round trips, .keras save/reload, export parity, the LiteRT
metadata read back, hand-made YOLO outputs."""

import contextlib
import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import keras
import numpy as np


def assert_config_roundtrip(obj):
    """`from_config(get_config())` rebuilds an equal config."""
    config = obj.get_config()
    clone = type(obj).from_config(config)
    assert clone.get_config() == config, (clone.get_config(), config)
    return clone


def assert_keras_roundtrip(model, inputs, directory, atol=1e-6):
    """Saving to .keras and loading with safe_mode=True gives the same outputs."""
    path = Path(directory) / f"{model.name}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    expected, actual = model.predict(inputs, verbose=0), loaded.predict(inputs, verbose=0)
    for e, a in zip(keras.tree.flatten(expected), keras.tree.flatten(actual)):
        np.testing.assert_allclose(a, e, atol=atol)
    return loaded


def run_layer_test(layer_cls, init_kwargs, input_shape, expected_output_shape, expected_trainable_weights,
                   expected_non_trainable_weights=0, directory=None, seed=0, positional=False, input_dtype="float32"):
    """Build `layer_cls(**init_kwargs)` on random input and check shapes, weight counts, config and .keras.

    `input_shape` is one shape, or a list of shapes passed as one list argument (UpBlock's [x, skip]) or,
    with `positional`, as separate arguments (a decoder block's (x, memory)). Integer `input_dtype`s draw
    token ids in [1, 10).
    """
    rng = np.random.default_rng(seed)
    shapes = input_shape if isinstance(input_shape, list) else [input_shape]
    if np.issubdtype(np.dtype(input_dtype), np.integer):
        arrays = [rng.integers(1, 10, size=s).astype(input_dtype) for s in shapes]
    else:
        arrays = [rng.normal(size=s).astype(input_dtype) for s in shapes]

    def apply(layer, values):
        if positional:
            return layer(*values)
        return layer(values if isinstance(input_shape, list) else values[0])

    layer = layer_cls(**init_kwargs)
    outputs = apply(layer, arrays)
    out_shapes = [tuple(o.shape) for o in keras.tree.flatten(outputs)]
    expected = expected_output_shape if isinstance(expected_output_shape, list) else [expected_output_shape]
    assert out_shapes == [tuple(e) for e in expected], (out_shapes, expected)
    assert len(layer.trainable_weights) == expected_trainable_weights, len(layer.trainable_weights)
    assert len(layer.non_trainable_weights) == expected_non_trainable_weights, len(layer.non_trainable_weights)
    assert_config_roundtrip(layer)
    if directory is not None:
        sym = [keras.Input(s[1:], dtype=input_dtype) for s in shapes]
        model = keras.Model(sym, apply(layer_cls(**init_kwargs), sym), name=f"{layer_cls.__name__.lower()}_model")
        assert_keras_roundtrip(model, arrays if len(arrays) > 1 else arrays[0], directory)
    return layer


def assert_export_parity(report, formats):
    """Every format in `formats` is in the export's parity report and passed its limits."""
    for name in formats:
        row = report["formats"][name]
        assert row["passed"], (name, row)
        assert row["bytes"] > 0, (name, row)


def assert_step_search_matches(cli, app, run, tmp_path, sources=12):
    """Export a translation run's in-graph beam search (model.tflite) and its step file (model_step.tflite), and
    check that the host-side search over the step file gives the same n-best, token for token, on `sources` random
    source sentences; that the GPU delegate's rules take the whole step file; and that it describes both signatures
    and labels the logits' vocabulary axis."""
    from keras_suite.decoding.host_beam import StepModelSearch
    from keras_suite.export import tflite

    code, _, err = cli(app, "export", f"run={run}", f"export.out_dir={tmp_path}", "name=m", "beam=4", "nbest=3",
                       "formats=tflite,tflite_step")
    assert code == 0, err
    target = tmp_path / app / "m"
    whole = tflite.Runner((target / "model.tflite").read_bytes())
    meta = json.loads((target / "metadata.json").read_text())
    ids = meta["special_ids"]
    search = StepModelSearch(tflite.interpreter((target / "model_step.tflite").read_bytes()), meta["search"]["alpha"],
                             3, meta["search"]["max_length"], ids["start"], ids["end"])
    assert search.width == 4
    length = whole.runner.get_input_details()["source"]["shape"][1]
    vocab = len(meta["tokenizers"]["source"]["tokens"]) + 4
    rng = np.random.default_rng(0)
    for _ in range(sources):  # sentences the model never saw: random ids, then padding
        source = np.zeros((1, length), np.int32)
        n = rng.integers(1, length + 1)
        source[0, :n] = rng.integers(4, vocab, n)
        expected, got = whole(source=source), search(source=source)
        np.testing.assert_array_equal(got["tokens"], expected["tokens"])
        np.testing.assert_allclose(got["scores"], expected["scores"], atol=1e-4)
    gpu = json.loads((target / "compat.json").read_text())["model_step.tflite"]["targets"]["gpu"]
    assert gpu["supported"] == "yes", gpu  # both signatures whole on the GPU delegate, by its published rules
    metadata, files = read_litert_metadata(target / "model_step.tflite")
    graphs = {g["name"]: g for g in metadata["subgraph_metadata"]}
    assert sorted(graphs) == ["decode_step", "encode"] and set(files) == {"source_vocab.txt", "target_vocab.txt"}
    logits = next(t for t in graphs["decode_step"]["output_tensor_metadata"] if t["name"] == "logits")
    assert logits["associated_files"] == [{"name": "target_vocab.txt", "description": "target token of each id",
                                           "type": "TENSOR_AXIS_LABELS"}]
    card = (target / "README.md").read_text()  # the model card shows how to drive the file, and that runs
    usage = card.split("Driving `model_step.tflite`")[1].split("```python\n")[1].split("```")[0]
    with contextlib.chdir(target):
        exec(usage, {})


def perfect_yolo_head(grid, targets):
    """Raw YOLO head outputs (N, P, 5 + C) that an `AnchorGrid` decodes exactly to `assign_targets` output
    `targets`, with confident objectness and classes: a model that is right everywhere."""
    raw = np.zeros(targets.shape, np.float32)
    raw[..., 4] = -20.0
    raw[..., 5:] = -20.0
    for n, p in zip(*np.nonzero(targets[..., 4])):
        size = grid.grid_size[p, 0]
        offset = (targets[n, p, :2] * size - grid.cells[p] + 0.5) / 2  # the sigmoid of the centre's raw values
        raw[n, p, :2] = np.log(offset / (1 - offset))
        raw[n, p, 2:4] = np.log(targets[n, p, 2:4] / grid.anchor_wh[p])
        raw[n, p, 4] = 20.0
        raw[n, p, 5:] = np.where(targets[n, p, 5:] > 0, 20.0, -20.0)
    return raw


def read_litert_metadata(path):
    """What a .tflite file says of itself, read independently of the writer: the TFLITE_METADATA buffer found
    through the LiteRT model schema's generated reader, decoded by the reference FlatBuffers compiler (`flatc`,
    a test dependency) from the published metadata schema, and the associated files read with `zipfile`.

    Returns (ModelMetadata as flatc's JSON, {associated file name: bytes}).
    """
    from ai_edge_litert import schema_py_generated as schema

    data = Path(path).read_bytes()
    model = schema.Model.GetRootAs(data, 0)
    entries = {model.Metadata(i).Name().decode(): model.Metadata(i).Buffer() for i in range(model.MetadataLength())}
    assert "TFLITE_METADATA" in entries, f"{path} has no TFLITE_METADATA buffer, only {sorted(entries)}"
    buffer = model.Buffers(entries["TFLITE_METADATA"]).DataAsNumpy().tobytes()
    assert buffer[4:8] == b"M001", "not a metadata flatbuffer (file identifier M001)"
    flatc = Path(sys.executable).with_name("flatc")
    flatc = str(flatc) if flatc.is_file() else shutil.which("flatc")
    schema_file = Path(__file__).parent / "export" / "metadata_schema.fbs"
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "metadata.bin").write_bytes(buffer)
        subprocess.run([flatc, "--json", "--strict-json", "--raw-binary", "-o", folder, str(schema_file), "--",
                        str(Path(folder) / "metadata.bin")], check=True, capture_output=True)
        metadata = json.loads((Path(folder) / "metadata.json").read_text())
    if not zipfile.is_zipfile(path):
        return metadata, {}
    with zipfile.ZipFile(path) as archive:
        return metadata, {name: archive.read(name) for name in archive.namelist()}
