"""Decoding: one loop over `next_fn(tokens, state) -> (logits, state)` driven by a search strategy.

Strategies implement `initialize / step / finalize` so that greedy, sampling (temperature, top-k,
top-p) and beam search share the loop; `from_config` chooses one from settings. Everything is
TensorFlow ops, so the loop runs eagerly and inside exported graphs alike. `host_beam` is the same beam
search in NumPy over an exported step model, for a host that drives the model one token at a time.
"""

from keras_suite.decoding.beam import BeamSearch
from keras_suite.decoding.factory import from_config
from keras_suite.decoding.filters import top_k_filter, top_p_filter
from keras_suite.decoding.loop import continue_text, decode, search
from keras_suite.decoding.sampling import Greedy, Sampling
from keras_suite.decoding.scoring import classify_errors, sequence_log_prob

__all__ = ["BeamSearch", "Greedy", "Sampling", "classify_errors", "continue_text", "decode", "from_config",
           "search", "sequence_log_prob", "top_k_filter", "top_p_filter"]
