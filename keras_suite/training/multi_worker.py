"""Data-parallel training over several machines with `tf.distribute.MultiWorkerMirroredStrategy`.

Every worker runs the same command with its own `TF_CONFIG` (cluster addresses and its task index).
Keras 3 `Model.fit` fails under this strategy (keras-team/keras#20585), so `train_loop` runs the
compiled model's own `train_step` / `test_step` through `strategy.run` on distributed datasets and
drives the same Keras callbacks `fit` would (progress bar, TensorBoard, CSV log, best model, backup,
previews), and averages BatchNorm statistics over the replicas after each epoch. The chief (task
`chief`, or worker 0 when there is none) writes the run directory; the other workers write into a
temporary folder removed at exit.
"""

import atexit
import json
import os
import shutil
import tempfile

import keras
import tensorflow as tf

from keras_suite.errors import UserError
from keras_suite.runs import Run

LOST = (tf.errors.UnavailableError, tf.errors.CancelledError, tf.errors.DeadlineExceededError,
        tf.errors.AbortedError)


class WorkerLost(UserError):
    """A peer of a multi-worker run went away (killed, crashed, network down)."""


def cluster():
    """(task type, task index, number of workers) from TF_CONFIG, validated."""
    text = os.environ.get("TF_CONFIG")
    if not text:
        raise UserError('train.strategy=multi_worker needs TF_CONFIG, e.g. {"cluster": {"worker": ["host1:12345", '
                        '"host2:12345"]}, "task": {"type": "worker", "index": 0}}')
    try:
        config = json.loads(text)
        workers = {kind: list(config["cluster"][kind]) for kind in ("chief", "worker") if kind in config["cluster"]}
        task_type, index = config["task"]["type"], int(config["task"]["index"])
    except (ValueError, KeyError, TypeError) as e:
        raise UserError(f"TF_CONFIG is not valid ({type(e).__name__}: {e}); it needs 'cluster' and 'task'") from None
    if task_type not in workers or not 0 <= index < len(workers[task_type]):
        raise UserError(f"TF_CONFIG task {task_type}:{index} is not in its cluster {workers}")
    return task_type, index, sum(len(v) for v in workers.values())


def is_chief():
    task_type, index, _ = cluster()
    has_chief = "chief" in json.loads(os.environ["TF_CONFIG"])["cluster"]
    return task_type == "chief" or (not has_chief and task_type == "worker" and index == 0)


_strategy = []


def strategy():
    """The process's one MultiWorkerMirroredStrategy (TensorFlow allows one, made before other TF work)."""
    if not _strategy:
        cluster()
        _strategy.append(tf.distribute.MultiWorkerMirroredStrategy())
    return _strategy[0]


def scratch_run(resume=None):
    """A non-chief worker's run: a temporary folder (removed at exit) holding a copy of the resumed run's
    backup, so every worker restores the same state."""
    run = Run(tempfile.mkdtemp(prefix="keras-suite-worker-"))
    atexit.register(shutil.rmtree, run.path, ignore_errors=True)
    if resume is not None and resume.backup.is_dir():
        shutil.copytree(resume.backup, run.backup)
    return run


def _distribute(strategy, ds):
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return strategy.experimental_distribute_dataset(ds.with_options(options))


def _step(strategy, fn):
    @tf.function
    def step(iterator):
        outputs = strategy.run(fn, args=(next(iterator),))
        return {k: strategy.reduce("MEAN", v, axis=None) for k, v in outputs.items()}

    return step


def _averager(strategy, model):
    """A function that sets every float non-trainable variable (BatchNorm moving statistics, which each
    replica updates from its own batches) to its mean over all replicas."""
    variables = [v for v in model.non_trainable_variables if "float" in str(v.dtype)]

    @tf.function
    def average():
        def mean():
            context = tf.distribute.get_replica_context()
            return [context.all_reduce("MEAN", tf.identity(v.value)) for v in variables]

        values = strategy.run(mean)
        for variable, value in zip(variables, values):
            variable.value.assign(strategy.experimental_local_results(value)[0])

    return average if variables else (lambda: None)


def train_loop(model, strategy, train_ds, val_ds, epochs, initial_epoch, steps, val_steps, callbacks, verbose):
    """`model.fit` for MultiWorkerMirroredStrategy; returns the History.

    `train_ds` must repeat (every worker runs exactly `steps` steps an epoch); validation runs
    `val_steps` batches of `val_ds` (all when None) after each epoch. A worker that goes away ends
    training on the others with `WorkerLost`; the backup of the last finished epoch stays.
    """
    try:
        return _loop(model, strategy, train_ds, val_ds, epochs, initial_epoch, steps, val_steps, callbacks, verbose)
    except LOST as e:  # TensorFlow's health check notices a dead or frozen peer within about 20 s
        raise WorkerLost(f"training stopped: another worker of the cluster stopped responding ({type(e).__name__}); "
                         f"start every worker again with the same command to go on from the last finished "
                         f"epoch") from None


def _loop(model, strategy, train_ds, val_ds, epochs, initial_epoch, steps, val_steps, callbacks, verbose):
    if not model.optimizer.built:
        with strategy.scope():
            model.optimizer.build(model.trainable_variables)
    train_step, test_step = _step(strategy, model.train_step), _step(strategy, model.test_step)
    average_statistics = _averager(strategy, model)
    train_iter = iter(_distribute(strategy, train_ds))
    if val_steps is None:
        val_steps = int(val_ds.cardinality())
        if val_steps < 0:
            raise UserError("the validation set size is unknown; set train.validation_steps")
    cbs = keras.callbacks.CallbackList(callbacks, add_history=True, add_progbar=verbose != 0, model=model,
                                       verbose=verbose, epochs=epochs, steps=steps)
    model.stop_training = False
    cbs.on_train_begin()
    for epoch in range(initial_epoch, epochs):
        model.reset_metrics()
        cbs.on_epoch_begin(epoch)
        logs = {}
        for batch in range(steps):
            cbs.on_train_batch_begin(batch)
            logs = {k: float(v) for k, v in train_step(train_iter).items()}
            cbs.on_train_batch_end(batch, logs)
            if model.stop_training:
                break
        average_statistics()  # so every worker validates, saves and goes on with the same weights
        model.reset_metrics()
        val_iter = iter(_distribute(strategy, val_ds.repeat()))
        cbs.on_test_begin()
        val_logs = {}
        for batch in range(val_steps):
            cbs.on_test_batch_begin(batch)
            val_logs = {k: float(v) for k, v in test_step(val_iter).items()}
            cbs.on_test_batch_end(batch, val_logs)
        cbs.on_test_end(val_logs)
        logs = {**logs, **{f"val_{k}": v for k, v in val_logs.items()}}
        cbs.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    cbs.on_train_end(logs)
    return model.history
