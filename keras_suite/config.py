"""Typed configs: dataclass schemas, YAML files merged in order, dotted `key=value` overrides.

Values given on the command line are parsed with `ast.literal_eval` (never `eval`); a value that
is not a Python literal stays a string. Unknown keys and wrong types raise `UserError` naming the
closest valid key. Numbers are never negative or non-finite; a field declared with `setting` also
states its allowed values (`choices`) and bounds (`ge`, `gt`, `le`, `lt`), checked when a config is
loaded, before any command does work. A section's `__post_init__` checks what ties fields together.
"""

import ast
import dataclasses
import inspect
import math
import os
import types
import typing
from pathlib import Path

import yaml

from keras_suite.errors import UserError, closest, printable, shorten
from keras_suite.files import write_text

OPTIMIZERS = ("adam", "adamw", "sgd")
LR_SCHEDULES = ("cosine", "constant")
STRATEGIES = ("default", "mirrored", "multi_worker")
PRECISIONS = ("auto", "float32", "mixed_float16", "mixed_bfloat16")
MONITOR_MODES = ("auto", "min", "max")
MAX_CONFIG_BYTES = 1_000_000
MAX_EPOCHS = 100_000
DURATION_UNITS = {"s": 1, "m": 60, "h": 3600}
MAX_DURATION = 30 * 86_400
MAX_INT = 2 ** 31 - 1  # every whole number fits TensorFlow's int32, whatever its own bound
MEMORY_SHARE = 0.8  # of this machine's memory, the most the data a config asks for may take


def duration_seconds(value, key):
    """A duration as seconds: a number of seconds, or a number with a unit: "90s", "10m", "1.5h"."""
    text = str(value).strip().lower()
    number, unit = (text[:-1], text[-1]) if text[-1:] in DURATION_UNITS else (text, "s")
    try:
        seconds = float(number) * DURATION_UNITS[unit]
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and 0 < seconds <= MAX_DURATION):
        raise UserError(f"{key} must be a duration such as 90s, 10m or 1.5h (at most 30 days), got "
                        f"'{shorten(value, 40)}'")
    return seconds


def setting(default=dataclasses.MISSING, *, factory=dataclasses.MISSING, choices=None, ge=None, gt=None, le=None,
            lt=None):
    """A config field with the values it accepts: `choices` (strings), and bounds for numbers: `ge`/`gt` below
    (0 when neither is given: no number in a keras-suite config is negative), `le`/`lt` above. For a tuple,
    every item is checked; None (an optional field left unset) is not."""
    checks = {k: v for k, v in (("choices", choices), ("ge", ge), ("gt", gt), ("le", le), ("lt", lt))
              if v is not None}
    return dataclasses.field(default=default, default_factory=factory, metadata={"checks": checks})


@dataclasses.dataclass
class TrainConfig:
    """Settings shared by every app's trainer."""

    epochs: int = setting(20, ge=1, le=MAX_EPOCHS)
    batch_size: int = setting(32, ge=1, le=65_536)
    steps_per_epoch: int | None = setting(None, ge=1)
    validation_steps: int | None = setting(None, ge=1)
    optimizer: str = setting("adam", choices=OPTIMIZERS)
    learning_rate: float = 1e-3
    lr_schedule: str = setting("cosine", choices=LR_SCHEDULES)
    warmup_epochs: int = 0
    weight_decay: float = 0.0
    beta_2: float = setting(0.999, gt=0, lt=1)  # Adam and AdamW: the decay of the squared-gradient average
    clipnorm: float | None = None
    strategy: str = setting("default", choices=STRATEGIES)
    jit_compile: bool = False
    precision: str = setting("auto", choices=PRECISIONS)
    seed: int = 0
    early_stopping_patience: int = 5
    monitor: str = "val_loss"
    monitor_mode: str = setting("auto", choices=MONITOR_MODES)  # auto: from the monitored metric's name
    preview_every: int = 1
    runs_dir: str = "runs"
    run_name: str | None = None
    verbose: int | str = "auto"
    time_budget: float | str | None = None  # seconds, or "90s", "10m", "1.5h": sizes epochs and schedule to fit

    def __post_init__(self):
        self.budget_seconds()  # a malformed budget is refused when the config loads
        if self.time_budget is not None and self.strategy == "multi_worker":
            raise UserError("train.time_budget works on one machine; with train.strategy=multi_worker set train.epochs")

    def budget_seconds(self):
        """train.time_budget in seconds, or None when there is none."""
        return None if self.time_budget is None else duration_seconds(self.time_budget, "train.time_budget")


@dataclasses.dataclass
class ExportConfig:
    """Settings shared by every app's exporter."""

    formats: tuple[str, ...] = ("saved_model", "tflite", "tflite_fp16", "tflite_int8")
    out_dir: str = "saved_models"
    name: str | None = None
    overwrite: bool = False
    author: str = "keras-suite"
    license: str | None = None
    calibration_samples: int = setting(64, ge=1, le=10_000)
    parity_samples: int = setting(16, ge=1, le=10_000)
    # the app's own metric (mIoU, mAP, accuracy, BLEU) on this many held-out samples, for Keras and each format
    task_samples: int = setting(200, ge=0, le=100_000)
    # how far below Keras' value each format's metrics may fall; "<format>.<metric>" sets one metric's own
    max_metric_drop: dict[str, float] = setting(factory=lambda: {
        "saved_model": 0.01, "tflite": 0.01, "tflite_fp16": 0.01, "tflite_int8": 0.02})
    max_abs_diff: dict[str, float] = setting(factory=lambda: {
        "saved_model": 1e-4, "tflite": 1e-3, "tflite_fp16": 5e-2})
    min_agreement: dict[str, float] = setting(factory=lambda: {
        "saved_model": 0.999, "tflite": 0.995, "tflite_fp16": 0.98, "tflite_int8": 0.90})


@dataclasses.dataclass
class VisualizeConfig:
    """`visualize`: images optimized from noise (`steps` of gradient ascent by Adam at `learning_rate`,
    random shifts of up to `jitter` pixels, `l2` and total-variation `tv` penalties, a blur every `blur_every` steps,
    Fourier coefficients scaled by 1/frequency with `decorrelate`) to excite `channels` of `layer` (default: the
    middle feature layer; no channels: the `top_k` most active on test images); and the saliency of one image: its
    gradient, SmoothGrad (`smooth_samples` noisy copies, noise `smooth_noise` of the pixel range) and integrated
    gradients (`ig_steps` steps from a black and from a blurred baseline)."""

    layer: str | None = None
    channels: tuple[int, ...] = setting((), ge=0)
    top_k: int = setting(8, ge=1, le=256)
    steps: int = setting(256, ge=1, le=100_000)
    learning_rate: float = setting(0.02, gt=0)
    jitter: int = setting(4, ge=0, le=64)
    l2: float = setting(0.0, ge=0)
    tv: float = setting(0.0, ge=0)
    blur_every: int = setting(0, ge=0)
    decorrelate: bool = True
    smooth_samples: int = setting(25, ge=1, le=10_000)
    smooth_noise: float = setting(0.15, ge=0, le=1)
    ig_steps: int = setting(64, ge=1, le=10_000)
    seed: int = 0


@dataclasses.dataclass
class AttackConfig:
    """`attack`: FGSM and PGD (`steps` of `step_size`, default 2.5 eps / steps, from a random point of the ball with
    `random_start`) in the `norm` ball (linf, or l2 with eps per pixel: radius eps * sqrt(pixels x channels)) of each
    of `epsilons` (0-255 pixel units), on `examples` test images in batches of `batch_size`; `target` (a class name,
    segmentation) makes the attack targeted: every pixel pushed towards that class."""

    epsilons: tuple[float, ...] = setting((0.0, 1.0, 2.0, 4.0, 8.0), ge=0, le=255)
    norm: str = setting("linf", choices=("linf", "l2"))
    steps: int = setting(10, ge=1, le=10_000)
    step_size: float | None = setting(None, gt=0)
    random_start: bool = True
    examples: int = setting(64, ge=1, le=100_000)
    batch_size: int = setting(16, ge=1, le=4096)
    target: str | None = None
    seed: int = 0


@dataclasses.dataclass
class ImageExportConfig(ExportConfig):
    """An image app's export: a full-integer file too, int8 calibrated on real photos as well as on the app's own
    images, and every file compared with Keras on real photos held out from that calibration."""

    formats: tuple[str, ...] = ("saved_model", "tflite", "tflite_fp16", "tflite_int8", "tflite_int8_full")
    # crops of the photos scikit-image and scikit-learn ship (keras_suite.data.photos), added to the calibration
    calibration_photos: int = setting(16, ge=0, le=10_000)
    # crops of other shipped photos, never calibrated on: each file's figures on them are reported as photo_*
    photo_samples: int = setting(8, ge=0, le=10_000)


def parse_value(text):
    """A command-line value: a Python literal when it is one, else the string itself."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text


def split_overrides(args):
    """Split `key=value` arguments into (dotted config overrides, plain command arguments)."""
    dotted, plain = {}, {}
    for arg in args:
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:  # bytes that are not UTF-8 reach Python as lone surrogates
            raise UserError(f"argument '{arg.partition('=')[0]}=...' is not valid UTF-8 text") from None
        key, sep, value = arg.partition("=")
        if not sep or not key:
            raise UserError(f"expected key=value, got {arg!r}")
        (dotted if "." in key else plain)[key] = value
    return dotted, plain


def _field_types(schema):
    return typing.get_type_hints(schema)


def _keys(schema, prefix=""):
    out = []
    for name, tp in _field_types(schema).items():
        if dataclasses.is_dataclass(tp):
            out += _keys(tp, f"{prefix}{name}.")
        else:
            out.append(prefix + name)
    return out


def _coerce(value, tp, key):
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None or (isinstance(value, str) and value.lower() in ("none", "null")):
            if type(None) in args:
                return None
        errors = []
        for arg in (a for a in args if a is not type(None)):
            try:
                return _coerce(value, arg, key)
            except UserError as e:
                errors.append(e)
        raise errors[-1]
    if tp is bool:
        if isinstance(value, str) and value.lower() in ("true", "false", "yes", "no"):
            return value.lower() in ("true", "yes")
        if isinstance(value, bool):
            return value
    elif tp in (int, float):
        if isinstance(value, (int, float)) and not isinstance(value, bool) and (tp is float or isinstance(value, int)):
            value = tp(value)
            if not math.isfinite(value):
                raise UserError(f"config key '{key}' must be a finite number, got {value}")
            return value
    elif tp is str:
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return str(value)
    elif origin in (tuple, list):
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if isinstance(value, (list, tuple)):
            return tuple(_coerce(v, args[0], key) for v in value)
    elif origin is dict:
        if isinstance(value, dict):
            return {str(k): _coerce(v, args[1], f"{key}.{printable(k)}") for k, v in value.items()}
    name = getattr(tp, "__name__", str(tp))
    raise UserError(f"config key '{key}' expects {name}, got {shorten(repr(value))}")


def _check(value, checks, key):
    """`value` (coerced) against its field's `setting` checks; numbers are never negative."""
    if value is None:
        return
    if isinstance(value, (tuple, list, dict)):
        items = value.items() if isinstance(value, dict) else ((None, v) for v in value)
        for name, item in items:
            _check(item, checks, key if name is None else f"{key}.{printable(name)}")
        return
    choices = checks.get("choices")
    if choices is not None and value not in choices:
        raise UserError(f"{key} must be one of {', '.join(map(str, choices))}, got '{shorten(value)}'"
                        f"{closest(str(value), [str(c) for c in choices])}")
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return
    if value < 0 and checks.get("ge", checks.get("gt", 0)) >= 0:
        raise UserError(f"config key '{key}' must not be negative, got {value}")
    if isinstance(value, int) and value > MAX_INT and "le" not in checks:
        raise UserError(f"config key '{key}' must be at most {MAX_INT:,}, got {shorten(value, 40)}")
    too_low = ("ge" in checks and value < checks["ge"]) or ("gt" in checks and value <= checks["gt"])
    too_high = ("le" in checks and value > checks["le"]) or ("lt" in checks and value >= checks["lt"])
    if not (too_low or too_high):
        return
    if too_low:
        bound = f"at least {checks['ge']}" if "ge" in checks else f"more than {checks['gt']}"
        raise UserError(f"config key '{key}' must be {bound}, got {shorten(value, 40)}")
    low = f"({checks['gt']}" if "gt" in checks else f"[{checks.get('ge', 0)}"
    high = f"{checks['le']}]" if "le" in checks else f"{checks['lt']})"
    raise UserError(f"{key} must be in {low}, {high}, got {shorten(value, 40)}")


def _build(schema, data, prefix=""):
    hints = _field_types(schema)
    checks = {f.name: f.metadata.get("checks", {}) for f in dataclasses.fields(schema)}
    kwargs = {}
    for name, value in data.items():
        tp = hints[name]
        key = prefix + name
        if dataclasses.is_dataclass(tp):
            if not isinstance(value, dict):
                raise UserError(f"config key '{key}' is a section; set its fields as {key}.<name>=...")
            kwargs[name] = _build(tp, value, key + ".")
        else:
            kwargs[name] = _coerce(value, tp, key)
            _check(kwargs[name], checks[name], key)
    return schema(**kwargs)


def _set(tree, schema, key, value, all_keys):
    parts = key.split(".")
    node, sub = tree, schema
    for i, part in enumerate(parts):
        hints = _field_types(sub)
        if part not in hints:
            raise UserError(f"unknown config key '{printable(key)}'{closest(key, all_keys)}")
        tp = hints[part]
        if i == len(parts) - 1:
            if dataclasses.is_dataclass(tp) and isinstance(value, dict):
                for k, v in value.items():
                    _set(tree, schema, f"{key}.{k}", v, all_keys)
            else:
                node[part] = value
            return
        if not dataclasses.is_dataclass(tp):
            raise UserError(f"unknown config key '{printable(key)}'{closest(key, all_keys)}")
        node, sub = node.setdefault(part, {}), tp


def read_yaml(path):
    """A config file's mapping. YAML aliases (`*name`) are refused: a few bytes of nested aliases expand to
    gigabytes, and keras-suite configs spell every value out."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"config file not found: {path}")
    if path.stat().st_size > MAX_CONFIG_BYTES:
        raise UserError(f"config file {path} has {path.stat().st_size:,} bytes; a config holds at most "
                        f"{MAX_CONFIG_BYTES:,}")
    try:
        text = path.read_text(encoding="utf-8")
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent):
                raise UserError(f"config file {path} uses the YAML alias *{shorten(event.anchor, 40)}; write the "
                                f"value out instead")
        data = yaml.safe_load(text) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise UserError(f"cannot parse config file {path}: {shorten(str(e).splitlines()[0])}") from None
    if not isinstance(data, dict):
        raise UserError(f"config file {path} must hold a mapping of sections")
    return data


def load_config(schema, files=(), overrides=None):
    """Build `schema` from its defaults, then each YAML file in order, then dotted overrides."""
    tree = dataclasses.asdict(schema())  # the schema's own defaults, including per-app section defaults
    all_keys = _keys(schema)
    for path in files:
        for key, value in _nested_items(read_yaml(path), schema):
            _set(tree, schema, key, value, all_keys)
    for key, value in (overrides or {}).items():
        _set(tree, schema, key, parse_value(value) if isinstance(value, str) else value, all_keys)
    return _build(schema, tree)


def _nested_items(data, schema, prefix=""):
    hints = _field_types(schema)
    for key, value in data.items():
        tp = hints.get(key)
        if tp is not None and dataclasses.is_dataclass(tp) and isinstance(value, dict):
            yield from _nested_items(value, tp, f"{prefix}{key}.")
        else:
            yield prefix + str(key), value


def to_dict(cfg):
    """A plain dict (lists for tuples) that YAML and JSON can write."""

    def plain(v):
        if isinstance(v, (tuple, list)):
            return [plain(x) for x in v]
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        return v

    return plain(dataclasses.asdict(cfg))


def _allowed(checks):
    """A field's `setting` checks as a short text: `lstm|gru`, `>= 1`, `[0, 1]`."""
    if "choices" in checks:
        return "|".join(map(str, checks["choices"]))
    low = f">= {checks['ge']}" if "ge" in checks else f"> {checks['gt']}" if "gt" in checks else ""
    high = f"<= {checks['le']}" if "le" in checks else f"< {checks['lt']}" if "lt" in checks else ""
    return ", ".join(x for x in (low, high) if x)


def describe(schema):
    """The config's sections as lines for `--help`: each key with its default and, where a `setting` states them,
    the values it accepts."""
    lines = []
    defaults = schema()
    for section in dataclasses.fields(schema):
        lines.append(f"  {section.name}:")
        value = getattr(defaults, section.name)
        plain = to_dict(value)
        for field in dataclasses.fields(value):
            allowed = _allowed(field.metadata.get("checks", {}))
            text = yaml.safe_dump(plain[field.name], default_flow_style=True, width=10_000).strip()
            text = text.removesuffix("\n...").strip()
            lines.append(f"    {field.name} = {text}" + (f"  ({allowed})" if allowed else ""))
    return lines


def memory_bytes():
    """This machine's physical memory in bytes."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def check_memory(needed, what, advice):
    """Refuse a config whose data would take more than MEMORY_SHARE of this machine's memory (before anything
    is allocated): `needed` bytes for `what`, and the settings that lower it (`advice`)."""
    available = memory_bytes()
    if needed > MEMORY_SHARE * available:
        raise UserError(f"{what} would take about {needed / 2 ** 30:,.1f} GiB of memory; this machine has "
                        f"{available / 2 ** 30:.1f} GiB; lower {advice}")


def arguments(section, function, **extra):
    """The fields of the config `section` that `function` takes as keyword arguments (named alike), and `extra`:
    `load_splits(**arguments(cfg.data, load_splits, seed=1))`."""
    names = inspect.signature(function).parameters
    return {**{f.name: getattr(section, f.name) for f in dataclasses.fields(section) if f.name in names}, **extra}


def save_config(cfg, path):
    """Write the resolved config atomically: other processes (multi-worker peers) may be reading it."""
    write_text(path, yaml.safe_dump(to_dict(cfg), sort_keys=False))
