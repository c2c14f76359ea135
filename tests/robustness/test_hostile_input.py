"""Every command of every app, fed bad input: exit code 2, one line on stderr, no traceback, nothing touched.

The runs are stand-ins (a run directory holding only the resolved tiny config), so each case stops at the
input check it targets, before any model is loaded or trained."""

import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from keras_suite.apps import APPS
from keras_suite.cli import CONFIG_DIR, main
from keras_suite.config import load_config, save_config

GENERIC = [  # (what, extra arguments, expected text in the error line)
    ("mistyped config key", ["train.epoch=3"], "did you mean 'train.epochs'"),
    ("unknown argument", ["bogus=1"], "unknown argument 'bogus'"),
    ("negative count", ["train.batch_size=-4"], "must not be negative"),
    ("zero size", ["train.epochs=0"], "must be at least 1"),
    ("wrong type", ["train.seed=abc"], "expects int"),
    ("non-finite number", ["train.learning_rate=1e999"], "must be a finite number"),
    ("huge integer", ["train.batch_size=99999999999999999999"], "train.batch_size must be in [1, 65536]"),
    ("unknown optimizer", ["train.optimizer=adagrad"], "train.optimizer must be one of adam, adamw, sgd"),
    ("a value of 20,000 characters", ["train.precision=" + "x" * 20_000], "... (20,000 characters)"),
    ("non-UTF-8 argument", ["train.run_name=caf\udce9"], "is not valid UTF-8 text"),
    ("missing config file", ["--config", "{files}/missing.yaml"], "config file not found"),
    ("non-UTF-8 config file", ["--config", "{files}/latin1.yaml"], "cannot parse config file"),
    ("config file not a mapping", ["--config", "{files}/list.yaml"], "must hold a mapping"),
    ("unknown key in config file", ["--config", "{files}/typo.yaml"], "unknown config key 'train.epohcs'"),
]
RUN = [
    ("no run", [], "needs run=<run dir>"),
    ("missing run", ["run={files}/nowhere"], "run directory does not exist"),
    ("folder that is not a run", ["run={files}/folder"], "is not a run directory"),
]
IMAGES = [
    ("missing image", "{files}/missing.png", "image not found"),
    ("zero-byte image", "{files}/empty.png", "cannot read image"),
    ("truncated image", "{files}/truncated.png", "cannot read image"),
    ("random bytes named .jpg", "{files}/random.jpg", "cannot read image"),
    ("symlink loop", "{files}/loop.png", "is a symlink loop"),
    ("over the pixel limit", "{files}/big.png", "over the limit of 1000000 pixels"),
    ("empty folder", "{files}/folder", "no images"),
]
TEXTS = [
    ("missing text file", "{files}/missing.txt", "not found"),
    ("empty text file", "{files}/empty.txt", "empty"),
    ("non-UTF-8 text file", "{files}/latin1.txt", "UTF-8"),
]


def _image_cases(app, command, key, before=(), single=False):
    """`single`: the argument takes one image file, so a folder is refused as such."""
    return [(app, command, what, [*before, f"{key}={path}", "data.max_pixels=1000000"],
             "is a folder; give an image file" if single and what == "empty folder" else pattern)
            for what, path, pattern in IMAGES]


SPECIFIC = [
    *_image_cases("segmentation", "predict", "image"),
    *_image_cases("detection", "predict", "image"),
    *_image_cases("style", "predict", "image"),
    *_image_cases("style", "stylize", "content", single=True),
    *_image_cases("style", "stylize", "style", ["content=chelsea"], single=True),
    *_image_cases("face", "verify", "a", ["b={files}/face.png"], single=True),
    *_image_cases("face", "enroll", "images", ["identity=ada", "db={files}/db.json"]),
    *_image_cases("face", "identify", "image", ["db={files}/db.json"], single=True),
    *_image_cases("captioning", "caption", "image"),
    ("captioning", "caption", "n-best beyond the beam", ["image={files}/face.png", "beam=2", "nbest=3"],
     "1 <= nbest <= beam"),
    ("captioning", "train", "size the encoder cannot divide", ["data.image_size=36"], "must be divisible by 8"),
    ("captioning", "train", "folder without captions", ["source=folder:{files}/folder"], "needs captions.tsv"),
    *_image_cases("autoencoder", "reconstruct", "image"),
    *_image_cases("autoencoder", "interpolate", "a", ["b={files}/face.png"], single=True),
    ("autoencoder", "interpolate", "one end only", ["a={files}/face.png"], "needs both a=<image> and b=<image>"),
    ("autoencoder", "interpolate", "a single step", ["steps=1"], "must be at least 2"),
    ("autoencoder", "sample", "no samples", ["n=0"], "must be at least 1"),
    ("autoencoder", "train", "size the encoder cannot halve", ["data.image_size=30"], "must be divisible by 4"),
    ("autoencoder", "train", "folder without images", ["source=folder:{files}/folder"], "holds no images"),
    ("autoencoder", "train", "missing folder", ["source=folder:{files}/nowhere"], "is not a folder"),
    ("autoencoder", "train", "unknown source", ["source=mnist"], "data.source"),
    ("autoencoder", "train", "noise beyond the pixels", ["data.noise_amount=2"], "data.noise_amount must be"),
    *[case for app in ("segmentation", "detection", "face", "style", "autoencoder")
      for case in _image_cases(app, "visualize", "image", single=True)],
    *_image_cases("face", "visualize", "b", single=True),
    *[(app, "visualize", "unknown class", ["class=dragon"], "class 'dragon' is not one of the run's classes")
      for app in ("segmentation", "detection")],
    ("autoencoder", "visualize", "negative channel", ["channels=[3,-1]"], "must not be negative"),
    ("style", "visualize", "no steps", ["visualize.steps=0"], "must be at least 1"),
    ("segmentation", "attack", "unknown target", ["attack.target=dragon"], "attack.target 'dragon' is not one of"),
    ("detection", "attack", "a target it cannot take", ["attack.target=digit_3"], "attack.target is not available"),
    *[(app, "attack", "negative budget", ["epsilons=[1,-2]"], "must not be negative")
      for app in ("segmentation", "detection", "face")],
    ("face", "attack", "unknown norm", ["norm=l1"], "attack.norm must be one of linf, l2"),
    ("face", "attack", "missing tflite file", ["tflite={files}/missing.tflite"], "tflite file not found"),
    ("detection", "attack", "tflite file of random bytes", ["tflite={files}/random.jpg"], "cannot run"),
    ("style", "stylize", "negative size", ["content=chelsea", "size=-5"], "must not be negative"),
    ("style", "stylize", "no content", [], "stylize needs content="),
    ("face", "enroll", "non-printable name", ["identity=\x07", "images={files}/face.png", "db={files}/db.json"],
     "printable"),
    ("detection", "anchors", "negative count", ["k=-2"], "k must be"),
    *[("char_rnn", "train", what, [f"corpus={path}"], pattern) for what, path, pattern in TEXTS],
    ("char_rnn", "generate", "empty prime", ["prime="], "prime must not be empty"),
    ("char_rnn", "generate", "negative length", ["length=-1"], "must not be negative"),
    ("char_rnn", "generate", "length over the bound", ["length=100000000"], "over generate.max_length (100,000)"),
    ("segmentation", "train", "size the U-Net cannot halve", ["data.image_size=33"], "must be divisible by 16"),
    ("segmentation", "train", "data beyond memory", ["data.image_size=4096", "data.num_train=100000"],
     "would take about"),
    ("detection", "train", "size the strides do not divide", ["data.image_size=100"],
     "divisible by the largest stride (16)"),
    ("face", "train", "size too small for the stages", ["data.image_size=8"], "too small for 4 stages"),
    *[(app, "train", what, [f"source=tsv:{path}"], pattern) for app in ("seq2seq", "transformer")
      for what, path, pattern in TEXTS],
    *[(app, "translate", what, [f"file={path}"], pattern) for app in ("seq2seq", "transformer")
      for what, path, pattern in TEXTS],
    *[(app, "translate", "empty text", ["text= "], "not empty") for app in ("seq2seq", "transformer")],
    *[(app, "export", "path in export name", ["name=../../elsewhere"], "plain folder name")
      for app in APPS.names()],
    *[(app, "export", "unknown format", ["formats=saved_model,onnx"], "unknown export format 'onnx'")
      for app in APPS.names()],
    *[(app, "export", "no format", ["formats="], "export.formats is empty") for app in APPS.names()],
]


def _cases():
    cases = []
    for app in APPS.names():
        for command, spec in APPS.get(app).commands.items():
            base = ["run={runs}/" + app] if "run" in spec.arguments else []
            if app == "style" and command == "stylize":
                base = ["content=chelsea"]
            cases += [(app, command, what, [*base, *args], pattern) for what, args, pattern in GENERIC]
            if "run" in spec.arguments:
                cases += [(app, command, what, args, pattern) for what, args, pattern in RUN]
    for app, command, what, args, pattern in SPECIFIC:
        spec = APPS.get(app).commands[command]
        cases.append((app, command, what, (["run={runs}/" + app] if "run" in spec.arguments else []) + args, pattern))
    return cases


CASES = _cases()


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Bad files and stand-in runs under one folder; returns (root, files, runs)."""
    root = tmp_path_factory.mktemp("hostile")
    files, runs = root / "files", root / "runs"
    files.mkdir()
    (files / "folder").mkdir()
    (files / "empty.png").write_bytes(b"")
    (files / "random.jpg").write_bytes(np.random.default_rng(0).bytes(2048))
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (64, 64, 3), np.uint8)).save(files / "face.png")
    (files / "truncated.png").write_bytes((files / "face.png").read_bytes()[:300])
    (files / "loop.png").symlink_to(files / "loop2.png")
    (files / "loop2.png").symlink_to(files / "loop.png")
    Image.new("RGB", (1500, 1000)).save(files / "big.png")
    (files / "empty.txt").write_bytes(b"")
    (files / "latin1.txt").write_bytes("caf\xe9\tcaf\xe9 cr\xe8me\n".encode("latin-1"))
    (files / "latin1.yaml").write_bytes("train:\n  run_name: caf\xe9\n".encode("latin-1"))
    (files / "list.yaml").write_text("- train\n- epochs\n")
    (files / "typo.yaml").write_text("train:\n  epohcs: 3\n")
    for app in APPS.names():
        (runs / app).mkdir(parents=True)
        save_config(load_config(APPS.get(app).config_cls, [CONFIG_DIR / app / "tiny.yaml"]), runs / app / "config.yaml")
    return root, files, runs


def _tree(root):
    return {str(p.relative_to(root)): (p.lstat().st_size, p.lstat().st_mtime_ns) for p in root.rglob("*")}


@pytest.mark.parametrize("app, command, what, args, pattern", CASES,
                         ids=[f"{c[0]}-{c[1]}-{c[2].replace(' ', '_')}" for c in CASES])
def test_bad_input_is_one_clear_line_and_exit_2(world, capsys, monkeypatch, app, command, what, args, pattern):
    root, files, runs = world
    monkeypatch.chdir(root)  # anything written relative to the working directory shows up in the tree
    argv = [app, command, *[a.format(files=files, runs=runs) for a in args], f"train.runs_dir={root / 'new_runs'}",
            f"export.out_dir={root / 'exports'}"]
    if any(a.startswith("--config") for a in args):  # keep the file's own error first
        argv = [app, command, *[a.format(files=files, runs=runs) for a in args]]
    before = _tree(root)
    try:
        code = main(argv)
    except SystemExit as e:  # argparse usage errors
        code = e.code
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == 2, (what, err)
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    assert pattern in lines[0], lines[0]
    assert _tree(root) == before, f"{what}: files changed"
    assert os.getcwd() == str(root)


def test_every_command_of_every_app_is_covered():
    covered = {(app, command) for app, command, *_ in CASES}
    assert covered == {(app, c) for app in APPS.names() for c in APPS.get(app).commands}
    assert len(CASES) >= 500


def test_non_utf8_bytes_on_the_command_line(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "keras_suite", "transformer", "translate", b"text=caf\xe9",
                           "run=latest", f"train.runs_dir={tmp_path}"], capture_output=True, cwd=tmp_path, timeout=300)
    err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
    assert proc.returncode == 2 and err[-1] == "error: argument 'text=...' is not valid UTF-8 text", err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("model", ["lambda", "random bytes", "truncated"])
def test_unsafe_or_damaged_model_files_are_refused(world, capsys, tmp_path, model):
    """A run whose model.keras holds code (a Lambda layer) or is damaged: one line, exit 2, nothing run."""
    import keras

    _, files, runs = world
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.yaml").write_bytes((runs / "segmentation" / "config.yaml").read_bytes())
    inputs = keras.Input((8, 8, 3))
    keras.Model(inputs, keras.layers.Lambda(lambda x: x * 2)(inputs)).save(tmp_path / "lambda.keras")
    data = (tmp_path / "lambda.keras").read_bytes()
    (run / "model.keras").write_bytes({"lambda": data, "random bytes": os.urandom(4096),
                                       "truncated": data[:len(data) // 2]}[model])
    code = main(["segmentation", "predict", f"run={run}", f"image={files / 'face.png'}"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith(f"error: cannot load {run / 'model.keras'}"), err
    assert model != "lambda" or "safe_mode refuses" in err[0]
    assert sorted(p.name for p in run.iterdir()) == ["config.yaml", "model.keras"]

