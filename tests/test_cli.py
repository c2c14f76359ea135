import re
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from keras_suite.cli import main


def _one_line_error(code, err, pattern):
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert pattern in lines[0], lines[0]
    assert "Traceback" not in err


def test_list(cli):
    code, out, _ = cli("list")
    assert code == 0 and "segmentation" in out and "U-Net" in out


@pytest.mark.parametrize("args, pattern", [
    (["train.epoch=3"], "did you mean 'train.epochs'"),
    (["train.epochs=abc"], "'train.epochs' expects int, got 'abc'"),
    (["resum=runs/x"], "unknown argument 'resum'"),
    (["resume=/nonexistent/run"], "run directory does not exist"),
    (["data.source=folder:/nonexistent"], "must contain images/ and masks/"),
    (["loss.name=hinge"], "loss.name must be one of"),
    (["--config", "/nonexistent.yaml"], "config file not found"),
])
def test_train_bad_input(cli, args, pattern):
    _one_line_error(*cli("segmentation", "train", *args)[::2], pattern)


def test_argparse_errors_are_one_line(cli, capsys):
    with pytest.raises(SystemExit) as exc:
        cli("segmentation", "fly")
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "invalid choice" in err


def test_folder_mask_out_of_range(cli, tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    for i in range(4):
        Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "images" / f"{i}.png")
        Image.fromarray(np.full((8, 8), 9, np.uint8)).save(tmp_path / "masks" / f"{i}.png")
    code, _, err = cli("segmentation", "train", f"data.source=folder:{tmp_path}",
                       "data.class_names=bg,fg", f"train.runs_dir={tmp_path / 'runs'}")
    _one_line_error(code, err, "has label 9, outside the 2 configured classes")


@pytest.mark.slow
def test_run_commands_bad_input(cli, tmp_path, tiny_run):
    _one_line_error(*cli("segmentation", "evaluate", "run=/nonexistent")[::2], "does not exist")
    _one_line_error(*cli("segmentation", "evaluate")[::2], "needs run=<run dir>")
    _one_line_error(*cli("segmentation", "evaluate", f"run={tmp_path}")[::2], "not a run directory")
    predict = ("segmentation", "predict", f"run={tiny_run}")
    _one_line_error(*cli(*predict, f"image={tmp_path / 'missing.png'}")[::2], "image not found")
    (tmp_path / "corrupt.jpg").write_bytes(np.random.default_rng(0).bytes(300))
    _one_line_error(*cli(*predict, f"image={tmp_path / 'corrupt.jpg'}")[::2], "cannot read image")
    Image.fromarray(np.zeros((10, 10), np.uint8)).save(tmp_path / "gray.png")  # grayscale is read as RGB
    assert cli(*predict, f"image={tmp_path / 'gray.png'}", f"out={tmp_path / 'out'}")[0] == 0
    (tmp_path / "empty.png").write_bytes(b"")
    _one_line_error(*cli(*predict, f"image={tmp_path / 'empty.png'}")[::2], "cannot read image")
    target = tmp_path / "exports" / "segmentation" / "taken"
    target.mkdir(parents=True)
    (target / "keep.txt").write_text("precious")
    code, _, err = cli("segmentation", "export", f"run={tiny_run}", f"export.out_dir={tmp_path / 'exports'}",
                       "name=taken")
    _one_line_error(code, err, "exists and is not empty")
    assert (target / "keep.txt").read_text() == "precious" and len(list(target.iterdir())) == 1


def test_entry_point_prints_no_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "keras_suite", "segmentation", "evaluate", "run=/nonexistent"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert proc.returncode == 2
    # The whole of stderr: TensorFlow's start-up notices (absl, oneDNN) do not come before the line.
    assert proc.stderr.strip().splitlines() == ["error: run directory does not exist: /nonexistent"], proc.stderr


def test_app_help_lists_each_command_with_its_arguments(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["face", "--help"])
    out = capsys.readouterr().out
    assert exit_.value.code == 0
    assert re.search(r"enroll +add a person's photos to an enrollment database", out)
    assert "run=... identity=... images=... db=..." in out and "[formats=...] [name=...]" in out


@pytest.mark.parametrize("args, message", [
    (["face", "enroll", "images=a.jpg"], "face enroll needs run=<run dir>"),  # in order: run first
    (["style", "stylize"], "style stylize needs content=<image or built-in name: astronaut"),
])
def test_required_arguments_come_from_the_command_schema(cli, tmp_path, args, message):
    _one_line_error(*cli(*args, f"train.runs_dir={tmp_path}")[::2], message)
    assert list(tmp_path.iterdir()) == []


def test_list_and_help_answer_without_tensorflow():
    """`list`, `--help` and every `<app> <command> --help` run without importing TensorFlow (what makes them
    answer at once; their speed itself is measured, not asserted)."""
    script = ("import contextlib, io, sys\n"
              "from keras_suite.apps import APPS\n"
              "from keras_suite.cli import main\n"
              "with contextlib.redirect_stdout(io.StringIO()):\n"
              "    assert main(['list']) == 0\n"
              "    for argv in (['--help'], ['face', '--help']):\n"
              "        try: main(argv)\n"
              "        except SystemExit as e: assert e.code == 0\n"
              "    for app in APPS.names():\n"
              "        for command in APPS.get(app).commands:\n"
              "            assert main([app, command, '--help']) == 0\n"
              "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))\n")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


@pytest.mark.parametrize("app, command", [("face", "enroll"), ("char_rnn", "generate"), ("transformer", "export")])
def test_command_help_lists_its_arguments_and_the_config(cli, app, command):
    from keras_suite.apps import APPS

    code, out, _ = cli(app, command, "--help")
    spec = APPS.get(app)
    assert code == 0 and out.startswith(f"usage: keras-suite {app} {command} run=<run dir> (or run=latest)")
    assert spec.commands[command].help in out
    for argument in spec.commands[command].required:
        assert f"  {argument}" in out and "required: " in out
    for argument in spec.commands[command].optional:
        assert any(line.split()[:2] in ([argument, "optional"], [argument, "optional:"], [argument, "optional,"])
                   for line in out.splitlines()), argument
    for section in ("train", "export"):
        assert f"\n  {section}:\n" in out
    assert "    epochs = " in out and "(>= 1, <= 100000)" in out
    assert "    optimizer = adam  (adam|adamw|sgd)" in out
    if command == "export":  # what an optional argument takes, when there is a hint for it
        assert "  formats    optional: saved_model,tflite,..., sets export.formats" in out


def test_command_help_shows_the_app_defaults_and_aliases(cli):
    code, out, _ = cli("char_rnn", "generate", "--help")
    assert "  prime        optional, sets generate.prime" in out
    assert "    cell = lstm  (lstm|gru|simple_rnn|transformer)" in out
    assert "    steps_per_epoch = 250" in out  # the app's train defaults, not the shared ones


def test_output_into_a_closed_pipe_ends_quietly():
    proc = subprocess.Popen([sys.executable, "-m", "keras_suite", "embeddings", "train", "--help"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before the command writes (as `| head` that has read enough)
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 141 and "Traceback" not in err and "BrokenPipe" not in err
