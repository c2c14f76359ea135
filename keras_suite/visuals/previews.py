"""A callback that renders a picture of the model's current predictions each epoch."""

import keras
import numpy as np
import tensorflow as tf

from keras_suite.visuals.images import write_png


class ImagePreview(keras.callbacks.Callback):
    """Every `every` epochs: `render(model) -> uint8 (H, W, 3)`, saved as a PNG and a TensorBoard image.

    Args:
        render: builds the picture from the model (e.g. overlays on a fixed validation batch).
        run: the `Run`; PNGs go to its `previews/<name>_epoch<NNN>.png`, images to its `logs/previews`.
        name: image tag.
        every: period in epochs.
    """

    def __init__(self, render, run, name="predictions", every=1):
        super().__init__()
        self.render = render
        self.run = run
        self.name = name
        self.every = max(1, every)
        self.writer = tf.summary.create_file_writer(str(run.log_dir("previews")))

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every:
            return
        picture = np.asarray(self.render(self.model), np.uint8)
        write_png(self.run.preview(f"{self.name}_epoch{epoch + 1:03d}.png"), picture)
        with self.writer.as_default():
            tf.summary.image(self.name, picture[None], step=epoch + 1)
        self.writer.flush()
