"""Comparing searches, as the translation and captioning apps' `evaluate` do: the strategies to compare, and each
one's best outputs with the time they took."""

import time

from keras_suite.decoding.factory import from_config


def search_strategies(widths, alpha):
    """[("greedy", Greedy()), ("beam 3", BeamSearch(3, alpha)), ...] for the beam widths to compare."""
    return [("greedy", from_config())] + [(f"beam {w}", from_config(beam=int(w), alpha=alpha)) for w in widths]


def timed_best(search, inputs, strategy):
    """(the best output of `search(inputs, strategy)` (n-best lists) for each input, ms per input); the graph is
    traced on two inputs first, outside the timing."""
    search(inputs[:2], strategy)
    start = time.perf_counter()
    best = [nbest[0][0] for nbest in search(inputs, strategy)]
    return best, (time.perf_counter() - start) * 1000 / max(1, len(inputs))
