import math

import keras
import numpy as np
import pytest

from keras_suite.metrics import BitsPerCharacter, Perplexity
from keras_suite.testing import assert_config_roundtrip


def test_perplexity_and_bits_per_character_by_hand():
    logits = np.log(np.array([[[0.5, 0.25, 0.25], [0.25, 0.5, 0.25]]], np.float32))
    targets = np.array([[0, 2]])
    nats = -(math.log(0.5) + math.log(0.25)) / 2
    ppl, bpc = Perplexity(), BitsPerCharacter()
    ppl.update_state(targets, logits)
    bpc.update_state(targets, logits)
    assert float(ppl.result()) == pytest.approx(math.exp(nats), rel=1e-5)
    assert float(bpc.result()) == pytest.approx(nats / math.log(2), rel=1e-5)
    assert_config_roundtrip(ppl)
    assert_config_roundtrip(bpc)
    assert isinstance(keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(bpc)),
                      BitsPerCharacter)



def test_the_mean_is_over_tokens_across_updates_of_different_lengths():
    """1 token at ln 2 nats, then 99 tokens at 4.5e-5: exp of the token mean (1.007), not of the mean of the two
    updates' means (1.414)."""
    def logits_for(ce, length):  # two classes; the target (0) gets probability exp(-ce)
        p = math.exp(-ce)
        return np.log(np.tile(np.array([[[p, 1 - p]]], np.float32), (1, length, 1))), np.zeros((1, length), int)

    ppl, bpc = Perplexity(), BitsPerCharacter()
    for ce, length in ((math.log(2), 1), (4.5e-5, 99)):
        logits, targets = logits_for(ce, length)
        ppl.update_state(targets, logits)
        bpc.update_state(targets, logits)
    token_mean = (math.log(2) + 99 * 4.5e-5) / 100
    assert float(ppl.result()) == pytest.approx(math.exp(token_mean), rel=1e-4)
    assert float(bpc.result()) == pytest.approx(token_mean / math.log(2), rel=1e-4)
    ppl.reset_state()
    assert float(ppl.result()) == 1.0
