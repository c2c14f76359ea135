"""The one parser of `data.source` strings: a built-in name, `tfds:<name>`, `folder:<dir>`, `tsv:<file>`, or a
bare file path where an app takes one."""

import dataclasses
from pathlib import Path

from keras_suite.errors import UserError, closest

FORMS = {"tfds": "tfds:<name>", "folder": "folder:<dir>", "tsv": "tsv:<file>", "file": "<file>"}


@dataclasses.dataclass(frozen=True)
class Source:
    """kind: "builtin", "tfds", "folder", "tsv" or "file"; value: the name or path after the prefix."""

    kind: str
    value: str


def parse_source(spec, builtins=(), kinds=("tfds", "folder"), key="data.source"):
    """`spec` as a Source of one of `builtins` or `kinds`.

    `kinds` may hold "tfds", "folder", "tsv" (each written `<kind>:<value>`) and "file": a bare path, also
    what a `tsv` source is when written without its prefix. A name close to a built-in one that is not a
    file is refused with "did you mean"; so is anything else that no accepted form matches.
    """
    spec = str(spec).strip()
    if spec in builtins:
        return Source("builtin", spec)
    prefix, colon, rest = spec.partition(":")
    if colon and prefix in FORMS and prefix != "file":
        if prefix not in kinds:
            raise UserError(f"{key} '{spec}': {prefix}: sources are not read by this app; "
                            f"use {_forms(builtins, kinds)}")
        if not rest.strip():
            raise UserError(f"{key} '{spec}' needs a name or path after '{prefix}:'")
        return Source(prefix, rest.strip())
    bare = "file" if "file" in kinds else "tsv" if "tsv" in kinds else None
    hint = closest(spec, builtins)
    if bare is not None and (Path(spec).exists() or not hint):
        return Source(bare, spec)
    raise UserError(f"unknown {key} '{spec}'{hint}; use {_forms(builtins, kinds)}")


def _forms(builtins, kinds):
    forms = [*builtins, *(FORMS[k] for k in kinds)]
    return ", ".join(forms[:-1]) + f" or {forms[-1]}" if len(forms) > 1 else forms[0]
