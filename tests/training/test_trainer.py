import dataclasses
import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_suite.config import TrainConfig, load_config
from keras_suite.errors import UserError
from keras_suite.training.trainer import _keep_history, configure, fit, make_optimizer, monitor_mode, read_history


@dataclasses.dataclass
class _Cfg:
    train: TrainConfig = dataclasses.field(default_factory=TrainConfig)


def _data(n=32, nan=False):
    x = np.random.default_rng(0).normal(size=(n, 4)).astype("float32")
    if nan:
        x[:] = np.nan
    y = (x.sum(-1, keepdims=True) > 0).astype("float32")
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(8)


def _build():
    inp = keras.Input((4,))
    return keras.Model(inp, keras.layers.Dense(1, activation="sigmoid")(inp)), "binary_crossentropy", ["accuracy"]


def test_configure_picks_float32_on_cpu_and_the_schema_checks_the_choices():
    assert isinstance(configure(TrainConfig()), tf.distribute.Strategy)
    assert keras.mixed_precision.global_policy().name == "float32"
    with pytest.raises(UserError, match="train.strategy must be one of"):
        load_config(_Cfg, overrides={"train.strategy": "tpu"})
    with pytest.raises(UserError, match="train.precision must be one of"):
        load_config(_Cfg, overrides={"train.precision": "int4"})


def test_cosine_schedule_with_warmup():
    opt = make_optimizer(TrainConfig(learning_rate=0.1, epochs=10, warmup_epochs=1), steps_per_epoch=10)
    schedule = opt.learning_rate if callable(opt.learning_rate) else opt._learning_rate
    assert float(schedule(0)) == pytest.approx(0.0)
    assert float(schedule(10)) == pytest.approx(0.1, rel=1e-5)
    assert float(schedule(100)) == pytest.approx(0.1 * 0.01, rel=1e-3)
    with pytest.raises(UserError, match="train.optimizer must be one of .*adagrad"):
        load_config(_Cfg, overrides={"train.optimizer": "adagrad"})


def test_monitor_mode():
    assert monitor_mode("val_loss") == "min" and monitor_mode("val_mean_iou") == "max"
    # Scores whose names hold none of acc/iou/dice/auc/bleu/map were once taken for losses.
    for score in ("val_exact_match", "val_tar_at_far", "val_psnr", "val_verification_accuracy", "val_map50"):
        assert monitor_mode(score) == "max", score
    for loss in ("val_perplexity", "val_bits_per_char", "val_triplet_loss", "loss"):
        assert monitor_mode(loss) == "min", loss
    assert monitor_mode("val_exact_match", "min") == "min" and monitor_mode("val_loss", "max") == "max"


def test_best_model_keeps_the_best_epoch_of_a_score_named_like_none_of_the_old_words(tmp_path):
    """train.monitor=val_exact_match: the best model and the summary hold the epoch where it was highest."""
    scores = iter([0.2, 0.9, 0.5])

    class ExactMatch(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["val_exact_match"] = next(scores)

    cfg = _Cfg(TrainConfig(epochs=3, early_stopping_patience=0, verbose=0, monitor="val_exact_match"))
    fit(cfg, tmp_path, _build, _data(), _data(16), [ExactMatch()])
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["best_epoch"] == 2 and metrics["best"]["val_exact_match"] == 0.9


def test_fit_writes_run_files(tmp_path):
    cfg = _Cfg(TrainConfig(epochs=2, early_stopping_patience=0, verbose=0))
    model = fit(cfg, tmp_path, _build, _data(), _data(16))
    assert model.built
    for name in ("config.yaml", "model.keras", "metrics.json", "history.csv", "checkpoints/best.keras"):
        assert (tmp_path / name).is_file(), name


def test_non_finite_loss_stops_with_clear_error(tmp_path):
    cfg = _Cfg(TrainConfig(epochs=3, early_stopping_patience=0, verbose=0))
    with pytest.raises(UserError, match=r"non-finite at step 1 \(epoch 1, batch 1\); no epoch finished"):
        fit(cfg, tmp_path, _build, _data(nan=True), _data(16))
    assert not (tmp_path / "model.keras").exists()


def test_non_finite_loss_names_the_step_and_keeps_the_last_good_model(tmp_path):
    x = np.random.default_rng(0).normal(size=(80, 4)).astype("float32")
    x[48:56] = np.nan  # the 7th batch of the stream: epoch 2, batch 3
    train = tf.data.Dataset.from_tensor_slices((x, (x.sum(-1, keepdims=True) > 0).astype("float32"))).batch(8)
    cfg = _Cfg(TrainConfig(epochs=3, steps_per_epoch=4, early_stopping_patience=0, verbose=0))
    with pytest.raises(UserError, match=r"non-finite at step 7 \(epoch 2, batch 3\); the last good model is "
                                        r".*best.keras \(epoch 1\)"):
        fit(cfg, tmp_path, _build, train, _data(16))
    best = keras.saving.load_model(tmp_path / "checkpoints" / "best.keras", safe_mode=True)
    assert np.isfinite(best.predict(np.ones((2, 4)), verbose=0)).all()
    state = json.loads((tmp_path / "backup" / "state.json").read_text())
    assert state["epoch"] == 1  # the backup holds the last finite epoch, so resume= starts from it
    assert not (tmp_path / "model.keras").exists()


def _dropout_build():
    inp = keras.Input((4,))
    x = keras.layers.Dropout(0.3)(keras.layers.Dense(16, activation="relu")(inp))
    return keras.Model(inp, keras.layers.Dense(1, activation="sigmoid")(x)), "binary_crossentropy", ["accuracy"]


def _shuffled(n=64):
    x = np.random.default_rng(1).normal(size=(n, 4)).astype("float32")
    y = (x.sum(-1, keepdims=True) > 0).astype("float32")
    return tf.data.Dataset.from_tensor_slices((x, y)).shuffle(n, seed=3, reshuffle_each_iteration=True).batch(8)


class _Interrupt(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 2:
            raise KeyboardInterrupt  # after epoch 2's backup, like a kill


@pytest.mark.parametrize("steps_per_epoch", [None, 5])
def test_resumed_run_ends_with_the_weights_of_an_uninterrupted_one(tmp_path, steps_per_epoch):
    """Shuffled data, dropout, Adam on a cosine schedule and early stopping's state: a run interrupted after
    epoch 2 and started again ends with the weights of a run that was never interrupted."""
    def train(run, callbacks=()):
        run.mkdir(exist_ok=True)
        keras.utils.set_random_seed(0)  # as in a fresh process: the data pipeline is built before fit seeds
        cfg = _Cfg(TrainConfig(epochs=4, steps_per_epoch=steps_per_epoch, early_stopping_patience=3, verbose=0,
                               seed=4))
        return fit(cfg, run, _dropout_build, _shuffled(), _data(16), callbacks)

    whole = train(tmp_path / "whole").get_weights()
    with pytest.raises(KeyboardInterrupt):
        train(tmp_path / "split", [_Interrupt()])
    resumed = train(tmp_path / "split")
    for a, b in zip(whole, resumed.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    rows = (tmp_path / "split" / "history.csv").read_text().strip().splitlines()
    assert len(rows) == 5  # header + 4 epochs


def test_monitor_typo_warns_instead_of_silently_keeping_nothing(tmp_path, capsys):
    cfg = _Cfg(TrainConfig(epochs=1, early_stopping_patience=0, verbose=0, monitor="val_acuracy"))
    fit(cfg, tmp_path, _build, _data(), _data(16))
    assert "train.monitor 'val_acuracy' is not logged" in capsys.readouterr().out


def test_steps_per_epoch_beyond_one_pass_and_validation_steps_clamped(tmp_path):
    cfg = _Cfg(TrainConfig(epochs=3, steps_per_epoch=6, validation_steps=10, early_stopping_patience=0,
                           verbose=0))
    fit(cfg, tmp_path, _build, _data(32), _data(16))  # 4 train batches a pass, 2 validation batches
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["epochs_run"] == 3 and len(metrics["history"]["val_loss"]) == 3


def test_history_keeps_only_the_epochs_the_backup_holds(tmp_path):
    path = tmp_path / "history.csv"
    path.write_text("epoch,loss\n0,0.9\n1,0.8\n2,0.7\n3,0.")  # epoch 2 logged before a kill; 3 cut mid-write
    _keep_history(path, 2)
    assert path.read_text() == "epoch,loss\n0,0.9\n1,0.8\n"
    assert read_history(path) == {"loss": [0.9, 0.8]}

