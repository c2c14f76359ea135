import os
import signal

import keras
import numpy as np
import pytest

from keras_suite.training.interrupt import InterruptAtBatchEnd


def test_ctrl_c_is_held_until_the_batch_ends_and_a_second_one_is_not():
    previous = signal.getsignal(signal.SIGINT)
    with InterruptAtBatchEnd() as cb:
        os.kill(os.getpid(), signal.SIGINT)  # only recorded: nothing is raised inside the batch
        assert cb.requested
        with pytest.raises(KeyboardInterrupt):
            cb.on_train_batch_end(0)
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
    assert signal.getsignal(signal.SIGINT) is previous


class _PressCtrlC(keras.callbacks.Callback):
    def __init__(self, at):
        super().__init__()
        self.at, self.finished = at, []

    def on_train_batch_begin(self, batch, logs=None):
        if batch == self.at:
            os.kill(os.getpid(), signal.SIGINT)

    def on_train_batch_end(self, batch, logs=None):
        self.finished.append(batch)


def test_fit_stops_after_the_batch_in_which_ctrl_c_came():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    press = _PressCtrlC(at=2)
    interrupt = InterruptAtBatchEnd()
    with interrupt, pytest.raises(KeyboardInterrupt):
        model.fit(np.zeros((64, 3)), np.zeros((64, 1)), batch_size=8, epochs=3, verbose=0,
                  callbacks=[press, interrupt])
    assert press.finished == [0, 1, 2]
