"""Ctrl-C during training stops at the end of the batch being computed, not inside TensorFlow's native code."""

import signal
import threading

import keras


class InterruptAtBatchEnd(keras.callbacks.Callback):
    """Defers SIGINT to the next batch boundary while it is active (`with InterruptAtBatchEnd() as cb:`).

    A KeyboardInterrupt raised from Python's signal handler lands wherever the interpreter happens to be,
    including inside a C++ call back into Python, where CPython turns it into a `SystemError` ("bad argument
    to internal function") and the run ends with a traceback instead of the resume hint. Here the handler
    only records the signal; the callback raises KeyboardInterrupt from plain Python after the batch. A
    second Ctrl-C raises at once, for a step that does not end (a long compile).
    """

    def __init__(self):
        super().__init__()
        self.requested = False
        self._previous = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None
        return False

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def _check(self, step, logs=None):
        if self.requested:
            raise KeyboardInterrupt

    on_train_batch_end = on_test_batch_end = on_predict_batch_end = on_epoch_end = _check
