"""Metrics: Keras metric objects for training and numpy scores for evaluation reports."""

from keras_suite.metrics.confusion import confusion_scores
from keras_suite.metrics.dice import MeanDice

__all__ = ["MeanDice", "confusion_scores"]
