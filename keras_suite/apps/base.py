"""The App interface the CLI dispatches to: a config schema and commands taking key=value arguments."""

import zipfile
from pathlib import Path

import keras

from keras_suite import multi_worker
from keras_suite.config import load_config
from keras_suite.errors import UserError, closest
from keras_suite.export import EXPORTERS, check_target
from keras_suite.images import set_max_pixels
from keras_suite.registry import Registry
from keras_suite.runs import new_run_dir, open_run

APPS = Registry("app")


class App:
    """A task app. Subclasses set `name`, `description`, `config_cls`, `commands` and define the
    command methods: `method(cfg, args)` where `args` holds the plain (undotted) arguments.

    `commands` maps each command to its accepted plain arguments; `run=<dir>` (and `resume=<dir>`
    for train) start from that run's saved config.yaml. `aliases` map short plain arguments to
    dotted config keys (formats=... -> export.formats=...). `train` with `train.run_name=NAME` writes
    `<runs_dir>/<app>/NAME`; running the same command again continues that run where it stopped.
    """

    name = ""
    description = ""
    config_cls = None
    commands = {}
    aliases = {}

    def run(self, command, config_files, dotted, plain):
        allowed = self.commands[command]
        for key in plain:
            if key not in allowed:
                hint = closest(key, allowed)
                raise UserError(f"unknown argument '{key}' for '{self.name} {command}'{hint}; "
                                f"accepted: {', '.join(sorted(allowed)) or 'none'} and dotted config keys")
        dotted = dict(dotted)
        for key in [k for k in plain if k in self.aliases]:
            dotted[self.aliases[key]] = plain.pop(key)
        files = list(config_files)
        if "run" in allowed and "run" not in plain:
            raise UserError(f"'{self.name} {command}' needs run=<run dir> (or run=latest)")
        for key in ("run", "resume"):
            if key in plain:
                plain[key] = open_run(plain[key], self.name, dotted.get("train.runs_dir", "runs"))
                files.insert(0, plain[key] / "config.yaml")
        cfg = load_config(self.config_cls, files, dotted)
        if hasattr(getattr(cfg, "data", None), "max_pixels"):
            set_max_pixels(cfg.data.max_pixels)
        named = Path(cfg.train.runs_dir) / self.name / (cfg.train.run_name or "")
        if command == "train" and cfg.train.run_name and "resume" not in plain and (named / "config.yaml").is_file():
            plain["resume"] = named  # the same command again continues the named run
            cfg = load_config(self.config_cls, [named / "config.yaml", *files], dotted)
        if command == "train" and cfg.train.strategy == "multi_worker":
            multi_worker.strategy()  # TensorFlow needs it before any other TF work
        return getattr(self, command)(cfg, plain)

    def train_dir(self, cfg, args):
        """Where `train` writes: the resumed run, `<runs_dir>/<app>/<train.run_name>`, or a new timestamped run;
        on a multi-worker run's non-chief workers, a temporary folder."""
        if cfg.train.strategy == "multi_worker" and not multi_worker.is_chief():
            return multi_worker.scratch_dir(args.get("resume"))
        return args.get("resume") or new_run_dir(cfg.train.runs_dir, self.name, cfg.train.run_name)

    @staticmethod
    def eval_split(args):
        """The `split=` argument of evaluate-like commands: val or test (the default)."""
        split = args.get("split", "test")
        if split not in ("val", "test"):
            raise UserError(f"split must be val or test, got '{split}'")
        return split

    def trained_model(self, run, compile=True):
        """The run's final model, loaded with safe_mode (no arbitrary code); `compile=False` leaves out its
        training loss and metrics."""
        path = Path(run) / "model.keras"
        if not path.is_file():
            raise UserError(f"run {run} has no trained model (model.keras); finish it with: "
                            f"keras-suite {self.name} train resume={run}")
        if not zipfile.is_zipfile(path):
            raise UserError(f"cannot load {path}: not a .keras file (damaged or not a zip archive)")
        try:
            return keras.saving.load_model(path, safe_mode=True, compile=compile)
        except Exception as e:  # noqa: BLE001 - a damaged, foreign or unsafe file: one line, not a traceback
            text = str(e).strip()
            if "arbitrary code" in text:
                reason = "it holds Python code (a Lambda layer or function), which safe_mode refuses to run"
            else:
                reason = text.splitlines()[0][:200] if text else type(e).__name__
            raise UserError(f"cannot load {path}: {reason}") from None

    def export_target(self, cfg, run):
        """`<export.out_dir>/<app>/<export.name or run name>`, refused if it holds files (unless overwrite); checked
        with the formats before any work."""
        for fmt in cfg.export.formats:
            EXPORTERS.get(fmt)
        name = cfg.export.name or Path(run).name
        if Path(name).name != name or name in (".", ".."):
            raise UserError(f"export.name must be a plain folder name, got '{name}'")
        target = Path(cfg.export.out_dir) / self.name / name
        check_target(target, cfg.export.overwrite)
        return target
