"""The task apps. Importing this package registers every app's spec in APPS (no TensorFlow is imported until
a command loads an implementation with `APPS.get(name).load()`)."""

from keras_suite.apps.autoencoder.config import SPEC as AUTOENCODER
from keras_suite.apps.captioning.config import SPEC as CAPTIONING
from keras_suite.apps.char_rnn.config import SPEC as CHAR_RNN
from keras_suite.apps.detection.config import SPEC as DETECTION
from keras_suite.apps.embeddings.config import SPEC as EMBEDDINGS
from keras_suite.apps.face.config import SPEC as FACE
from keras_suite.apps.segmentation.config import SPEC as SEGMENTATION
from keras_suite.apps.spec import APPS
from keras_suite.apps.style.config import SPEC as STYLE
from keras_suite.apps.translation.config import SEQ2SEQ, TRANSFORMER

for _spec in (AUTOENCODER, CAPTIONING, CHAR_RNN, DETECTION, EMBEDDINGS, FACE, SEGMENTATION, STYLE, SEQ2SEQ,
              TRANSFORMER):
    APPS.register(_spec.name)(_spec)

__all__ = ["APPS"]
