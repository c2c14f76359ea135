"""The errors a command ends with: the CLI prints the message on one line.

`UserError` (exit code 2): the input was wrong (a path, an image, a key, a value). `EnvironmentFailure`
(exit code 3): the machine failed the command (disk full, read-only or forbidden folder, out of memory)
although the input was fine. Neither is a bug in keras-suite.
"""

import difflib
import errno
import re

MESSAGE_LIMIT = 200  # characters of a user's value quoted in a message
REASONS = {errno.ENOSPC: "no space left on device", errno.EDQUOT: "disk quota exceeded",
           errno.EROFS: "read-only file system", errno.EACCES: "permission denied",
           errno.EPERM: "operation not permitted", errno.EIO: "input/output error",
           errno.ELOOP: "symlink loop", errno.EMFILE: "too many open files"}
_WRITES = (errno.ENOSPC, errno.EDQUOT, errno.EROFS)


class UserError(Exception):
    """Bad input from the user (path, image, key, value); never a bug in keras-suite."""


class EnvironmentFailure(Exception):
    """The machine failed the command (disk, permissions, memory); the message names the path and the cause."""


def closest(name, candidates):
    """Return ' (did you mean 'x'?)' for the closest candidate, or ''."""
    match = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.5)
    return f" (did you mean '{match[0]}'?)" if match else ""


def printable(text):
    """`text` on one printable line (control characters escaped), for quoting user input in a message."""
    text = str(text)
    return text if text.isprintable() else text.encode("unicode_escape").decode("ascii")


def shorten(text, limit=MESSAGE_LIMIT):
    """`text` printable and cut to `limit` characters (with the length it had), for quoting a value."""
    text = printable(text)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


def environment_failure(error, path=None):
    """An EnvironmentFailure for an OSError, MemoryError or TensorFlow file error, naming `path` (else the path
    the error names) and the cause."""
    if isinstance(error, MemoryError):
        return EnvironmentFailure(f"out of memory{f' while writing {path}' if path else ''}")
    text = str(error)
    number = getattr(error, "errno", None)
    found = re.search(r"(?:name|filename) = '([^']+)'", text) or re.search(r"(/[^\s;,']+); ", text)
    path = path or getattr(error, "filename", None) or (found.group(1) if found else None)
    for code, reason in REASONS.items():
        if number == code or reason in text.lower():
            number = code
            break
    else:
        reason = (getattr(error, "strerror", None) or text.strip().splitlines()[0] if text.strip()
                  else type(error).__name__)
    verb = "cannot write" if number in _WRITES else "cannot access"
    return EnvironmentFailure(f"{verb} {shorten(path, 300) if path else 'a file'}: {shorten(reason)}")
