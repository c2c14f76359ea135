"""The one trainer: precision, distribution strategy, optimizer, callbacks, fit, resume, metrics JSON."""

import csv
import logging
import math
import sys
import time
from pathlib import Path

import keras
import tensorflow as tf

from keras_suite.config import save_config, to_dict
from keras_suite.errors import UserError
from keras_suite.runs import write_json

log = logging.getLogger("keras_suite")

PRECISIONS = ("auto", "float32", "mixed_float16", "mixed_bfloat16")
STRATEGIES = ("default", "mirrored")
OPTIMIZERS = {"adam": keras.optimizers.Adam, "adamw": keras.optimizers.AdamW, "sgd": keras.optimizers.SGD}


def configure(train_cfg):
    """Seed everything, set the dtype policy and return the distribution strategy."""
    if train_cfg.precision not in PRECISIONS:
        raise UserError(f"train.precision must be one of {', '.join(PRECISIONS)}, got '{train_cfg.precision}'")
    if train_cfg.strategy not in STRATEGIES:
        raise UserError(f"train.strategy must be one of {', '.join(STRATEGIES)}, got '{train_cfg.strategy}'")
    keras.utils.set_random_seed(train_cfg.seed)
    precision = train_cfg.precision
    if precision == "auto":  # float32 on CPU (bfloat16 is slower there), float16 on GPUs
        precision = "mixed_float16" if tf.config.list_physical_devices("GPU") else "float32"
    keras.mixed_precision.set_global_policy(precision)
    if train_cfg.strategy == "mirrored":
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def make_optimizer(train_cfg, steps_per_epoch):
    if train_cfg.optimizer not in OPTIMIZERS:
        raise UserError(f"train.optimizer must be one of {', '.join(OPTIMIZERS)}, got '{train_cfg.optimizer}'")
    lr = train_cfg.learning_rate
    total = max(1, train_cfg.epochs * steps_per_epoch)
    warmup = min(train_cfg.warmup_epochs * steps_per_epoch, total - 1)
    if train_cfg.lr_schedule == "cosine":
        lr = keras.optimizers.schedules.CosineDecay(
            0.0 if warmup else lr, total - warmup, alpha=0.01,
            warmup_target=lr if warmup else None, warmup_steps=warmup)
    elif train_cfg.lr_schedule != "constant":
        raise UserError(f"train.lr_schedule must be cosine or constant, got '{train_cfg.lr_schedule}'")
    kwargs = {"learning_rate": lr}
    if train_cfg.clipnorm:
        kwargs["clipnorm"] = train_cfg.clipnorm
    if train_cfg.optimizer == "adamw":
        kwargs["weight_decay"] = train_cfg.weight_decay
    return OPTIMIZERS[train_cfg.optimizer](**kwargs)


def monitor_mode(monitor):
    """'max' for scores (accuracy, IoU, Dice, AUC, BLEU, mAP), 'min' for losses."""
    return "max" if any(k in monitor for k in ("acc", "iou", "dice", "auc", "bleu", "map")) else "min"


def _steps(ds, configured):
    if configured:
        return configured
    n = int(ds.cardinality())
    if n <= 0:
        raise UserError("the training set size is unknown or empty; set train.steps_per_epoch")
    return n


def fit(cfg, run_dir, build, train_ds, val_ds, callbacks=(), optimizer=None):
    """Train `build()` -> compiled-ready (model, loss, metrics) under cfg.train; write the run's files.

    `optimizer(steps_per_epoch)` replaces the optimizer `make_optimizer` builds from cfg.train.

    Returns the trained model (best weights restored when early stopping is on).
    """
    tc = cfg.train
    run_dir = Path(run_dir)
    mode = monitor_mode(tc.monitor)
    strategy = configure(tc)
    steps = _steps(train_ds, tc.steps_per_epoch)
    if strategy.num_replicas_in_sync > 1:
        print(f"strategy: {type(strategy).__name__} with {strategy.num_replicas_in_sync} replicas")
    with strategy.scope():
        model, loss, metrics = build()
        opt = optimizer(steps) if optimizer is not None else make_optimizer(tc, steps)
        model.compile(optimizer=opt, loss=loss, metrics=metrics, jit_compile=tc.jit_compile)
    save_config(cfg, run_dir / "config.yaml")
    (run_dir / "checkpoints").mkdir(exist_ok=True)
    cbs = [
        # Kept after the run ends, so `resume=<run> train.epochs=<more>` continues where it stopped.
        keras.callbacks.BackupAndRestore(str(run_dir / "backup"), delete_checkpoint=False),
        keras.callbacks.TerminateOnNaN(),
        *callbacks,  # before the loggers, so metrics an app's callback adds (val_bleu) are logged and monitored
        keras.callbacks.ModelCheckpoint(str(run_dir / "checkpoints" / "best.keras"), monitor=tc.monitor,
                                        mode=mode, save_best_only=True),
        keras.callbacks.CSVLogger(str(run_dir / "history.csv"), append=True),
        keras.callbacks.TensorBoard(str(run_dir / "logs"), write_graph=False),
    ]
    if tc.early_stopping_patience > 0:
        cbs.append(keras.callbacks.EarlyStopping(monitor=tc.monitor, patience=tc.early_stopping_patience,
                                                 mode=mode, restore_best_weights=True))
    verbose = tc.verbose if tc.verbose != "auto" else (1 if sys.stdout.isatty() else 2)
    if tc.steps_per_epoch:  # epochs shorter or longer than one pass: keep drawing from the shuffled stream
        train_ds = train_ds.repeat()
    val_batches = int(val_ds.cardinality())
    val_steps = min(tc.validation_steps, val_batches) if tc.validation_steps and val_batches > 0 else tc.validation_steps
    start = time.time()
    history = model.fit(train_ds, validation_data=val_ds, epochs=tc.epochs, steps_per_epoch=tc.steps_per_epoch,
                        validation_steps=val_steps, callbacks=cbs, verbose=verbose, shuffle=False)
    seconds = time.time() - start
    losses = history.history.get("loss", [])
    if losses and not math.isfinite(losses[-1]):
        raise UserError(f"training stopped: the loss became non-finite in epoch {history.epoch[-1] + 1}; "
                        f"the last good model is {run_dir / 'checkpoints' / 'best.keras'}")
    model.save(run_dir / "model.keras")
    write_json(run_dir / "metrics.json", summarize(read_history(run_dir / "history.csv"), tc.monitor, seconds, cfg))
    return model


def read_history(path):
    """All epochs of a run, across resumes, from the CSVLogger file: {metric: [value per epoch]}."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return {k: [float(r[k]) for r in rows] for k in (rows[0] if rows else {}) if k != "epoch"}


def summarize(hist, monitor, seconds, cfg):
    monitored = hist.get(monitor, [])
    pick = max if monitor_mode(monitor) == "max" else min
    best = pick(range(len(monitored)), key=monitored.__getitem__) if monitored else None
    return {
        "epochs_run": len(hist.get("loss", [])),
        "train_seconds": round(seconds, 2),
        "monitor": monitor,
        "best_epoch": None if best is None else best + 1,
        "best": {k: v[best] for k, v in hist.items()} if best is not None else {},
        "final": {k: v[-1] for k, v in hist.items()},
        "history": hist,
        "config": to_dict(cfg),
    }
