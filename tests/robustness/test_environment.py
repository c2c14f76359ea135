"""Failures of the machine rather than the input (a read-only folder, a full disk, a second process, an interrupt,
a damaged backup): one line naming the path and the cause, exit code 3 (2 for what the user can fix), and the
last good state kept. Full and read-only disks are real: a small tmpfs in a mount namespace of the test's own
(`unshare`), gone when the command ends."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.slow
KS = f"{sys.executable} -m keras_suite"


def _in_small_disk(tmp_path, script, size="2m", read_only=False, setup=""):
    """Run `script` (sh) with DISK a fresh tmpfs of `size` mounted in a private mount namespace; `setup` runs
    before it is made read-only. Returns the CompletedProcess."""
    disk = tmp_path / "disk"
    disk.mkdir(exist_ok=True)
    remount = f"mount -o remount,ro {disk} && " if read_only else ""
    body = f"mount -t tmpfs -o size={size} tmpfs {disk} && DISK={disk} && {setup} {remount} {script}"
    command = ["unshare", "--mount", *([] if os.geteuid() == 0 else ["--map-root-user"]), "sh", "-c", body]
    if shutil.which("unshare") is None:
        pytest.skip("unshare is not installed")
    probe = subprocess.run(["unshare", "--mount", *([] if os.geteuid() == 0 else ["--map-root-user"]), "true"],
                           capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"no private mount namespace here: {probe.stderr.decode().strip()}")
    return subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=tmp_path,
                          env={**os.environ, "DISK": str(disk)})


def _one_error_line(proc, code):
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == code and len(lines) == 1 and lines[0].startswith("error: "), proc.stderr[-3000:]
    return lines[0]


def test_a_read_only_runs_folder_is_one_line_naming_it(tmp_path):
    proc = _in_small_disk(tmp_path, f"{KS} segmentation train --config tiny train.runs_dir=$DISK/runs",
                          read_only=True)
    line = _one_error_line(proc, 3)
    assert f"cannot write {tmp_path / 'disk' / 'runs'}" in line and "read-only file system" in line


def test_a_full_disk_while_resuming_keeps_the_last_good_backup(tmp_path, tiny_run):
    """The disk holds the run and 48 KB more: the next backup does not fit. The command says which file did not
    fit; the backup it had, and everything else of the run, stays as it was, with no temporary files left."""
    fill = ("dd if=/dev/zero of=$DISK/pad bs=1k count=48 2>/dev/null && "
            "(dd if=/dev/zero of=$DISK/fill bs=4k 2>/dev/null; true) && rm $DISK/pad &&")
    check = ("; echo; echo STATE; cat $DISK/run/backup/state.json; echo; echo FILES; "
             "find $DISK/run -name '.tmp-*'")
    proc = _in_small_disk(tmp_path, f"{KS} segmentation train resume=$DISK/run train.epochs=4 {check}", size="8m",
                          setup=f"cp -r {tiny_run} $DISK/run && {fill}")
    output = proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: cannot write {tmp_path / 'disk' / 'run'}"), proc.stderr
    assert "no space left on device" in lines[0]
    state = json.loads(output.split("STATE\n", 1)[1].split("\nFILES", 1)[0])
    assert state == json.loads((tiny_run / "backup" / "state.json").read_text())  # the last good backup
    assert output.split("FILES\n", 1)[1].strip() == ""  # no temporary file left behind


def test_a_full_disk_during_export_writes_nothing(tmp_path, tiny_run):
    proc = _in_small_disk(
        tmp_path, f"{KS} segmentation export run={tiny_run} export.out_dir=$DISK/exports formats=saved_model,tflite "
                  f"name=tiny; echo CODE $?; echo LEFT; ls -A $DISK/exports/segmentation", size="256k")
    assert "CODE 3" in proc.stdout, proc.stderr[-2000:]
    *progress, last = proc.stderr.strip().splitlines()  # export's progress lines, then the error
    assert last == f"error: cannot write {tmp_path / 'disk' / 'exports' / 'segmentation' / 'tiny'}: no space left " \
                   f"on device", proc.stderr
    assert progress and all(line.startswith(("export ", "export: ")) for line in progress), proc.stderr
    assert proc.stdout.split("LEFT\n", 1)[1].strip() == ""  # no half-written artifact, no temporary folder


def test_a_damaged_backup_says_so_and_what_to_do(cli, tiny_run, tmp_path):
    run = shutil.copytree(tiny_run, tmp_path / "run")
    (run / "backup" / "state.json").write_text('{"epoch": 2, "weig')
    code, _, err = cli("segmentation", "train", f"resume={run}", "train.epochs=3")
    assert code == 2 and err.count("\n") == 1
    assert f"the backup {run / 'backup'} is damaged (state.json cannot be read); move it away" in err
    (run / "backup" / "state.json").write_text(json.dumps({"epoch": 2, "weights": "epoch0009.weights.h5", "seeds": []}))
    code, _, err = cli("segmentation", "train", f"resume={run}", "train.epochs=3")
    assert code == 2 and "epoch0009.weights.h5 is missing" in err


def _start_training(tmp_path, *extra):
    # Ctrl-C reaches the child as in a terminal, whatever this process's own SIGINT disposition (pytest-xdist
    # workers and background jobs ignore it, and a child starting with it ignored would never see it).
    return subprocess.Popen([sys.executable, "-m", "keras_suite", "segmentation", "train", "--config", "tiny",
                             f"train.runs_dir={tmp_path}", "train.epochs=200", *extra],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def _wait_for(condition, proc, timeout=300):
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None and not condition():
        time.sleep(0.1)
    assert condition(), proc.stderr.read() if proc.poll() is not None else "timed out"


def test_a_second_training_of_the_same_run_is_refused_while_the_first_runs(cli, tmp_path):
    first = _start_training(tmp_path, "train.run_name=exp")
    run = tmp_path / "segmentation" / "exp"
    try:
        _wait_for(lambda: (run / "history.csv").is_file(), first)
        code, _, err = cli("segmentation", "train", "--config", "tiny", f"train.runs_dir={tmp_path}",
                           "train.run_name=exp")
        assert code == 2 and f"run exp is being trained by pid {first.pid}" in err and err.count("\n") == 1
        assert first.poll() is None  # the first one trains on, its temporary files untouched
    finally:
        first.kill()
        first.wait()
    # The killed process's lock is stale: the same command now continues the run.
    code, out, err = cli("segmentation", "train", "--config", "tiny", f"train.runs_dir={tmp_path}",
                         "train.run_name=exp", "train.epochs=1")
    assert code == 0, err
    assert not (run / ".lock").exists()


def test_an_interrupt_says_how_to_continue(tmp_path):
    proc = _start_training(tmp_path)
    _wait_for(lambda: any(tmp_path.glob("segmentation/*/history.csv")), proc)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    (run,) = list((tmp_path / "segmentation").iterdir())
    assert proc.returncode == 130, err[-3000:]
    assert err.strip().splitlines()[-1] == (f"interrupted; continue with: keras-suite segmentation train "
                                             f"resume={run}")


def test_a_yaml_alias_bomb_is_refused_at_once(cli, tmp_path):
    names = "abcdefghi"  # each level holds the previous one 9 times: 9**9 values once expanded
    levels = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    levels += [f"{name}: &{name} [{', '.join(['*' + previous] * 9)}]" for previous, name in zip(names, names[1:])]
    (tmp_path / "bomb.yaml").write_text("\n".join(levels) + "\n")
    assert (tmp_path / "bomb.yaml").stat().st_size < 400
    code, _, err = cli("segmentation", "train", "--config", str(tmp_path / "bomb.yaml"), f"train.runs_dir={tmp_path}")
    assert code == 2 and "uses the YAML alias *a" in err and len(err) < 300


def test_a_run_of_another_app_is_named_as_such(cli, trained, tmp_path):
    code, _, err = cli("face", "identify", f"run={trained('char_rnn')}", "image=x.png", "db=x.json")
    assert code == 2 and "belongs to the char_rnn app" in err


def test_a_full_disk_during_detection_convert_writes_nothing(tmp_path):
    import numpy as np
    from PIL import Image

    photos = tmp_path / "photos"
    photos.mkdir()
    rng = np.random.default_rng(0)
    for i in range(3):  # noise compresses badly: 3 x ~50 KB do not fit in 96 KB
        Image.fromarray(rng.integers(0, 255, (128, 128, 3), dtype=np.uint8)).save(photos / f"{i}.png")
    coco = {"images": [{"id": i, "file_name": f"{i}.png", "width": 128, "height": 128} for i in range(3)],
            "annotations": [{"id": 1, "image_id": 0, "category_id": 1, "bbox": [5, 5, 50, 50]}],
            "categories": [{"id": 1, "name": "thing"}]}
    (photos / "coco.json").write_text(json.dumps(coco))
    proc = _in_small_disk(tmp_path, f"{KS} detection convert src={photos / 'coco.json'} out=$DISK/yolo; echo CODE $?; "
                                    f"echo LEFT; ls -A $DISK/yolo", size="96k")
    assert "CODE 3" in proc.stdout, proc.stderr[-2000:]
    last = proc.stderr.strip().splitlines()[-1]
    assert last == f"error: cannot write {tmp_path / 'disk' / 'yolo' / 'train'}: no space left on device", proc.stderr
    assert proc.stdout.split("LEFT\n", 1)[1].strip() == ""  # no split, no folder half built, no classes.txt
