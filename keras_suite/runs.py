"""Runs: `<runs_dir>/<app>/<timestamp or train.run_name>/`, the one place that names what a run folder holds.

A run records which command made it and when that command last started (`run.json`), so
`run=latest` finds the app's most recently trained run whatever the folders are called.
"""

import os
import time
from pathlib import Path

from keras_suite.errors import UserError, printable
from keras_suite.files import process_ended, read_json, write_json

RECORD = "run.json"
LOCK = ".lock"  # the pid of the process training the run


def _inside(*parts):
    """A read-only attribute: the path `parts` inside the run folder."""
    return property(lambda run: run.path.joinpath(*parts))


class Run:
    """A run folder and the paths of everything in it.

    Shared names: `config` (the resolved config.yaml), `model` (model.keras, the final model), `logs/`
    (TensorBoard, `log_dir(name)` for a plugin's own run), `previews/` (PNGs, `preview(name)`), `backup/`
    (the resumable state of the last finished epoch), `best` (checkpoints/best.keras), `history` (CSV per
    epoch), `metrics` (metrics.json), `vocab` (vocab.json), `predictions/`, `report(kind, split)`
    (`eval_test.json`, `analysis_val.json`); an app's own files: `file(name)`.
    """

    def __init__(self, path):
        self.path = Path(path)

    def __fspath__(self):
        return str(self.path)

    def __str__(self):
        return str(self.path)

    def __repr__(self):
        return f"Run({str(self.path)!r})"

    def __eq__(self, other):
        return isinstance(other, Run) and other.path == self.path

    def __hash__(self):
        return hash(self.path)

    @property
    def name(self):
        return self.path.name

    config = _inside("config.yaml")
    model = _inside("model.keras")
    logs = _inside("logs")
    previews = _inside("previews")
    backup = _inside("backup")
    best = _inside("checkpoints", "best.keras")
    history = _inside("history.csv")
    metrics = _inside("metrics.json")
    vocab = _inside("vocab.json")
    predictions = _inside("predictions")

    def log_dir(self, name):
        return self.logs / name

    def preview(self, name):
        return self.previews / name

    def report(self, kind, split):
        return self.path / f"{kind}_{split}.json"

    def file(self, name):
        return self.path / name

    def record(self):
        """{"app", "command", "started"} as written by `started`, or None for a run made before records."""
        path = self.path / RECORD
        try:
            return read_json(path) if path.is_file() else None
        except (OSError, ValueError):
            return None

    def started(self, app, command):
        """Record that `command` of `app` starts working in this run now."""
        write_json(self.path / RECORD, {"app": app, "command": command, "started": time.time(),
                                        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")})
        return self

    def lock(self):
        """Hold the run for this process while it trains: a lock file with the pid, made in one step (a hard
        link), so two processes never train one run; a lock whose process ended is taken over."""
        path = self.path / LOCK
        mine = self.path / f"{LOCK}-{os.getpid()}"
        mine.write_text(str(os.getpid()))
        try:
            while True:
                try:
                    os.link(mine, path)
                    return self
                except FileExistsError:
                    holder = self._holder(path)
                    if holder and holder != os.getpid() and not process_ended(holder):
                        raise UserError(f"run {self.name} is being trained by pid {holder} ({self.path}); wait for it "
                                        f"to end or train under another train.run_name") from None
                    path.unlink(missing_ok=True)  # left by a process that ended
        finally:
            mine.unlink(missing_ok=True)

    def unlock(self):
        """Let the run go (only if this process holds it)."""
        path = self.path / LOCK
        if self._holder(path) == os.getpid():
            path.unlink(missing_ok=True)

    @staticmethod
    def _holder(path):
        try:
            return int(path.read_text().strip())
        except (OSError, ValueError):
            return None

    def start_time(self):
        """When the run's command last started: its record, or for older runs the time config.yaml was written."""
        record = self.record()
        if record and isinstance(record.get("started"), (int, float)):
            return float(record["started"])
        return self.config.stat().st_mtime

    def made_by(self, command):
        record = self.record()
        return record is None or record.get("command") == command  # runs made before records were all trained

    @classmethod
    def named(cls, runs_dir, app, name):
        """The run `runs_dir/app/<name>` (`train.run_name`), which may not exist yet."""
        if Path(name).name != name or name in (".", ".."):
            raise UserError(f"train.run_name must be a plain folder name, got '{printable(name)}'")
        return cls(Path(runs_dir) / app / name)

    @classmethod
    def create(cls, runs_dir, app, name=None):
        """A new `runs_dir/app/<YYYYmmdd-HHMMSS>[-k]` run, or `runs_dir/app/<name>` (created if needed)."""
        base = Path(runs_dir) / app
        if name:
            run = cls.named(runs_dir, app, name)
            run.path.mkdir(parents=True, exist_ok=True)
            return run
        base.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        for k in range(1000):
            path = base / (stamp if k == 0 else f"{stamp}-{k}")
            try:
                path.mkdir()
                return cls(path)
            except FileExistsError:
                continue
        raise UserError(f"cannot create a new run directory under {base}")

    @classmethod
    def open(cls, spec, app, runs_dir):
        """The run `spec` names: a run folder, or `latest`, the app's most recently started `train` run."""
        if str(spec) == "latest":
            base = Path(runs_dir) / app
            runs = [run for run in (cls(p) for p in base.glob("*") if (p / "config.yaml").is_file())
                    if run.made_by("train")]
            if not runs:
                raise UserError(f"no trained runs under {base}; train first: keras-suite {app} train")
            return max(runs, key=lambda run: (run.start_time(), run.name))
        path = Path(spec)
        if not path.is_dir():
            raise UserError(f"run directory does not exist: {path}")
        if not (path / "config.yaml").is_file():
            raise UserError(f"{path} is not a run directory (no config.yaml)")
        return cls(path)
