"""The task apps. Importing this package registers every app in APPS."""

from keras_suite.apps.base import APPS
from keras_suite.apps.char_rnn.app import CharRNNApp  # noqa: F401 - registers the app
from keras_suite.apps.detection.app import DetectionApp  # noqa: F401 - registers the app
from keras_suite.apps.face.app import FaceApp  # noqa: F401 - registers the app
from keras_suite.apps.segmentation.app import SegmentationApp  # noqa: F401 - registers the app
from keras_suite.apps.style.app import StyleApp  # noqa: F401 - registers the app
from keras_suite.apps.translation.seq2seq import Seq2SeqApp  # noqa: F401 - registers the app
from keras_suite.apps.translation.transformer import TransformerApp  # noqa: F401 - registers the app

__all__ = ["APPS"]
