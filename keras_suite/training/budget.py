"""Training to a wall-clock budget (`train.time_budget`), as Ultralytics' `time=`: a short calibration measures
real training and validation steps, the epochs that fit are planned from it (with the learning-rate schedule sized
to them), and after every epoch the plan is checked against the clock and shortened when epochs run longer than
measured (previews and monitors take their share), so training ends on time with the best model kept."""

import logging
import math
import time

import keras

log = logging.getLogger("keras_suite")
CLOCK = time.monotonic  # the one clock the budget reads (`now`), so that tests can drive it
WARMUP_STEPS = 2  # untimed: the first calls trace (and with XLA compile) the step functions
TIMED_STEPS = 8


def now():
    return CLOCK()


def _timed(step, batches, count):
    started = CLOCK()
    for _ in range(count):
        step(*keras.utils.unpack_x_y_sample_weight(next(batches)))
    return (CLOCK() - started) / count


def calibrate(model, train_ds, val_ds):
    """(seconds per training step, seconds per validation step) measured on real batches after untimed warm-up
    steps; the model's weights, optimizer state and random-generator states are put back afterwards, so the run
    trains as if no step had been taken."""
    saved = [(v, v.numpy()) for v in (*model.variables, *model.optimizer.variables)]
    try:
        train, val = iter(train_ds.repeat()), iter(val_ds.repeat())
        _timed(model.train_on_batch, train, WARMUP_STEPS)
        train_step = _timed(model.train_on_batch, train, TIMED_STEPS)
        _timed(model.test_on_batch, val, 1)
        val_step = _timed(model.test_on_batch, val, max(1, TIMED_STEPS // 2))
    finally:
        for variable, value in saved:
            variable.assign(value)
    return train_step, val_step


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
