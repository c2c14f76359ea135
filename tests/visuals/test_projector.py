import numpy as np
from tensorboard.backend.event_processing import data_provider, plugin_event_multiplexer
from tensorboard.plugins import base_plugin
from tensorboard.plugins.projector.projector_plugin import ProjectorPlugin

from keras_suite.visuals.projector import sprite, write_projector


def _projector_runs(logdir):
    """The runs TensorBoard's projector finds under `tensorboard --logdir logdir`."""
    multiplexer = plugin_event_multiplexer.EventMultiplexer()
    multiplexer.AddRunsFromDirectory(str(logdir))
    multiplexer.Reload()
    context = base_plugin.TBContext(logdir=str(logdir),
                                    data_provider=data_provider.MultiplexerDataProvider(multiplexer, str(logdir)))
    plugin = ProjectorPlugin(context)
    plugin._update_configs()
    return {run: [e.tensor_name for e in config.embeddings] for run, config in plugin._configs.items()}


def test_the_projector_is_found_from_the_runs_folder_the_app_prints(tmp_path):
    """The face app prints `tensorboard --logdir runs/face`; the projector must find the run's embedding there."""
    images = np.random.default_rng(0).integers(0, 255, (5, 8, 8, 3), np.uint8)
    write_projector(tmp_path / "face" / "run1" / "logs" / "projector", np.eye(5, 4), list("abcde"), images)
    runs = _projector_runs(tmp_path / "face")
    assert runs.get("run1/logs/projector") == ["embedding/.ATTRIBUTES/VARIABLE_VALUE"], runs


def test_sprite_is_a_square_grid():
    images = np.full((5, 4, 4, 3), 200, np.uint8)
    canvas = sprite(images)
    assert canvas.shape == (12, 12, 3) and canvas[:4, :4].min() == 200 and canvas[8:, 4:].max() == 0
