"""The one place a decoding strategy is chosen from settings (a config section and/or keywords)."""

from keras_suite.decoding.beam import BeamSearch
from keras_suite.decoding.sampling import Greedy, Sampling
from keras_suite.errors import UserError

DEFAULTS = {"beam": 0, "alpha": 0.7, "nbest": 1, "temperature": 0.0, "top_k": 0, "top_p": 1.0}


def from_config(section=None, **overrides):
    """Sampling when `temperature` > 0 (with `top_k`, `top_p`), greedy search for `beam` 0, else beam search of
    that width (`alpha`, `nbest`).

    Settings come from `section` (any object with some of the fields beam, alpha, nbest, temperature, top_k,
    top_p, such as the `decode` or `generate` config section), then `overrides`; missing ones take DEFAULTS.
    """
    unknown = set(overrides) - set(DEFAULTS)
    if unknown:
        raise TypeError(f"unknown decoding settings: {', '.join(sorted(unknown))}")
    s = {k: overrides.get(k, getattr(section, k, default)) for k, default in DEFAULTS.items()}
    if s["beam"] < 0 or s["alpha"] < 0 or s["nbest"] < 1 or (s["beam"] and s["nbest"] > s["beam"]):
        raise UserError(f"need beam >= 0, alpha >= 0 and 1 <= nbest <= beam; got beam={s['beam']}, "
                        f"alpha={s['alpha']}, nbest={s['nbest']}")
    if s["temperature"] < 0 or s["top_k"] < 0 or not 0 < s["top_p"] <= 1:
        raise UserError("need temperature >= 0, top_k >= 0 and 0 < top_p <= 1")
    if s["temperature"] > 0:
        if s["nbest"] > 1:
            raise UserError("nbest > 1 needs beam search (temperature=0); sampling gives one output per text")
        return Sampling(s["temperature"], s["top_k"], s["top_p"])
    return Greedy() if s["beam"] == 0 else BeamSearch(s["beam"], s["alpha"], s["nbest"])
