"""Losses for sparse integer labels and softmax probabilities."""

from keras_suite.losses.ce_dice import CEDiceLoss
from keras_suite.losses.dice import DiceLoss
from keras_suite.losses.focal import SparseFocalLoss

__all__ = ["CEDiceLoss", "DiceLoss", "SparseFocalLoss"]
