"""Run directories: `runs/<app>/<timestamp>/` with config.yaml, logs/, checkpoints/, previews/, JSON."""

import json
import os
import tempfile
import time
from pathlib import Path

from keras_suite.errors import UserError


def new_run_dir(runs_dir, app, name=None):
    """Create and return `runs_dir/app/<name>`, or a fresh `runs_dir/app/<YYYYmmdd-HHMMSS>[-k]` directory."""
    base = Path(runs_dir) / app
    base.mkdir(parents=True, exist_ok=True)
    if name:
        if Path(name).name != name or name in (".", ".."):
            raise UserError(f"train.run_name must be a plain folder name, got '{name}'")
        (base / name).mkdir(exist_ok=True)
        return base / name
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for k in range(1000):
        path = base / (stamp if k == 0 else f"{stamp}-{k}")
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue
    raise UserError(f"cannot create a new run directory under {base}")


def open_run(path, app, runs_dir="runs"):
    """Resolve `run=<dir>` (or `run=latest`) to an existing run directory holding config.yaml."""
    if str(path) == "latest":
        base = Path(runs_dir) / app
        runs = sorted((p for p in base.glob("*") if (p / "config.yaml").is_file()), key=lambda p: p.name)
        if not runs:
            raise UserError(f"no runs under {base}; train first: keras-suite {app} train")
        return runs[-1]
    path = Path(path)
    if not path.is_dir():
        raise UserError(f"run directory does not exist: {path}")
    if not (path / "config.yaml").is_file():
        raise UserError(f"{path} is not a run directory (no config.yaml)")
    return path


def process_ended(pid):
    """Whether no process `pid` runs any more (its temporary files can go)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # it runs, under another user
        return False
    return False


def default_permissions(path):
    """Give a file or folder made by mkstemp/mkdtemp (private, 0600/0700) the permissions the user's umask
    gives ordinary files, so artifacts written atomically are as readable as any other."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, (0o777 if os.path.isdir(path) else 0o666) & ~umask)


def read_json(path):
    with open(path) as f:
        return json.load(f)


def write_text(path, text):
    """Write a text file atomically (temp file in the same directory, then rename): a reader or a kill never
    sees half of it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=path.suffix, dir=path.parent)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    default_permissions(tmp)
    os.replace(tmp, path)
    return path


def write_json(path, obj):
    """Write JSON atomically (`write_text`)."""
    return write_text(path, json.dumps(obj, indent=2, default=float) + "\n")
