"""What reaches the terminal: live progress only on a terminal, and native libraries' notices kept off stderr,
where a command's errors go."""

import contextlib
import os
import sys


def progress_verbosity(setting="auto"):
    """Keras' verbose level for a progress display: a live bar (1) on a terminal, a plain line per epoch or at the
    end (2) when the output goes to a file or a pipe, where bars and colour codes would be noise; `setting` other
    than "auto" is taken as it is."""
    if setting != "auto":
        return setting
    return 1 if hasattr(sys.stdout, "isatty") and sys.stdout.isatty() else 2


@contextlib.contextmanager
def native_stderr_silenced():
    """Point file descriptor 2 at /dev/null meanwhile. TensorFlow's C++ runtime and the TFLite converter write
    notices there (absl's "All log messages before absl::InitializeLog()", oneDNN, CPU features, "fully_quantize:
    0 ...") whatever TF_CPP_MIN_LOG_LEVEL says; a command's own errors are Python exceptions, printed after."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
