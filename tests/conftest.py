import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402

from keras_suite.cli import main  # noqa: E402


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """One tiny segmentation run shared by the evaluate/predict/export tests."""
    root = tmp_path_factory.mktemp("runs")
    assert main(["segmentation", "train", "--config", "tiny", f"train.runs_dir={root}",
                 "train.steps_per_epoch=6", "train.epochs=2", "train.learning_rate=0.01"]) == 0
    (run,) = list((root / "segmentation").iterdir())
    return run


def run_cli(capsys, *args):
    """Run the CLI in-process; return (exit code, stdout, stderr)."""
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err
