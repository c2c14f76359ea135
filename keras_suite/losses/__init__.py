"""Losses: segmentation (softmax probabilities), sequences (logits), metric learning (embeddings) and image
likelihoods (autoencoders)."""

from keras_suite.losses.bernoulli_nll import BernoulliNLL
from keras_suite.losses.ce_dice import CEDiceLoss
from keras_suite.losses.dice import DiceLoss
from keras_suite.losses.focal import SparseFocalLoss
from keras_suite.losses.smoothed_crossentropy import MaskedSparseCrossentropy
from keras_suite.losses.triplet import TripletLoss, triplet_statistics

__all__ = ["BernoulliNLL", "CEDiceLoss", "DiceLoss", "MaskedSparseCrossentropy", "SparseFocalLoss", "TripletLoss",
           "triplet_statistics"]
