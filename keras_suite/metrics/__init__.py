"""Metrics: Keras metric objects for training and numpy scores for evaluation reports."""

from keras_suite.metrics.bleu import corpus_bleu, exact_match, modified_precision
from keras_suite.metrics.confusion import confusion_matrix, confusion_scores
from keras_suite.metrics.dice import MeanDice
from keras_suite.metrics.language_model import BitsPerCharacter, Perplexity
from keras_suite.metrics.reconstruction import PSNR, reconstruction_scores
from keras_suite.metrics.token_accuracy import MaskedAccuracy
from keras_suite.metrics.triplet_statistic import TripletStatistic

__all__ = ["BitsPerCharacter", "MaskedAccuracy", "MeanDice", "Perplexity", "PSNR", "TripletStatistic",
           "confusion_matrix", "confusion_scores", "corpus_bleu", "exact_match", "modified_precision",
           "reconstruction_scores"]
