"""Decoding: one loop over `next_fn(tokens, state) -> (logits, state)` driven by a search strategy.

Strategies implement `initialize / step / finalize` so that greedy, sampling (temperature, top-k,
top-p) and beam search share the loop. Everything is TensorFlow ops, so the loop runs eagerly and
inside exported graphs alike.
"""

from keras_suite.decoding.beam import BeamSearch
from keras_suite.decoding.filters import top_k_filter, top_p_filter
from keras_suite.decoding.loop import continue_text, decode
from keras_suite.decoding.sampling import Greedy, Sampling

__all__ = ["BeamSearch", "Greedy", "Sampling", "continue_text", "decode", "top_k_filter", "top_p_filter"]
