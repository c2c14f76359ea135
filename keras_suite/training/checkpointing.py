"""Crash-safe training state, as Keras callbacks the trainer always uses.

`Backup` writes, after every epoch whose loss is finite, everything an interrupted run needs to go on
exactly as if it had not stopped: the weights with the optimizer state, the random-generator states of
dropout layers (which `.weights.h5` files leave out), the epoch and the state of the callbacks that
remember a best value (best model, early stopping). Every file goes to a temporary name and is renamed
into place, the state file last, so a kill at any moment leaves the previous complete backup.
`BestModel` writes the best model the same way; `StopOnNonFinite` stops at the first non-finite loss and
remembers the step.
"""

import math
from pathlib import Path

import keras
import numpy as np

from keras_suite.errors import UserError
from keras_suite.files import read_json, replacing, sweep, write_json

STATE = "state.json"
KEPT_ATTRIBUTES = ("best", "best_epoch", "wait")  # of the callbacks Backup keeps


def _finite(value):
    return value is not None and math.isfinite(float(value))


def seed_states(model):
    """The SeedGenerator variables of the model's dropout (and other random) layers."""
    return [v for v in model.variables if v.path.endswith("seed_generator_state")]


def _damaged(directory, what):
    return UserError(f"the backup {directory} is damaged ({what}); move it away to train this run again from the "
                     f"first epoch (its best model so far stays in checkpoints/)")


def load_backup(directory):
    """The state saved by `Backup` in `directory`, or None when there is none; a damaged one is refused."""
    path = Path(directory) / STATE
    if not path.is_file():
        return None
    try:
        state = read_json(path)
    except (OSError, ValueError):
        raise _damaged(directory, f"{STATE} cannot be read") from None
    if not (isinstance(state, dict) and isinstance(state.get("epoch"), int) and isinstance(state.get("weights"), str)
            and isinstance(state.get("seeds", []), list)):
        raise _damaged(directory, f"{STATE} lacks the epoch or the weights file")
    return state


def restore(model, directory, state):
    """Load a backup into a compiled model: weights, optimizer state and dropout seeds."""
    if model.optimizer is not None and not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    weights = Path(directory) / state["weights"]
    if not weights.is_file():
        raise _damaged(directory, f"{weights.name} is missing")
    try:
        model.load_weights(weights)
    except (OSError, ValueError) as e:
        raise _damaged(directory, f"{weights.name}: {str(e).splitlines()[0][:120]}") from None
    for variable, value in zip(seed_states(model), state["seeds"]):
        variable.assign(np.asarray(value, variable.dtype))


class Backup(keras.callbacks.Callback):
    """Per-epoch resumable backup in `directory`; put it last so it records the epoch's final state.

    Args:
        directory: the backup folder (`<run>/backup`).
        keep: {name: callback} whose `best`, `best_epoch` and `wait` attributes are saved and restored.
        restored: the state `load_backup` returned when resuming; the kept callbacks get theirs back at
            the start of training (after their own `on_train_begin` reset them).
    """

    def __init__(self, directory, keep=None, restored=None):
        super().__init__()
        self.directory = Path(directory)
        self.keep = dict(keep or {})
        self.restored = restored

    def on_train_begin(self, logs=None):
        for name, saved in ((self.restored or {}).get("callbacks") or {}).items():
            if name in self.keep:
                for attribute, value in saved.items():
                    setattr(self.keep[name], attribute, value)

    def on_epoch_end(self, epoch, logs=None):
        if _finite((logs or {}).get("loss")):
            self.save(epoch + 1)

    def save(self, epoch):
        self.directory.mkdir(parents=True, exist_ok=True)
        sweep(self.directory)
        weights = self.directory / f"epoch{epoch:04d}.weights.h5"
        with replacing(weights) as tmp:
            self.model.save_weights(tmp)
        callbacks = {name: {a: _plain(getattr(cb, a)) for a in KEPT_ATTRIBUTES if hasattr(cb, a)}
                     for name, cb in self.keep.items()}
        write_json(self.directory / STATE, {
            "epoch": epoch, "weights": weights.name, "callbacks": callbacks,
            "seeds": [np.asarray(v).tolist() for v in seed_states(self.model)]})
        for old in self.directory.glob("epoch*.weights.h5"):
            if old != weights:
                old.unlink()


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


class BestModel(keras.callbacks.Callback):
    """Save the model to `path` (temporary file + rename) whenever the finite `monitor` value improves.

    Args:
        path: the `.keras` file.
        monitor: a key of the epoch logs (`val_loss`, `val_mean_iou`, ...).
        mode: "min" or "max".
    """

    def __init__(self, path, monitor, mode):
        super().__init__()
        self.path = Path(path)
        self.monitor = monitor
        self.mode = mode
        self.best = None
        self.best_epoch = None
        self._warned = False

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        value = logs.get(self.monitor)
        if value is None:
            if not self._warned:
                print(f"warning: train.monitor '{self.monitor}' is not logged (logged: {', '.join(sorted(logs))}); "
                      f"no best model is kept")
                self._warned = True
            return
        if not _finite(value):
            return
        value = float(value)
        if self.best is None or (value > self.best if self.mode == "max" else value < self.best):
            self.best, self.best_epoch = value, epoch + 1
            sweep(self.path.parent)
            with replacing(self.path) as tmp:
                self.model.save(tmp)


class StopOnNonFinite(keras.callbacks.Callback):
    """Stop training at the first batch whose loss is NaN or infinite; `step` is its 1-based global step."""

    def __init__(self, steps_per_epoch):
        super().__init__()
        self.steps_per_epoch = steps_per_epoch
        self.epoch = 0
        self.step = None
        self.batch = None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not _finite(loss) and self.step is None:
            self.step = self.epoch * self.steps_per_epoch + batch + 1
            self.batch = batch + 1
            self.model.stop_training = True
