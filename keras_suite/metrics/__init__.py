"""Metrics: Keras metric objects for training and numpy scores for evaluation reports."""

from keras_suite.metrics.confusion import confusion_scores
from keras_suite.metrics.dice import MeanDice
from keras_suite.metrics.language_model import BitsPerCharacter, Perplexity

__all__ = ["BitsPerCharacter", "MeanDice", "Perplexity", "confusion_scores"]
