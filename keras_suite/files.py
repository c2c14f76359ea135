"""Atomic file writing: a reader, a crash or a kill never sees half a file.

Every writer goes through `replacing(path)`: the content goes to a temporary file in the same folder, named
`.tmp-<pid>-<random>-<name>` (so it keeps the name's suffix, which Keras and PIL read), that is renamed over
`path` once complete. `sweep(folder)` removes the temporary files of processes that have ended; a live
process's own temporary files are left alone.
"""

import contextlib
import json
import os
import re
import sys
import tempfile
from pathlib import Path

from keras_suite.errors import environment_failure

_TEMPORARY = re.compile(r"^\.tmp-(\d+)[-.]")


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


def storage_errors():
    """The exceptions that mean the disk or the folder failed a write: OSError, MemoryError and TensorFlow's
    (when it is loaded) out-of-space and permission errors."""
    tf = sys.modules.get("tensorflow")
    return (OSError, MemoryError) + ((tf.errors.ResourceExhaustedError, tf.errors.PermissionDeniedError)
                                     if tf is not None and hasattr(tf, "errors") else ())


@contextlib.contextmanager
def replacing(path, sync=False):
    """Yield a temporary path beside `path`; when the block ends without an error, the file written there
    replaces `path` (with ordinary permissions, flushed to disk first when `sync`), else it is removed. A full
    disk or a read-only or forbidden folder raises EnvironmentFailure naming `path`; the old file stays."""
    path = Path(path)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".tmp-{os.getpid()}-", suffix=f"-{path.name}", dir=path.parent)
        os.close(fd)
        yield Path(tmp)
        if sync:
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
        default_permissions(tmp)
        os.replace(tmp, path)
    except storage_errors() as e:
        raise environment_failure(e, path) from None
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.remove(tmp)


def sweep(folder):
    """Remove the temporary files that ended processes left in `folder`."""
    folder = Path(folder)
    if not folder.is_dir():
        return
    for stale in folder.glob(".tmp-*"):
        match = _TEMPORARY.match(stale.name)
        if match and process_ended(int(match.group(1))):
            stale.unlink(missing_ok=True)


def write_text(path, text, sync=False):
    """Write a text file atomically (`replacing`)."""
    with replacing(path, sync) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_json(path, obj, sync=False):
    """Write JSON atomically (`replacing`)."""
    return write_text(path, json.dumps(obj, indent=2, default=float) + "\n", sync)


def read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)
