"""The one trainer: precision, distribution strategy, optimizer, callbacks, fit, exact resume, metrics JSON."""

import csv
import hashlib
import logging
import re
import time

import keras
import numpy as np
import tensorflow as tf

from keras_suite.config import MAX_EPOCHS, save_config, to_dict
from keras_suite.config import OPTIMIZERS as OPTIMIZER_NAMES
from keras_suite.console import progress_verbosity
from keras_suite.data.pipeline import steady
from keras_suite.errors import UserError
from keras_suite.files import write_json, write_text
from keras_suite.runs import Run
from keras_suite.training import multi_worker
from keras_suite.training.budget import TimeBudget, WallClock, budget_start, calibrate, now, plan_epochs
from keras_suite.training.checkpointing import Backup, BestModel, StopOnNonFinite, load_backup, restore
from keras_suite.training.interrupt import InterruptAtBatchEnd
from keras_suite.training.schedules import ResizableCosineDecay

log = logging.getLogger("keras_suite")

OPTIMIZERS = dict(zip(OPTIMIZER_NAMES, (keras.optimizers.Adam, keras.optimizers.AdamW, keras.optimizers.SGD),
                      strict=True))
SCORE_WORDS = {"acc", "accuracy", "iou", "dice", "auc", "bleu", "map", "map50", "map75", "match", "tar", "psnr",
               "precision", "recall", "f1"}
LOSS_WORDS = {"loss", "error", "errors", "perplexity", "bits", "nats", "distance"}


def configure(train_cfg):
    """Seed everything, set the dtype policy and return the distribution strategy (the schema checked the
    choices)."""
    keras.utils.set_random_seed(train_cfg.seed)
    precision = train_cfg.precision
    if precision == "auto":  # float32 on CPU (bfloat16 is slower there), float16 on GPUs
        precision = "mixed_float16" if tf.config.list_physical_devices("GPU") else "float32"
    keras.mixed_precision.set_global_policy(precision)
    if train_cfg.strategy == "mirrored":
        return tf.distribute.MirroredStrategy()
    if train_cfg.strategy == "multi_worker":
        return multi_worker.strategy()
    return tf.distribute.get_strategy()


def make_optimizer(train_cfg, steps_per_epoch):
    lr = train_cfg.learning_rate
    total = max(1, train_cfg.epochs * steps_per_epoch)
    warmup = min(train_cfg.warmup_epochs * steps_per_epoch, total - 1)
    if train_cfg.lr_schedule == "cosine":
        lr = ResizableCosineDecay(
            0.0 if warmup else lr, total - warmup, alpha=0.01,
            warmup_target=lr if warmup else None, warmup_steps=warmup)
    kwargs = {"learning_rate": lr}
    if train_cfg.clipnorm:
        kwargs["clipnorm"] = train_cfg.clipnorm
    if train_cfg.optimizer in ("adam", "adamw"):
        kwargs["beta_2"] = train_cfg.beta_2
    if train_cfg.optimizer == "adamw":
        kwargs["weight_decay"] = train_cfg.weight_decay
    return OPTIMIZERS[train_cfg.optimizer](**kwargs)


def monitor_mode(monitor, mode="auto"):
    """Whether `monitor` improves going up ('max') or down ('min'); `mode` min or max says so, auto judges by the
    words of the metric's name: losses, errors and perplexity go down; accuracy, IoU, Dice, AUC, BLEU, mAP, exact
    match, TAR@FAR, PSNR go up; anything else is taken for a loss."""
    if mode != "auto":
        return mode
    words = set(re.split(r"[^a-z0-9]+", monitor.lower()))
    return "max" if words & SCORE_WORDS and not words & LOSS_WORDS else "min"


def _resize_schedule(optimizer, epochs, steps_per_epoch):
    """Fit a ResizableCosineDecay learning rate (make_optimizer's cosine) to `epochs` epochs; other schedules do not
    depend on the run's length."""
    schedule = getattr(optimizer, "_learning_rate", None)  # Keras keeps the schedule object there
    if isinstance(schedule, ResizableCosineDecay):
        schedule.resize(epochs * steps_per_epoch - int(schedule.warmup_steps))


def _steps(ds, configured):
    if configured:
        return configured
    n = int(ds.cardinality())
    if n <= 0:
        raise UserError("the training set size is unknown or empty; set train.steps_per_epoch")
    return n


def fit(cfg, run, build, train_ds, val_ds, callbacks=(), optimizer=None):
    """Train `build()` -> compiled-ready (model, loss, metrics) under cfg.train; write the run's files.

    `optimizer(steps_per_epoch)` replaces the optimizer `make_optimizer` builds from cfg.train. A run
    directory holding a backup (an interrupted or finished run) continues after its last finished epoch,
    with the same data order, dropout draws and optimizer state as if it had not stopped. With early
    stopping on, the returned (and saved) model has the best epoch's weights.

    Returns the trained model.
    """
    tc = cfg.train
    started, wall_started = budget_start(), time.monotonic()
    train_ds, val_ds = steady(train_ds), steady(val_ds)  # fit drops iterators without waiting
    run = run if isinstance(run, Run) else Run(run)
    mode = monitor_mode(tc.monitor, tc.monitor_mode)
    strategy = configure(tc)
    steps = _steps(train_ds, tc.steps_per_epoch)
    if strategy.num_replicas_in_sync > 1 or tc.strategy == "multi_worker":
        print(f"strategy: {type(strategy).__name__} with {strategy.num_replicas_in_sync} replicas")
    with strategy.scope():
        model, loss, metrics = build()
        opt = optimizer(steps) if optimizer is not None else make_optimizer(tc, steps)
        model.compile(optimizer=opt, loss=loss, metrics=metrics, jit_compile=tc.jit_compile)
        opt.build(model.trainable_variables)
    state = load_backup(run.backup)
    initial_epoch = state["epoch"] if state else 0
    val_batches = int(val_ds.cardinality())
    val_steps = tc.validation_steps
    if val_steps and val_batches > 0:
        val_steps = min(val_steps, val_batches)
    budget = None if state else tc.budget_seconds()  # a resumed run keeps the plan its config.yaml holds
    if budget is not None:
        train_step, val_step = calibrate(model, train_ds, val_ds)
        epoch_seconds = steps * train_step + (val_steps or max(val_batches, 0)) * val_step
        tc.epochs = plan_epochs(budget, now() - started, epoch_seconds, MAX_EPOCHS)
        _resize_schedule(opt, tc.epochs, steps)
        log.info("time budget %s: an epoch of %d steps takes about %.2g s here; planned %d epochs", tc.time_budget,
                 steps, epoch_seconds, tc.epochs)
    save_config(cfg, run.config)
    if state:
        with strategy.scope():
            restore(model, run.backup, state)
        print(f"resuming after epoch {initial_epoch} from {run.backup}")
    _keep_history(run.history, initial_epoch)
    clock = WallClock(wall_started, _seconds_so_far(run.history) if state else 0.0)
    stop = StopOnNonFinite(steps)
    best = BestModel(run.best, tc.monitor, mode)
    early = None
    if tc.early_stopping_patience > 0:
        early = keras.callbacks.EarlyStopping(monitor=tc.monitor, patience=tc.early_stopping_patience, mode=mode)
    budgeting = []
    if budget is not None:
        progress = keras.callbacks.ProgbarLogger()  # fit's own progress display, whose epoch total follows the plan

        def replanned(epochs):
            tc.epochs = progress.epochs = epochs
            _resize_schedule(opt, epochs, steps)
            save_config(cfg, run.config)

        budgeting = [TimeBudget(budget, started, tc.epochs, replanned), progress]
    cbs = [
        stop,
        *callbacks,  # before the loggers, so metrics an app's callback adds (val_bleu) are logged and monitored
        *budgeting,  # after them: an epoch's time includes their work
        clock,
        best,
        keras.callbacks.CSVLogger(str(run.history), append=True),
        keras.callbacks.TensorBoard(str(run.logs), write_graph=False),
        *([early] if early else []),
        Backup(run.backup, keep={"best": best, "early_stopping": early} if early else {"best": best}, restored=state),
        interrupt := InterruptAtBatchEnd(),  # last: an epoch that ends is backed up before Ctrl-C stops the run
    ]
    verbose = progress_verbosity(tc.verbose)
    train_ds = _replay(train_ds, initial_epoch, steps)
    start = time.time()
    with interrupt:
        if tc.strategy == "multi_worker":
            multi_worker.train_loop(model, strategy, train_ds, val_ds, tc.epochs, initial_epoch, steps, val_steps,
                                    cbs, verbose)
        else:
            model.fit(train_ds, validation_data=val_ds, epochs=tc.epochs, initial_epoch=initial_epoch,
                      steps_per_epoch=steps, validation_steps=val_steps,
                      callbacks=cbs, verbose=verbose, shuffle=False)
    seconds = time.time() - start
    if stop.step is not None:
        good = (f"the last good model is {best.path} (epoch {best.best_epoch})" if best.best_epoch
                else "no epoch finished with a finite loss")
        raise UserError(f"training stopped: the loss became non-finite at step {stop.step} (epoch {stop.epoch + 1}, "
                        f"batch {stop.batch}); {good}; lower train.learning_rate or set train.clipnorm")
    if early is not None and best.path.is_file():
        model.load_weights(best.path)
    if tc.strategy == "multi_worker":  # the same on every worker: they trained in lockstep
        print(f"final weights digest: {weights_digest(model)}")
    model.save(run.model)
    write_json(run.metrics, summarize(read_history(run.history), tc.monitor, seconds, cfg, mode))
    return model


def weights_digest(model):
    """SHA-256 of the model's weights, for checking that replicas agree."""
    digest = hashlib.sha256()
    for w in model.get_weights():
        digest.update(np.ascontiguousarray(w).tobytes())
    return digest.hexdigest()[:16]


def _replay(train_ds, epochs_done, steps):
    """The training stream from epoch `epochs_done` on, as an uninterrupted run draws it: one repeated stream
    (each pass reshuffled by the dataset's own seeded shuffle) of `steps` batches an epoch, less the
    batches already trained on."""
    return train_ds.repeat().skip(epochs_done * steps)


def _keep_history(path, epochs):
    """Keep the CSV rows of the epochs the backup holds: a run killed after logging an epoch but before its
    backup landed trains that epoch again, and a kill mid-write leaves a partial line."""
    if not path.is_file():
        return
    lines = path.read_text().splitlines(keepends=True)
    kept = lines[:1] + [line for line in lines[1:] if line.endswith("\n") and line.split(",", 1)[0].isdigit()
                        and int(line.split(",", 1)[0]) < epochs]
    if len(kept) < len(lines):
        write_text(path, "".join(kept))


def _seconds_so_far(path):
    """The `wall_seconds` a resumed run's history ends with (0 without one)."""
    return (read_history(path).get("wall_seconds") or [0.0])[-1] if path.is_file() else 0.0


def read_history(path):
    """All epochs of a run, across resumes, from the CSVLogger file: {metric: [value per epoch]}."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return {k: [float(r[k]) for r in rows] for k in (rows[0] if rows else {}) if k != "epoch"}


def summarize(hist, monitor, seconds, cfg, mode="min"):
    monitored = hist.get(monitor, [])
    pick = max if mode == "max" else min
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
