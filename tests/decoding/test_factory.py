import types

import pytest

from keras_suite.decoding import BeamSearch, Greedy, Sampling, from_config
from keras_suite.errors import UserError


def test_the_settings_choose_the_strategy():
    assert isinstance(from_config(), Greedy) and not isinstance(from_config(), Sampling)
    beam = from_config(beam=5, alpha=0.6, nbest=3)
    assert isinstance(beam, BeamSearch) and (beam.width, beam.alpha, beam.nbest) == (5, 0.6, 3)
    sampling = from_config(beam=5, temperature=0.8, top_k=20, top_p=0.9)  # sampling wins over beam search
    assert isinstance(sampling, Sampling) and (sampling.temperature, sampling.top_k, sampling.top_p) == (0.8, 20, 0.9)


def test_a_config_section_with_some_of_the_fields_and_overrides():
    generate = types.SimpleNamespace(prime="ROMEO:", temperature=0.5, top_k=3, top_p=1.0)  # no beam fields
    assert isinstance(from_config(generate), Sampling) and from_config(generate).top_k == 3
    assert isinstance(from_config(generate, temperature=0.0), Greedy)
    decode = types.SimpleNamespace(beam=0, alpha=0.7, nbest=1, temperature=0.0, top_k=0, top_p=1.0)
    assert from_config(decode, beam=4).width == 4


@pytest.mark.parametrize("settings, message", [
    ({"beam": 2, "nbest": 3}, "1 <= nbest <= beam"),
    ({"beam": -1}, "beam >= 0"),
    ({"temperature": 1.0, "nbest": 2}, "nbest > 1 needs beam search"),
    ({"top_p": 0.0}, "0 < top_p <= 1"),
])
def test_settings_that_do_not_fit_together_are_refused(settings, message):
    with pytest.raises(UserError, match=message):
        from_config(**settings)


def test_an_unknown_setting_is_a_programming_error():
    with pytest.raises(TypeError, match="width"):
        from_config(width=3)
