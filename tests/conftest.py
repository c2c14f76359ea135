"""Fixtures shared by the suite: the CLI run in-process, and tiny trained runs of every app."""

import contextlib
import fcntl
import os
import shutil

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402

from keras_suite.cli import main  # noqa: E402

# What `trained(app)` adds to `keras-suite <app> train --config tiny`; an app not listed trains its tiny.yaml as is.
# "app:variant" names a second tiny run of an app.
TINY = {
    "segmentation": ["train.steps_per_epoch=6", "train.epochs=2", "train.learning_rate=0.01"],
    "char_rnn": ["train.epochs=2"],
    "char_rnn:transformer": ["train.epochs=2", "model.cell=transformer", "model.units=16", "model.heads=2"],
    "detection": ["train.epochs=2"],
    "face": ["train.epochs=2"],
    "seq2seq": ["train.epochs=2", "train.steps_per_epoch=12"],
    "transformer": ["train.epochs=2", "train.steps_per_epoch=12", "train.lr_schedule=transformer"],  # the paper's
    "style": ["style=brick"],
    "embeddings:cbow": ["model.kind=cbow"],
    "captioning:transformer": ["model.decoder=transformer", "model.layers=1"],
    "embeddings:glove": ["model.kind=glove", "train.batch_size=64"],
    "autoencoder:variational": ["model.kind=variational", "model.kl_warmup_epochs=1"],
}


@pytest.fixture
def cli(capsys):
    """cli(*args) runs `keras-suite *args` in-process and returns (exit code, stdout, stderr)."""

    def run(*args):
        code = main(list(args))
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


@contextlib.contextmanager
def _locked(path):
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def trained(tmp_path_factory):
    """trained(app) -> the folder of a tiny trained run of `app` (or "app:variant"), trained once per test session
    and shared by the pytest-xdist workers. Tests read it, or write into it only what a command writes beside its
    model (evaluation reports, predictions); a test that changes the run itself (resume) works on a copy."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    shared = shared / "trained"
    shared.mkdir(exist_ok=True)

    def get(name):
        app, key = name.split(":")[0], name.replace(":", "_")
        root, done = shared / key, shared / f"{key}.done"
        with _locked(shared / f"{key}.lock"):
            if not done.is_file():
                shutil.rmtree(root, ignore_errors=True)
                code = main([app, "train", "--config", "tiny", f"train.runs_dir={root}", *TINY.get(name, [])])
                assert code == 0, f"tiny training of {name} failed"
                done.touch()
        (run,) = list((root / app).iterdir())
        return run

    return get


@pytest.fixture(scope="session")
def tiny_run(trained):
    """The tiny segmentation run most command-line tests use."""
    return trained("segmentation")
