"""Character-level RNN language model (Karpathy, 2015, "The Unreasonable Effectiveness of Recurrent
Neural Networks"; Graves, 2013, https://arxiv.org/abs/1308.0850) and its one-step twin for generation.
"""

import keras

from keras_suite.choices import CHAR_RNN_CELLS

CELLS = dict(zip(CHAR_RNN_CELLS, ((keras.layers.LSTM, 2), (keras.layers.GRU, 1), (keras.layers.SimpleRNN, 1)),
                 strict=True))


def build_char_rnn(vocab_size, embedding_dim=64, units=256, layers=2, cell="lstm", dropout=0.0, name="char_rnn"):
    """Embedding -> `layers` stacked RNNs -> Dense logits, over (batch, time) token ids.

    The RNN layers return their states too, so `build_step_model` can reuse them one token at a time.
    """
    if cell not in CELLS:
        raise ValueError(f"cell must be one of {', '.join(CELLS)}, got '{cell}'")
    rnn_cls, _ = CELLS[cell]
    tokens = keras.Input((None,), dtype="int32", name="tokens")
    x = keras.layers.Embedding(vocab_size, embedding_dim, name="embedding")(tokens)
    for i in range(layers):
        x = rnn_cls(units, return_sequences=True, return_state=True, dropout=dropout, name=f"rnn_{i}")(x)[0]
    logits = keras.layers.Dense(vocab_size, dtype="float32", name="logits")(x)
    return keras.Model(tokens, logits, name=name)


def rnn_layers(model):
    return [layer for layer in model.layers if layer.name.startswith("rnn_")]


def states_per_layer(model):
    return 2 if isinstance(rnn_layers(model)[0], keras.layers.LSTM) else 1


def build_step_model(model, batch_size=1):
    """A model sharing `model`'s weights that advances one token with explicit states.

    Inputs: `token` (batch,) int32 and one (batch, units) tensor per RNN state; outputs: logits
    (batch, vocab) and the new states, in the same order. A static batch size keeps the TFLite
    conversion to builtin ops.
    """
    token = keras.Input((), batch_size=batch_size, dtype="int32", name="token")
    x = model.get_layer("embedding")(keras.ops.expand_dims(token, 1))
    states_in, states_out = [], []
    for rnn in rnn_layers(model):
        layer_states = [keras.Input((rnn.units,), batch_size=batch_size, name=f"{rnn.name}_state_{k}")
                        for k in range(states_per_layer(model))]
        x, *new_states = rnn(x, initial_state=layer_states)
        states_in += layer_states
        states_out += new_states
    logits = keras.ops.squeeze(model.get_layer("logits")(x), 1)
    return keras.Model([token, *states_in], [logits, *states_out], name=f"{model.name}_step")


def stacked_step(step_model):
    """`next_fn(tokens (1,), states (1, S, units)) -> (logits, states)` over `step_model` for decoding,
    with all RNN states stacked in one tensor, and the zero initial state."""

    def next_fn(tokens, states):
        logits, *new = step_model([tokens, *keras.ops.unstack(states, axis=1)])
        return logits, keras.ops.stack(new, axis=1)

    first = step_model.inputs[1]
    zeros = keras.ops.zeros((first.shape[0], len(step_model.inputs) - 1, first.shape[1]))
    return next_fn, zeros
