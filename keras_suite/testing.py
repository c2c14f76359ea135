"""Shared test harness: layer checks, get_config round trips, .keras save/reload, export parity."""

from pathlib import Path

import keras
import numpy as np


def assert_config_roundtrip(obj):
    """`from_config(get_config())` rebuilds an equal config."""
    config = obj.get_config()
    clone = type(obj).from_config(config)
    assert clone.get_config() == config, (clone.get_config(), config)
    return clone


def assert_keras_roundtrip(model, inputs, directory, atol=1e-6):
    """Saving to .keras and loading with safe_mode=True gives the same outputs."""
    path = Path(directory) / f"{model.name}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    expected, actual = model.predict(inputs, verbose=0), loaded.predict(inputs, verbose=0)
    for e, a in zip(keras.tree.flatten(expected), keras.tree.flatten(actual)):
        np.testing.assert_allclose(a, e, atol=atol)
    return loaded


def run_layer_test(layer_cls, init_kwargs, input_shape, expected_output_shape, expected_trainable_weights,
                   expected_non_trainable_weights=0, directory=None, seed=0):
    """Build `layer_cls(**init_kwargs)` on random input and check shapes, weight counts, config and .keras."""
    rng = np.random.default_rng(seed)
    shapes = input_shape if isinstance(input_shape, list) else [input_shape]
    arrays = [rng.normal(size=s).astype("float32") for s in shapes]
    inputs = arrays if isinstance(input_shape, list) else arrays[0]
    layer = layer_cls(**init_kwargs)
    outputs = layer(inputs)
    out_shapes = [tuple(o.shape) for o in keras.tree.flatten(outputs)]
    expected = expected_output_shape if isinstance(expected_output_shape, list) else [expected_output_shape]
    assert out_shapes == [tuple(e) for e in expected], (out_shapes, expected)
    assert len(layer.trainable_weights) == expected_trainable_weights, len(layer.trainable_weights)
    assert len(layer.non_trainable_weights) == expected_non_trainable_weights, len(layer.non_trainable_weights)
    assert_config_roundtrip(layer)
    if directory is not None:
        sym = [keras.Input(s[1:]) for s in shapes]
        model = keras.Model(sym, layer_cls(**init_kwargs)(sym if isinstance(input_shape, list) else sym[0]),
                            name=f"{layer_cls.__name__.lower()}_model")
        assert_keras_roundtrip(model, inputs, directory)
    return layer


def assert_export_parity(report, formats):
    """Every format in `formats` is in the export's parity report and passed its limits."""
    for name in formats:
        row = report["formats"][name]
        assert row["passed"], (name, row)
        assert row["bytes"] > 0, (name, row)
