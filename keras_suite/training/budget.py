"""Training to a wall-clock budget (`train.time_budget`), as Ultralytics' `time=`: the budget counts from the start
of the command (`command_clock`), data loading included, so the train command ends on time. A short calibration
measures real training and validation steps, the epochs that fit are planned from it (with the learning-rate
schedule sized to them), and after every epoch the plan is checked against the clock and shortened when epochs run
longer than measured (previews and monitors take their share), so training ends on time with the best model kept."""

import contextlib
import logging
import math
import time

import keras

log = logging.getLogger("keras_suite")
CLOCK = time.monotonic  # the one clock the budget reads (`now`), so that tests can drive it
WARMUP_STEPS = 2  # untimed: the first calls trace (and with XLA compile) the step functions
TIMED_STEPS = 8


_command_started = None


def now():
    return CLOCK()


@contextlib.contextmanager
def command_clock():
    """While a command runs: budgets count from its start (`budget_start`)."""
    global _command_started
    _command_started = now()
    try:
        yield
    finally:
        _command_started = None


def budget_start():
    """When the running command started, or now outside one (a direct `fit` call)."""
    return now() if _command_started is None else _command_started


class _Pace(keras.callbacks.Callback):
    """Seconds per batch over the batches after the first `skip` of a fit or an evaluate call: the clock is read
    when batch `skip` starts and when the call ends."""

    def __init__(self, skip):
        super().__init__()
        self.skip, self.started, self.ended, self.batches = skip, None, None, 0

    def _batch_end(self, batch, logs=None):
        if batch == self.skip - 1:
            if logs and "loss" in logs:
                float(logs["loss"])  # waits for the step: on a GPU the call returns before the device is done
            self.started = CLOCK()
        self.batches = batch + 1 - self.skip

    def _end(self, logs=None):
        self.ended = CLOCK()

    on_train_batch_end = on_test_batch_end = _batch_end
    on_train_end = on_test_end = _end

    def per_batch(self):
        return (self.ended - self.started) / max(1, self.batches)


def calibrate(model, train_ds, val_ds):
    """(seconds per training step, seconds per validation step) measured on real batches after untimed warm-up
    steps; the model's weights, optimizer state and random-generator states are put back afterwards, so the run
    trains as if no step had been taken. The steps go through `fit` and `evaluate`, as training's will: the
    functions they trace (and with XLA compile) are the ones training then reuses."""
    saved = [(v, v.numpy()) for v in (*model.variables, *model.optimizer.variables)]
    train, val = _Pace(WARMUP_STEPS), _Pace(1)
    try:
        model.fit(train_ds.repeat(), steps_per_epoch=WARMUP_STEPS + TIMED_STEPS, epochs=1, callbacks=[train],
                  verbose=0, shuffle=False)
        model.evaluate(val_ds.repeat(), steps=1 + max(1, TIMED_STEPS // 2), callbacks=[val], verbose=0)
    finally:
        for variable, value in saved:
            variable.assign(value)
    return train.per_batch(), val.per_batch()


def plan_epochs(budget, spent, epoch_seconds, most, least=1):
    """How many epochs fit in what is left of `budget` seconds after `spent`, each taking `epoch_seconds`: at least
    `least`, at most `most`."""
    return int(min(most, max(least, math.floor((budget - spent) / max(epoch_seconds, 1e-9)))))


class TimeBudget(keras.callbacks.Callback):
    """Ends training when the planned epochs are done. From the second epoch on it plans again after each epoch
    from the measured epoch time (the first epoch, which also traces previews and monitors, does not set the pace;
    it only stops training when the budget is already spent): the plan moves within [epochs done, the calibrated
    plan]; `on_plan(epochs)` re-sizes the learning-rate schedule, shows the new total and records it (the run's
    config keeps the plan, for resuming)."""

    def __init__(self, budget, started, epochs, on_plan=None):
        super().__init__()
        self.budget, self.started, self.epochs, self.most = budget, started, epochs, epochs
        self.on_plan = on_plan
        self.durations, self.epoch_started = [], None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_started = CLOCK()

    def on_epoch_end(self, epoch, logs=None):
        done = epoch + 1
        self.durations.append(CLOCK() - self.epoch_started)
        spent = CLOCK() - self.started
        later = self.durations[1:]
        if later:
            per_epoch = sum(later) / len(later)
            fits = done + plan_epochs(self.budget, spent, per_epoch, self.most - done, least=0)
        else:
            per_epoch, fits = self.durations[0], done if spent >= self.budget else self.epochs
        if fits != self.epochs:
            log.info("time budget: an epoch takes %.1f s here; training ends after epoch %d", per_epoch, fits)
            self.epochs = fits
            if self.on_plan is not None:
                self.on_plan(fits)
        if done >= self.epochs:
            self.model.stop_training = True


class WallClock(keras.callbacks.Callback):
    """Adds `wall_seconds` to each epoch's logs: real seconds since `started` (`time.monotonic()` when training
    began, building and calibration included; a resumed run goes on from `offset`, the time its history already
    holds), so curves can be read against time."""

    def __init__(self, started, offset=0.0):
        super().__init__()
        self.started, self.offset = started, offset

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["wall_seconds"] = round(self.offset + time.monotonic() - self.started, 3)
