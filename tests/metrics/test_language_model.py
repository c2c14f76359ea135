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

