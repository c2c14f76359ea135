"""A callback that renders a picture of the model's current predictions each epoch."""

from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from keras_suite.images import write_png


class ImagePreview(keras.callbacks.Callback):
    """Every `every` epochs: `render(model) -> uint8 (H, W, 3)`, saved as a PNG and a TensorBoard image.

    Args:
        render: builds the picture from the model (e.g. overlays on a fixed validation batch).
        run_dir: the PNGs go to `run_dir/previews/<name>_epoch<NNN>.png`.
        log_dir: TensorBoard log directory; images are written under `log_dir/previews`.
        name: image tag.
        every: period in epochs.
    """

    def __init__(self, render, run_dir, log_dir, name="predictions", every=1):
        super().__init__()
        self.render = render
        self.out = Path(run_dir) / "previews"
        self.name = name
        self.every = max(1, every)
        self.writer = tf.summary.create_file_writer(str(Path(log_dir) / "previews"))

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every:
            return
        picture = np.asarray(self.render(self.model), np.uint8)
        write_png(self.out / f"{self.name}_epoch{epoch + 1:03d}.png", picture)
        with self.writer.as_default():
            tf.summary.image(self.name, picture[None], step=epoch + 1)
        self.writer.flush()
