import os
import subprocess
import sys

import pytest

from keras_suite.files import replacing, sweep, write_json, write_text


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = write_text(tmp_path / "a.txt", "old")
    with pytest.raises(RuntimeError):
        with replacing(path) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed")
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["a.txt"]
    write_json(path, {"x": 1})
    assert path.read_text() == '{\n  "x": 1\n}\n'


def test_the_temporary_file_keeps_the_suffix_keras_and_pil_read(tmp_path):
    with replacing(tmp_path / "epoch0001.weights.h5") as tmp:
        assert tmp.name.endswith("-epoch0001.weights.h5") and tmp.name.startswith(f".tmp-{os.getpid()}-")
        tmp.write_bytes(b"w")


def test_sweep_removes_only_what_ended_processes_left(tmp_path):
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = tmp_path / f".tmp-{int(ended.stdout)}-abc-best.keras"
    live = tmp_path / f".tmp-{os.getpid()}-def-best.keras"
    for path in (dead, live):
        path.write_bytes(b"partial")
    sweep(tmp_path)
    assert not dead.exists() and live.exists()  # a live process (another trainer) keeps its temporary file
