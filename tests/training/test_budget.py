import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf
import yaml

from keras_suite.config import TrainConfig, duration_seconds, load_config
from keras_suite.errors import UserError
from keras_suite.runs import Run
from keras_suite.training import budget
from keras_suite.training.budget import calibrate, plan_epochs
from keras_suite.training.trainer import fit, read_history


@dataclasses.dataclass
class _Cfg:
    train: TrainConfig = dataclasses.field(default_factory=TrainConfig)


def _data(n=64, seed=0):
    x = np.random.default_rng(seed).normal(size=(n, 4)).astype("float32")
    y = (x.sum(-1, keepdims=True) > 0).astype("float32")
    return tf.data.Dataset.from_tensor_slices((x, y)).shuffle(n, seed=seed).batch(8)


def _build():
    inp = keras.Input((4,))
    hidden = keras.layers.Dropout(0.3, seed=1)(keras.layers.Dense(8, activation="relu")(inp))
    return keras.Model(inp, keras.layers.Dense(1, activation="sigmoid")(hidden)), "binary_crossentropy", ["accuracy"]


@pytest.mark.parametrize("value, seconds", [(90, 90), ("90s", 90), ("10m", 600), ("1.5h", 5400), (" 2M ", 120)])
def test_durations(value, seconds):
    assert duration_seconds(value, "x") == seconds
    assert load_config(_Cfg, overrides={"train.time_budget": str(value)}).train.budget_seconds() == seconds


@pytest.mark.parametrize("value", ["abc", "-5m", "0", "10d", "nan", "1e9h", ""])
def test_bad_durations_are_refused_when_the_config_loads(value):
    with pytest.raises(UserError, match="train.time_budget must be a duration such as 90s"):
        load_config(_Cfg, overrides={"train.time_budget": value})


def test_a_budget_is_for_one_machine():
    with pytest.raises(UserError, match="with train.strategy=multi_worker set train.epochs"):
        load_config(_Cfg, overrides={"train.time_budget": "10m", "train.strategy": "multi_worker"})


def test_plan_epochs():
    assert plan_epochs(100, 10, 9, 1000) == 10
    assert plan_epochs(100, 10, 9, 4) == 4  # at most
    assert plan_epochs(100, 99, 9, 1000) == 1  # at least one when planning
    assert plan_epochs(100, 99, 9, 1000, least=0) == 0  # none more when re-planning


def test_calibration_leaves_no_trace():
    """Weights, optimizer state (step count, moments) and dropout generator states are what they were."""
    model, loss, metrics = _build()
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss=loss, metrics=metrics)
    model.optimizer.build(model.trainable_variables)
    model.train_on_batch(*next(iter(_data())))  # a model part-way through training
    before = [v.numpy().copy() for v in (*model.variables, *model.optimizer.variables)]
    train_step, val_step = calibrate(model, _data(), _data(seed=1))
    after = [v.numpy() for v in (*model.variables, *model.optimizer.variables)]
    assert train_step > 0 and val_step > 0
    assert len(before) == len(after) and all(np.array_equal(a, b) for a, b in zip(before, after))


def test_training_reuses_the_steps_calibration_traced():
    """The steps calibration ran are the ones `fit` runs: it neither traces nor (with XLA) compiles them again
    (each trace runs the Python step once)."""
    model, loss, metrics = _build()
    model.compile(optimizer="adam", loss=loss, metrics=metrics)
    model.optimizer.build(model.trainable_variables)  # as training does
    traces = {"train": 0, "test": 0}

    def counted(kind, step):
        def trace(data):
            traces[kind] += 1
            return step(data)
        return trace

    model.train_step, model.test_step = counted("train", model.train_step), counted("test", model.test_step)
    calibrate(model, _data(), _data(seed=1))
    traced = dict(traces)
    model.fit(_data().repeat(), validation_data=_data(seed=1), steps_per_epoch=3, epochs=2, verbose=0)
    assert traced["train"] > 0 and traced["test"] > 0 and traces == traced


class _Clock:
    """Advances one second per reading; `slow` adds seconds at each epoch's end (previews, monitors)."""

    def __init__(self):
        self.time = -1.0

    def __call__(self):
        self.time += 1
        return self.time

    def slow(self, seconds):
        clock = self

        class Slow(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                clock.time += seconds

        return Slow()


def test_training_follows_the_clock_and_ends_on_time(tmp_path, monkeypatch, caplog):
    """Calibration measures 1/8 s a training step and 1/4 s a validation step; the epochs then take 6 s (previews
    and monitors are slow): the plan shrinks, and the schedule, the config and the epochs run agree with it."""
    clock = _Clock()
    monkeypatch.setattr(budget, "CLOCK", clock)
    cfg = load_config(_Cfg, overrides={"train.time_budget": "31s", "train.epochs": 3, "train.run_name": "b",
                                       "train.early_stopping_patience": 0, "train.verbose": 0})
    run = Run(tmp_path / "b")
    run.path.mkdir()
    with caplog.at_level("INFO", logger="keras_suite"):
        model = fit(cfg, run, _build, _data(), _data(seed=1), [clock.slow(5)])
    # Planned at the 6th reading (the start, 4 in calibration): (31 - 5) / (8 steps / 8 + 8 batches / 4) = 8 epochs,
    # more than train.epochs: the budget decides. Epoch 2 ends at 21 s and took 6: one more fits, three in all.
    assert "an epoch of 8 steps takes about 3 s here; planned 8 epochs" in caplog.text
    assert "an epoch takes 6.0 s here; training ends after epoch 3" in caplog.text
    saved = yaml.safe_load(run.config.read_text())["train"]
    assert saved["epochs"] == len(read_history(run.history)["loss"]) == cfg.train.epochs == 3
    assert saved["time_budget"] == "31s"
    schedule = model.optimizer._learning_rate
    assert int(schedule.decay_steps.numpy()) == 3 * 8
    assert float(schedule(3 * 8)) == pytest.approx(1e-3 * 0.01, rel=1e-4)  # annealed by the last step


def test_a_budget_counts_from_the_start_of_the_command(tmp_path, monkeypatch, caplog):
    """Loading the data is part of the budget: 12 s spent before training leave room for 4 epochs of 3 s, not 8."""
    clock = _Clock()
    monkeypatch.setattr(budget, "CLOCK", clock)
    cfg = load_config(_Cfg, overrides={"train.time_budget": "31s", "train.run_name": "b",
                                       "train.early_stopping_patience": 0, "train.verbose": 0})
    run = Run(tmp_path / "b")
    run.path.mkdir()
    with caplog.at_level("INFO", logger="keras_suite"), budget.command_clock():  # the command starts at 0 s
        clock.time += 12  # loading the data
        fit(cfg, run, _build, _data(), _data(seed=1))
    # calibration reads the clock at 13-16 s (3 s an epoch, as above) and plans at 17 s: (31 - 17) / 3 -> 4 epochs
    assert "an epoch of 8 steps takes about 3 s here; planned 4 epochs" in caplog.text
    assert len(read_history(run.history)["loss"]) == 4
    assert budget.budget_start() == clock.time  # after the command, a budget counts from the fit call again


def test_a_resumed_budget_run_keeps_its_plan(tmp_path, monkeypatch):
    monkeypatch.setattr(budget, "CLOCK", _Clock())
    overrides = {"train.time_budget": "30s", "train.early_stopping_patience": 0, "train.verbose": 0}
    run = Run(tmp_path / "b")
    run.path.mkdir()
    fit(load_config(_Cfg, overrides=overrides), run, _build, _data(), _data(seed=1))
    planned = yaml.safe_load(run.config.read_text())["train"]["epochs"]
    monkeypatch.setattr(budget, "calibrate", lambda *a: pytest.fail("a resumed run calibrates again"))
    resumed = load_config(_Cfg, [run.config], overrides)
    fit(resumed, run, _build, _data(), _data(seed=1))
    assert resumed.train.epochs == planned and len(read_history(run.history)["loss"]) == planned


def test_the_history_has_the_wall_clock_across_a_resume(tmp_path):
    """`wall_seconds` counts from the run's start, and a resumed run goes on from the time its history holds."""
    overrides = {"train.epochs": 2, "train.early_stopping_patience": 0, "train.verbose": 0}
    run = Run(tmp_path / "w")
    run.path.mkdir()
    fit(load_config(_Cfg, overrides=overrides), run, _build, _data(), _data(seed=1))
    first = read_history(run.history)["wall_seconds"]
    fit(load_config(_Cfg, [run.config], {**overrides, "train.epochs": 3}), run, _build, _data(), _data(seed=1))
    seconds = read_history(run.history)["wall_seconds"]
    assert seconds[:2] == first and 0 < seconds[0] < seconds[1] < seconds[2]
