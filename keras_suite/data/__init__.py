"""tf.data pipelines and embedded datasets."""
