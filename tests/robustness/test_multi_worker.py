import json
import os
import random
import signal
import socket
import subprocess
import sys
import time

import pytest

from keras_suite.errors import UserError
from keras_suite.training import multi_worker


def _tf_config(monkeypatch, config):
    monkeypatch.setenv("TF_CONFIG", config if isinstance(config, str) else json.dumps(config))


def test_tf_config_is_checked_and_names_the_chief(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(UserError, match="needs TF_CONFIG"):
        multi_worker.cluster()
    _tf_config(monkeypatch, "{not json")
    with pytest.raises(UserError, match="TF_CONFIG is not valid"):
        multi_worker.cluster()
    _tf_config(monkeypatch, {"cluster": {"worker": ["a:1", "b:1"]}, "task": {"type": "worker", "index": 2}})
    with pytest.raises(UserError, match="task worker:2 is not in its cluster"):
        multi_worker.cluster()
    _tf_config(monkeypatch, {"cluster": {"worker": ["a:1", "b:1"]}, "task": {"type": "worker", "index": 0}})
    assert multi_worker.cluster() == ("worker", 0, 2) and multi_worker.is_chief()
    _tf_config(monkeypatch, {"cluster": {"chief": ["c:1"], "worker": ["a:1"]}, "task": {"type": "worker", "index": 0}})
    assert multi_worker.cluster() == ("worker", 0, 2) and not multi_worker.is_chief()


def _free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


@pytest.mark.slow
def test_two_workers_train_in_lockstep_and_only_the_chief_writes(tmp_path):
    """Two processes on 127.0.0.1 train the tiny U-Net with MultiWorkerMirroredStrategy."""
    outs = _train_on_two_workers(tmp_path, epochs=2)
    for out in outs:
        assert "with 2 replicas" in out and "Epoch 2/2" in out
    assert [p.name for p in (tmp_path / "runs").rglob("*") if p.parent == tmp_path / "runs"] == ["segmentation"]
    assert [p.name for p in (tmp_path / "runs" / "segmentation").iterdir()] == ["mw"]
    run = tmp_path / "runs" / "segmentation" / "mw"
    for name in ("model.keras", "history.csv", "metrics.json", "checkpoints/best.keras", "backup/state.json"):
        assert (run / name).is_file(), name
    assert len((run / "history.csv").read_text().strip().splitlines()) == 3
    assert [list((tmp_path / f"worker{i}").rglob("*")) for i in range(2)] == [[], []]  # no stray files
    scratch = [line.split(": ", 1)[1] for line in outs[1].splitlines() if line.startswith("run directory")]
    assert scratch and "keras-suite-worker-" in scratch[0] and not os.path.exists(scratch[0])  # removed at exit
    # The same command with more epochs: both workers restore the chief's backup and go on in lockstep.
    for out in _train_on_two_workers(tmp_path, epochs=3):
        assert "resuming after epoch 2" in out and "Epoch 3/3" in out and "Epoch 2/3" not in out
    assert len((run / "history.csv").read_text().strip().splitlines()) == 4
    assert [list((tmp_path / f"worker{i}").rglob("*")) for i in range(2)] == [[], []]


@pytest.mark.slow
def test_two_workers_train_an_app_with_decoding_callbacks(tmp_path):
    """The transformer's epoch-end BLEU (beam search) and attention previews run on both workers."""
    outs = _train_on_two_workers(tmp_path, epochs=1, app="transformer")
    assert all("val_bleu" in out for out in outs)
    assert (tmp_path / "runs" / "transformer" / "mw" / "model.keras").is_file()


@pytest.mark.slow
@pytest.mark.parametrize("fault", [signal.SIGKILL, signal.SIGSTOP], ids=["killed", "frozen"])
def test_a_lost_worker_stops_the_chief_with_one_line_and_the_same_commands_resume(tmp_path, fault):
    procs = _start_two_workers(tmp_path, epochs=8, stdout=subprocess.DEVNULL)
    state = tmp_path / "runs" / "segmentation" / "mw" / "backup" / "state.json"
    deadline = time.time() + 300
    while time.time() < deadline and not state.is_file() and procs[1].poll() is None:
        time.sleep(0.05)
    time.sleep(random.Random().uniform(0.0, 1.0))
    procs[1].send_signal(fault)
    _, err = procs[0].communicate(timeout=300)
    procs[1].kill()  # a frozen worker is ended here, as its user would
    procs[1].wait()
    assert procs[0].returncode == 2, err[-3000:]
    assert err.strip().splitlines()[-1].startswith("error: training stopped: another worker of the cluster stopped "
                                                   "responding"), err[-2000:]
    assert "Traceback" not in err
    for out in _train_on_two_workers(tmp_path, epochs=8):
        assert "resuming after epoch" in out and "Epoch 8/8" in out
    history = (tmp_path / "runs" / "segmentation" / "mw" / "history.csv").read_text().strip().splitlines()
    assert [row.split(",")[0] for row in history[1:]][-1] == "7"  # the last epoch (0-based) got logged


def _start_two_workers(tmp_path, epochs, app="segmentation", stdout=subprocess.PIPE):
    cluster = {"worker": [f"127.0.0.1:{p}" for p in _free_ports(2)]}
    procs = []
    for index in range(2):
        cwd = tmp_path / f"worker{index}"
        cwd.mkdir(exist_ok=True)
        env = {**os.environ, "TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})}
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "keras_suite", app, "train", "--config", "tiny",
             f"train.runs_dir={tmp_path / 'runs'}", "train.strategy=multi_worker", f"train.epochs={epochs}",
             "train.run_name=mw"], cwd=cwd, env=env, stdout=stdout, stderr=subprocess.PIPE, text=True))
    return procs


def _train_on_two_workers(tmp_path, epochs, app="segmentation"):
    """Both workers' stdout; asserts they succeeded and ended with the same weights digest."""
    procs = _start_two_workers(tmp_path, epochs, app)
    outs = [p.communicate(timeout=600) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err[-3000:]
    digests = [line for out, _ in outs for line in out.splitlines() if line.startswith("final weights digest")]
    assert len(digests) == 2 and digests[0] == digests[1]  # weights and BatchNorm statistics agree
    return [out for out, _ in outs]

