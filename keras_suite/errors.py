"""The one error type a user can cause: the CLI prints its message on one line and exits 2."""

import difflib


class UserError(Exception):
    """Bad input from the user (path, image, key, value); never a bug in keras-suite."""


def closest(name, candidates):
    """Return ' (did you mean 'x'?)' for the closest candidate, or ''."""
    match = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.5)
    return f" (did you mean '{match[0]}'?)" if match else ""


def printable(text):
    """`text` on one printable line (control characters escaped), for quoting user input in a message."""
    text = str(text)
    return text if text.isprintable() else text.encode("unicode_escape").decode("ascii")
