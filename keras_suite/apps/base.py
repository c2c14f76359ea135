"""The App interface the CLI dispatches to: a config schema and commands taking key=value arguments."""

import dataclasses
import zipfile
from pathlib import Path

import keras

from keras_suite import export as exporting
from keras_suite.apps.attack import attack
from keras_suite.apps.visualize import DEFAULT_SIDE, visualize
from keras_suite.config import load_config
from keras_suite.data.caption_sets import square
from keras_suite.errors import UserError, closest
from keras_suite.files import read_json
from keras_suite.runs import Run
from keras_suite.training import multi_worker
from keras_suite.training.budget import command_clock
from keras_suite.visuals.images import set_max_pixels


@dataclasses.dataclass(frozen=True)
class Headline:
    """An app's quality figure for a run (after its examples ran): the metric, its value (None when the run
    has no report yet), the app's target, and whether higher is better."""

    metric: str
    value: float | None
    target: float | None
    higher_is_better: bool = True

    @property
    def met(self):
        if self.value is None or self.target is None:
            return None
        return self.value >= self.target if self.higher_is_better else self.value <= self.target


def class_index(names, name, key):
    """The index of class `name` among the run's class `names` (None for None); an unknown name is refused,
    naming the argument `key` it came from."""
    if name is None:
        return None
    if name not in names:
        raise UserError(f"{key} '{name}' is not one of the run's classes: {', '.join(names)}")
    return list(names).index(name)


def report_value(run, kind, split, *keys):
    """A number from the run's `<kind>_<split>.json` report (`keys` lead to it), or None when there is none."""
    path = run.report(kind, split)
    if not path.is_file():
        return None
    value = read_json(path)
    for key in keys:
        value = value[key]
    return float(value)


class App:
    """A task app. A subclass sets `spec` (its AppSpec: name, description, config_cls, commands, aliases, hints;
    copied onto the class) and defines the command methods: `method(cfg, args)` where `args` holds the plain
    (undotted) arguments.

    `run=<dir>` (and `resume=<dir>` for train) start from that run's saved config.yaml; `run=latest` is the
    app's most recently trained run. `aliases` map short plain arguments to dotted config keys
    (formats=... -> export.formats=...); `hints` say what a required argument holds. `train` with
    `train.run_name=NAME` writes `<runs_dir>/<app>/NAME`; running the same command again continues that run
    where it stopped. An app that exports implements `serving(cfg, run) -> (Serving, metadata)`; every app
    implements `examples(cfg, run, folder) -> [(command, {argument: value})]`, the commands that show a trained
    run at work on embedded data (inputs they need are written into `folder`), which the smoke test and the demo
    run, and `headline(run) -> Headline`, its quality figure once they ran.
    """

    spec = None
    name = ""
    description = ""
    config_cls = None
    commands = {}
    aliases = {}
    hints = {}
    training = None  # the Run `train` works in, once it has one (held with Run.lock until the command ends)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "spec" in cls.__dict__:
            for field in ("name", "description", "config_cls", "commands", "aliases", "hints"):
                setattr(cls, field, getattr(cls.spec, field))

    def run(self, command, config_files, dotted, plain):
        try:
            with command_clock():  # a training budget counts from here: loading data is part of it
                return self._run(command, config_files, dotted, plain)
        finally:
            if self.training is not None:
                self.training.unlock()

    def _run(self, command, config_files, dotted, plain):
        spec = self.commands[command]
        for key in plain:
            if key not in spec.arguments:
                raise UserError(f"unknown argument '{key}' for '{self.name} {command}'{closest(key, spec.arguments)}; "
                                f"accepted: {', '.join(sorted(spec.arguments)) or 'none'} and dotted config keys")
        dotted = dict(dotted)
        for key in [k for k in plain if k in self.aliases]:
            dotted[self.aliases[key]] = plain.pop(key)
        files = list(config_files)
        cfg = load_config(self.config_cls, files, dotted)  # the user's files and overrides, checked before any work
        runs_dir = cfg.train.runs_dir
        for key in ("run", "resume"):
            if key in plain:
                plain[key] = Run.open(plain[key], self.name, runs_dir)
                made_by = (plain[key].record() or {}).get("app", self.name)
                if made_by != self.name:
                    raise UserError(f"run {plain[key]} belongs to the {made_by} app; use keras-suite {made_by} ... "
                                    f"or a {self.name} run")
                files.insert(0, plain[key].config)
        for key in spec.required:
            if key not in plain:
                raise UserError(f"{self.name} {command} needs {key}={self.spec.hint(key)}")
        if command == "train" and cfg.train.run_name and "resume" not in plain:
            named = Run.named(runs_dir, self.name, cfg.train.run_name)
            if named.config.is_file():  # the same command again continues the named run
                plain["resume"] = named
                files.insert(0, named.config)
        if len(files) > len(config_files):
            cfg = load_config(self.config_cls, files, dotted)
        if hasattr(getattr(cfg, "data", None), "max_pixels"):
            set_max_pixels(cfg.data.max_pixels)
        if command == "train" and cfg.train.strategy == "multi_worker":
            multi_worker.strategy()  # TensorFlow needs it before any other TF work
        return getattr(self, command)(cfg, plain)

    def train_dir(self, cfg, args):
        """The Run `train` writes: the resumed run, `<runs_dir>/<app>/<train.run_name>`, or a new timestamped run;
        on a multi-worker run's non-chief workers, a temporary folder."""
        if cfg.train.strategy == "multi_worker" and not multi_worker.is_chief():
            return multi_worker.scratch_run(args.get("resume"))
        run = args.get("resume") or Run.create(cfg.train.runs_dir, self.name, cfg.train.run_name)
        self.training = run.lock()
        return run.started(self.name, "train")

    @staticmethod
    def eval_split(args):
        """The `split=` argument of evaluate-like commands: val or test (the default)."""
        split = args.get("split", "test")
        if split not in ("val", "test"):
            raise UserError(f"split must be val or test, got '{split}'")
        return split

    def trained_model(self, run):
        """The run's final model, loaded with safe_mode (no arbitrary code) and without its training loss and
        metrics (evaluation, prediction and export need only the network)."""
        path = run.model
        if not path.is_file():
            raise UserError(f"run {run} has no trained model (model.keras); finish it with: "
                            f"keras-suite {self.name} train resume={run}")
        if not zipfile.is_zipfile(path):
            raise UserError(f"cannot load {path}: not a .keras file (damaged or not a zip archive)")
        try:
            return keras.saving.load_model(path, safe_mode=True, compile=False)
        except Exception as e:  # noqa: BLE001 - a damaged, foreign or unsafe file: one line, not a traceback
            text = str(e).strip()
            if "arbitrary code" in text:
                reason = "it holds Python code (a Lambda layer or function), which safe_mode refuses to run"
            else:
                reason = text.splitlines()[0][:200] if text else type(e).__name__
            raise UserError(f"cannot load {path}: {reason}") from None

    def visualize(self, cfg, args):
        """Feature visualization of a layer and the saliency of an image (apps whose spec has the command)."""
        return visualize(self, cfg, args)

    def attack(self, cfg, args):
        """Adversarial examples on the app's loss and its metric against the budget (apps with the command)."""
        return attack(self, cfg, args)

    def attack_target(self, cfg):
        """The target of a targeted attack from `attack.target`, checked before the model loads (None: untargeted)."""
        if cfg.attack.target is not None:
            raise UserError(f"attack.target is not available for {self.name}: its attack is untargeted")
        return None

    def attack_task(self, cfg, run, model, target):
        """The AttackTask of a trained model: test images, the loss an attack raises, the metric it lowers."""
        raise NotImplementedError

    def visual_samples(self, cfg):
        """uint8 test images (N, S, S, C) the most active channels are picked on; the first is the default image
        of the saliency maps."""
        raise NotImplementedError

    def visual_input(self, cfg, photo, model):
        """A photo (H, W, 3 uint8) as the model's input image (uint8): resized square to its size."""
        return square(photo, model.input_shape[1] or DEFAULT_SIDE)

    def saliency_context(self, cfg, args):
        """What `saliency_target` needs from the command's arguments (read before the model loads)."""
        return None

    def saliency_target(self, cfg, run, model, image, context):
        """(f: float32 images 0-255 -> one number each, what it is) that the saliency maps of `image` explain, or
        None where the app has no such number."""
        return None

    def export_target(self, cfg, run):
        """`<export.out_dir>/<app>/<export.name or run name>`, refused if it holds files (unless overwrite); checked
        with the formats before any work."""
        if not cfg.export.formats:
            raise UserError(f"export.formats is empty; give one or more of {', '.join(exporting.EXPORTERS.names())}")
        for fmt in cfg.export.formats:
            exporting.EXPORTERS.get(fmt)
        name = cfg.export.name or run.name
        if Path(name).name != name or name in (".", ".."):
            raise UserError(f"export.name must be a plain folder name, got '{name}'")
        target = Path(cfg.export.out_dir) / self.name / name
        exporting.check_target(target, cfg.export.overwrite)
        return target

    def export(self, cfg, args):
        """Export the run's model in every format of `export.formats`: the app's `serving` gives what to serve
        and the samples to check it on."""
        run = args["run"]
        target = self.export_target(cfg, run)
        serving, metadata = self.serving(cfg, run)
        serving = serving.stamped(run.name, cfg.export.author or "", cfg.export.license or "")
        report = exporting.export(serving, target, cfg.export, {"app": self.name, **metadata, "run": str(run)})
        print(exporting.format_report(report))
        if report.get("compat"):
            print(exporting.format_compat(report["compat"]))
        print(f"exported to {target}")
        return target
