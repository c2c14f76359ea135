"""Faults injected into real runs: SIGKILL during training and during export."""

import csv
import json
import os
import random
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest

import keras_suite.layers  # noqa: F401 - registers the custom layers the saved models use
from keras_suite.apps.face.database import FaceDatabase
from keras_suite.export import recover

pytestmark = pytest.mark.slow


def _cli(*args):
    return [sys.executable, "-m", "keras_suite", *args]


def _kill_when(proc, ready, delay, timeout=300):
    """SIGKILL `proc` `delay` seconds after `ready()` first holds; True if it was still running then."""
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None and not ready():
        time.sleep(0.02)
    time.sleep(delay)
    alive = proc.poll() is None
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return alive


def _backed_up(run):
    """The last epoch the run's backup holds (0 before the first)."""
    try:
        return json.loads((run / "backup" / "state.json").read_text())["epoch"]
    except (OSError, ValueError):
        return 0


@pytest.mark.parametrize("app, extra", [
    ("char_rnn", ["train.steps_per_epoch=8"]),
    ("transformer", ["train.steps_per_epoch=2"]),
    ("segmentation", ["data.zoom=0.1", "data.translate=0.1"]),  # augmentation draws are replayed too
])
def test_sigkill_at_a_random_step_then_the_same_command_ends_with_the_same_weights(tmp_path, app, extra):
    def command(name):
        return _cli(app, "train", "--config", "tiny", f"train.runs_dir={tmp_path}", "train.epochs=6",
                    f"train.run_name={name}", *extra)

    whole = subprocess.run(command("whole"), capture_output=True, text=True, timeout=600)
    assert whole.returncode == 0, whole.stderr[-2000:]
    # The kill lands at a random moment of a random epoch from the 2nd to the 5th: a fixed delay would let a fast
    # machine finish the run (and write model.keras) first. The whole run's log gives this machine's epoch time.
    with open(tmp_path / app / "whole" / "history.csv") as f:
        wall = [float(row["wall_seconds"]) for row in csv.DictReader(f)]
    rng = random.Random()
    after, delay = rng.randint(1, 4), rng.uniform(0.0, 0.9 * (wall[-1] - wall[1]) / (len(wall) - 2))
    run = tmp_path / app / "killed"
    proc = subprocess.Popen(command("killed"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert _kill_when(proc, lambda: _backed_up(run) >= after, delay), "finished before the kill"
    assert not (run / "model.keras").exists(), f"killed {delay:.2f} s after epoch {after} was backed up"
    again = subprocess.run(command("killed"), capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "resuming after epoch" in again.stdout and "Epoch 6/6" in again.stdout
    expected = keras.saving.load_model(tmp_path / app / "whole" / "model.keras", compile=False).get_weights()
    actual = keras.saving.load_model(run / "model.keras", compile=False).get_weights()
    for a, b in zip(expected, actual):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6, err_msg=f"killed {delay:.2f} s after epoch {after}")
    assert len((run / "history.csv").read_text().strip().splitlines()) == 1 + 6


def _snapshot(folder):
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_killed_export_leaves_the_old_artifact_or_none_and_the_next_export_cleans_up(tmp_path, tiny_run):
    out = tmp_path / "exports"
    base = ("segmentation", "export", f"run={tiny_run}", f"export.out_dir={out}", "formats=saved_model,tflite")
    first = subprocess.run(_cli(*base, "name=kept"), capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stderr[-2000:]
    kept = _snapshot(out / "segmentation" / "kept")
    folder = out / "segmentation"
    for name, extra in (("kept", ["overwrite=true"]), ("fresh", [])):
        proc = subprocess.Popen(_cli(*base, f"name={name}", *extra), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        assert _kill_when(proc, lambda: any(folder.glob(f".{name}.tmp-*")), random.Random().uniform(0.0, 1.0))
        assert _snapshot(folder / "kept") == kept  # the old artifact is whole, untouched by the killed overwrite
        assert not (folder / "fresh").exists()
    again = subprocess.run(_cli(*base, "name=fresh"), capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-2000:]
    assert sorted(p.name for p in folder.iterdir()) == ["fresh", "kept"]  # the killed runs' leftovers are gone
    assert {"saved_model", "model.tflite", "parity.json", "metadata.json", "model.keras"} <= {
        p.name for p in (folder / "fresh").iterdir()}


def test_recover_puts_back_an_artifact_moved_aside_by_a_killed_export(tmp_path):
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    moved = tmp_path / f".model.old-{ended.pid}"
    moved.mkdir()
    (moved / "model.tflite").write_bytes(b"old")
    (tmp_path / f".model.tmp-{ended.pid}-abc").mkdir()
    running = tmp_path / f".model.tmp-{os.getpid()}-def"  # a live export's folder stays
    running.mkdir()
    recover(tmp_path)
    assert (tmp_path / "model" / "model.tflite").read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == [running.name, "model"]


def test_killed_database_writes_leave_a_whole_database(tmp_path):
    """A process saving the face database in a loop is killed at random moments; the file always opens."""
    path = tmp_path / "db.json"
    writer = (
        "import sys, numpy as np\n"
        "from keras_suite.apps.face.database import FaceDatabase\n"
        f"db = FaceDatabase.open({str(path)!r}, 64, 'model', create=True)\n"
        "for i in range(100000):\n"
        "    db.add(f'person{i % 50}', np.random.default_rng(i).normal(size=(4, 64)), ['x.jpg'] * 4)\n"
        "    db.save()\n"
        "    print(i, flush=True)\n")
    rng = random.Random()
    for _ in range(3):
        proc = subprocess.Popen([sys.executable, "-c", writer], stdout=subprocess.PIPE, text=True)
        proc.stdout.readline()  # one save done
        assert _kill_when(proc, lambda: True, rng.uniform(0.05, 0.5))
        FaceDatabase.open(path, 64, "model")  # raises if the file were half-written or damaged
    db = FaceDatabase.open(path, 64, "model")
    db.save()
    assert [p.name for p in tmp_path.iterdir()] == ["db.json"]  # the killed writers' temporary files are gone

