"""TensorBoard embedding projector files: the vectors (a checkpoint), labels (metadata.tsv) and a sprite
of thumbnails, so `tensorboard --logdir` shows the embedding space with each point's picture. The folder
also gets an event file: TensorBoard lists runs by their event files, and the projector looks only in runs,
so without one `--logdir` above the folder would not find it."""

import math
from pathlib import Path

import numpy as np
import tensorflow as tf
from tensorboard.plugins import projector

from keras_suite.visuals.images import write_png


def sprite(images):
    """A square grid (uint8) of the (N, S, S, 3) thumbnails, row-major, padded with black."""
    n, size = len(images), images.shape[1]
    side = math.ceil(math.sqrt(n))
    canvas = np.zeros((side * size, side * size, 3), np.uint8)
    for i, image in enumerate(images):
        r, c = divmod(i, side)
        canvas[r * size:(r + 1) * size, c * size:(c + 1) * size] = image
    return canvas


def write_projector(log_dir, embeddings, labels, images=None):
    """Write a projector run into `log_dir` (it becomes one run under `tensorboard --logdir`)."""
    log_dir = Path(log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    (log_dir / "metadata.tsv").write_text("".join(f"{str(label).replace(chr(9), ' ')}\n" for label in labels))
    checkpoint = tf.train.Checkpoint(embedding=tf.Variable(np.asarray(embeddings, np.float32)))
    checkpoint.save(str(log_dir / "embedding.ckpt"))
    config = projector.ProjectorConfig()
    entry = config.embeddings.add()
    entry.tensor_name = "embedding/.ATTRIBUTES/VARIABLE_VALUE"
    entry.metadata_path = "metadata.tsv"
    if images is not None:
        write_png(log_dir / "sprite.png", sprite(np.asarray(images, np.uint8)))
        entry.sprite.image_path = "sprite.png"
        entry.sprite.single_image_dim.extend([images.shape[2], images.shape[1]])
    projector.visualize_embeddings(str(log_dir), config)
    writer = tf.summary.create_file_writer(str(log_dir))
    with writer.as_default():
        tf.summary.text("embedding", f"{len(labels)} points of dimension {np.shape(embeddings)[-1]}", step=0)
    writer.close()
    return log_dir
