"""Typed configs: dataclass schemas, YAML files merged in order, dotted `key=value` overrides.

Values given on the command line are parsed with `ast.literal_eval` (never `eval`); a value that
is not a Python literal stays a string. Unknown keys and wrong types raise `UserError` naming the
closest valid key; numbers are never negative or non-finite, and counts and sizes (`POSITIVE`) not 0.
"""

import ast
import dataclasses
import math
import types
import typing
from pathlib import Path

import yaml

from keras_suite.errors import UserError, closest
from keras_suite.runs import write_text


@dataclasses.dataclass
class TrainConfig:
    """Settings shared by every app's trainer."""

    epochs: int = 20
    batch_size: int = 32
    steps_per_epoch: int | None = None
    validation_steps: int | None = None
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    lr_schedule: str = "cosine"
    warmup_epochs: int = 0
    weight_decay: float = 0.0
    clipnorm: float | None = None
    strategy: str = "default"
    jit_compile: bool = False
    precision: str = "auto"
    seed: int = 0
    early_stopping_patience: int = 5
    monitor: str = "val_loss"
    preview_every: int = 1
    runs_dir: str = "runs"
    run_name: str | None = None
    verbose: int | str = "auto"


@dataclasses.dataclass
class ExportConfig:
    """Settings shared by every app's exporter."""

    formats: tuple[str, ...] = ("saved_model", "tflite", "tflite_fp16", "tflite_int8")
    out_dir: str = "saved_models"
    name: str | None = None
    overwrite: bool = False
    calibration_samples: int = 64
    parity_samples: int = 16
    max_abs_diff: dict[str, float] = dataclasses.field(default_factory=lambda: {
        "saved_model": 1e-4, "tflite": 1e-3, "tflite_fp16": 5e-2})
    min_agreement: dict[str, float] = dataclasses.field(default_factory=lambda: {
        "saved_model": 0.999, "tflite": 0.995, "tflite_fp16": 0.98, "tflite_int8": 0.90})


POSITIVE = {"epochs", "batch_size", "steps_per_epoch", "validation_steps", "image_size", "size", "max_pixels",
            "parity_samples", "calibration_samples", "seq_length", "steps", "p", "k"}


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
            raise UserError(f"expected key=value, got '{arg}'")
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
            return _checked_number(tp(value), key)
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
            return {str(k): _coerce(v, args[1], f"{key}.{k}") for k, v in value.items()}
    name = getattr(tp, "__name__", str(tp))
    raise UserError(f"config key '{key}' expects {name}, got {value!r}")


def _checked_number(value, key):
    """Every number in a keras-suite config is finite and not negative; counts and sizes are positive."""
    if not math.isfinite(value):
        raise UserError(f"config key '{key}' must be a finite number, got {value}")
    if value < 0:
        raise UserError(f"config key '{key}' must not be negative, got {value}")
    if value == 0 and key.rsplit(".", 1)[-1] in POSITIVE:
        raise UserError(f"config key '{key}' must be at least 1, got 0")
    return value


def _build(schema, data, prefix=""):
    hints = _field_types(schema)
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
    return schema(**kwargs)


def _set(tree, schema, key, value, all_keys):
    parts = key.split(".")
    node, sub = tree, schema
    for i, part in enumerate(parts):
        hints = _field_types(sub)
        if part not in hints:
            raise UserError(f"unknown config key '{key}'{closest(key, all_keys)}")
        tp = hints[part]
        if i == len(parts) - 1:
            if dataclasses.is_dataclass(tp) and isinstance(value, dict):
                for k, v in value.items():
                    _set(tree, schema, f"{key}.{k}", v, all_keys)
            else:
                node[part] = value
            return
        if not dataclasses.is_dataclass(tp):
            raise UserError(f"unknown config key '{key}'{closest(key, all_keys)}")
        node, sub = node.setdefault(part, {}), tp


def read_yaml(path):
    path = Path(path)
    if not path.is_file():
        raise UserError(f"config file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise UserError(f"cannot parse config file {path}: {str(e).splitlines()[0]}") from None
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


def save_config(cfg, path):
    """Write the resolved config atomically: other processes (multi-worker peers) may be reading it."""
    write_text(path, yaml.safe_dump(to_dict(cfg), sort_keys=False))
