"""Losses for sparse integer labels: segmentation (softmax probabilities) and sequences (logits)."""

from keras_suite.losses.ce_dice import CEDiceLoss
from keras_suite.losses.dice import DiceLoss
from keras_suite.losses.focal import SparseFocalLoss
from keras_suite.losses.smoothed_crossentropy import MaskedSparseCrossentropy

__all__ = ["CEDiceLoss", "DiceLoss", "MaskedSparseCrossentropy", "SparseFocalLoss"]
