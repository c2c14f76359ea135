"""keras-suite: Keras 3 task apps that train, log to TensorBoard and export to SavedModel and TFLite."""

__version__ = "0.1.0"
