import dataclasses
import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_suite.config import TrainConfig
from keras_suite.errors import UserError
from keras_suite.train import configure, fit, make_optimizer, monitor_mode


@dataclasses.dataclass
class _Cfg:
    train: TrainConfig


def _data(n=32, nan=False):
    x = np.random.default_rng(0).normal(size=(n, 4)).astype("float32")
    if nan:
        x[:] = np.nan
    y = (x.sum(-1, keepdims=True) > 0).astype("float32")
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(8)


def _build():
    inp = keras.Input((4,))
    return keras.Model(inp, keras.layers.Dense(1, activation="sigmoid")(inp)), "binary_crossentropy", ["accuracy"]


def test_configure_picks_float32_on_cpu_and_validates():
    assert isinstance(configure(TrainConfig()), tf.distribute.Strategy)
    assert keras.mixed_precision.global_policy().name == "float32"
    with pytest.raises(UserError, match="train.strategy must be one of"):
        configure(TrainConfig(strategy="tpu"))
    with pytest.raises(UserError, match="train.precision must be one of"):
        configure(TrainConfig(precision="int4"))


def test_cosine_schedule_with_warmup():
    opt = make_optimizer(TrainConfig(learning_rate=0.1, epochs=10, warmup_epochs=1), steps_per_epoch=10)
    schedule = opt.learning_rate if callable(opt.learning_rate) else opt._learning_rate
    assert float(schedule(0)) == pytest.approx(0.0)
    assert float(schedule(10)) == pytest.approx(0.1, rel=1e-5)
    assert float(schedule(100)) == pytest.approx(0.1 * 0.01, rel=1e-3)
    with pytest.raises(UserError, match="train.optimizer"):
        make_optimizer(TrainConfig(optimizer="adagrad"), 1)


def test_monitor_mode():
    assert monitor_mode("val_loss") == "min" and monitor_mode("val_mean_iou") == "max"


def test_fit_writes_run_files(tmp_path):
    cfg = _Cfg(TrainConfig(epochs=2, early_stopping_patience=0, verbose=0))
    model = fit(cfg, tmp_path, _build, _data(), _data(16))
    assert model.built
    for name in ("config.yaml", "model.keras", "metrics.json", "history.csv", "checkpoints/best.keras"):
        assert (tmp_path / name).is_file(), name


def test_non_finite_loss_stops_with_clear_error(tmp_path):
    cfg = _Cfg(TrainConfig(epochs=3, early_stopping_patience=0, verbose=0))
    with pytest.raises(UserError, match="loss became non-finite in epoch 1"):
        fit(cfg, tmp_path, _build, _data(nan=True), _data(16))
    assert not (tmp_path / "model.keras").exists()


def test_steps_per_epoch_beyond_one_pass_and_validation_steps_clamped(tmp_path):
    cfg = _Cfg(TrainConfig(epochs=3, steps_per_epoch=6, validation_steps=10, early_stopping_patience=0,
                           verbose=0))
    fit(cfg, tmp_path, _build, _data(32), _data(16))  # 4 train batches a pass, 2 validation batches
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["epochs_run"] == 3 and len(metrics["history"]["val_loss"]) == 3
