"""Encoder-decoder with attention for translation (Sutskever et al., 2014, https://arxiv.org/abs/1409.3215;
Bahdanau et al., 2015; Luong et al., 2015) and its incremental decoder for search.

The encoder is a bidirectional LSTM/GRU. The decoder RNN starts from the encoder's final states
(through a dense bridge) and reads the previous target token; attention over the encoder
outputs, queried by the decoder output, gives a context vector combined with it Luong-style
(`tanh(W [h; c])`) before the output softmax. Teacher forcing in training runs the decoder over
the whole shifted target in one pass; decoding runs the same layers one token at a time with the
RNN state carried, so each step costs O(source length), not O(prefix length).
"""

import keras
import tensorflow as tf

from keras_suite.choices import SEQ2SEQ_CELLS
from keras_suite.data.tokenizer import not_padding
from keras_suite.layers import CrossAttention

CELLS = dict(zip(SEQ2SEQ_CELLS, (keras.layers.LSTM, keras.layers.GRU), strict=True))


def build_seq2seq(source_vocab, target_vocab, embedding_dim=64, units=128, cell="lstm", attention="bahdanau",
                  dropout=0.0, name="seq2seq"):
    """Training model: (source ids (B, S), target_in ids (B, T)) -> logits (B, T, target_vocab); 0 pads."""
    if cell not in CELLS:
        raise ValueError(f"cell must be one of {', '.join(CELLS)}, got '{cell}'")
    rnn = CELLS[cell]
    source = keras.Input((None,), dtype="int32", name="source")
    target_in = keras.Input((None,), dtype="int32", name="target_in")
    source_mask = keras.ops.not_equal(source, 0)
    x = keras.layers.Embedding(source_vocab, embedding_dim, mask_zero=True, name="source_embedding")(source)
    memory, *final = keras.layers.Bidirectional(
        rnn(units, return_sequences=True, return_state=True, dropout=dropout), name="encoder")(x)
    half = len(final) // 2  # forward states, then backward states
    initial = [keras.layers.Dense(units, activation="tanh", name=f"bridge_{i}")(
        keras.layers.Concatenate()([final[i], final[half + i]])) for i in range(half)]
    y = keras.layers.Embedding(target_vocab, embedding_dim, mask_zero=True, name="target_embedding")(target_in)
    decoded = rnn(units, return_sequences=True, dropout=dropout, name="decoder")(y, initial_state=initial)
    context, _ = CrossAttention(units, attention, name="attention")(decoded, memory, source_mask)
    hidden = keras.layers.Dense(units, activation="tanh", name="attentional")(
        keras.layers.Concatenate()([decoded, context]))
    logits = keras.layers.Dense(target_vocab, dtype="float32", name="logits")(hidden)
    return keras.Model([source, target_in], logits, name=name)


def attention_model(model):
    """The trained model with the attention weights (B, T, S) as a second output."""
    return keras.Model(model.inputs, [model.output, model.get_layer("attention").output[1]])


class AttentionRNNDecoder:
    """`start(memory, mask, summaries) -> state` and `step(tokens, state) -> (logits, state)` over the decoder
    layers of a trained model (target_embedding, decoder, attention, attentional, logits, bridge_i).

    The state is a dict of batch-major float tensors (decoder RNN states, the memory attended over, its mask as
    0/1), so the shared decoding loop can reorder it by beam and an exported step holds float ops only (LiteRT's
    GPU delegate). `summaries[i]` is what bridge i turns into the decoder's i-th initial state.
    """

    def __init__(self, model):
        get = model.get_layer
        self.bridges = [layer for layer in model.layers if layer.name.startswith("bridge_")]
        self.target_embedding, self.cell = get("target_embedding"), get("decoder").cell
        self.attention, self.attentional, self.logits = get("attention"), get("attentional"), get("logits")

    def start(self, memory, mask, summaries):
        """The first state; `mask` None: every memory position counts (no mask op in exported graphs)."""
        states = [bridge(summary) for bridge, summary in zip(self.bridges, summaries)]
        return {"rnn": tuple(states), "memory": memory,
                **({} if mask is None else {"mask": tf.cast(mask, memory.dtype)})}

    def step(self, tokens, state):
        embedded = tf.gather(self.target_embedding.embeddings, tokens)  # the Embedding's lookup, without its mask
        output, states = self.cell(embedded, list(state["rnn"]))
        masked = {"memory_mask": state["mask"]} if "mask" in state else {}
        context, _ = self.attention(tf.expand_dims(output, 1), state["memory"], **masked)
        hidden = self.attentional(tf.concat([output, tf.reshape(context, [-1, context.shape[-1]])], -1))
        return self.logits(hidden), {**state, "rnn": tuple(states)}


class IncrementalSeq2Seq(AttentionRNNDecoder):
    """`encode(source ids) -> state` and `step(tokens, state) -> (logits, state)` over a trained model's layers."""

    def __init__(self, model):
        super().__init__(model)
        self.source_embedding, self.encoder = model.get_layer("source_embedding"), model.get_layer("encoder")

    def encode(self, source):
        source = tf.convert_to_tensor(source, tf.int32)
        mask = tf.not_equal(source, 0)
        return self._encoded(self.encoder(self.source_embedding(source), mask=mask), mask)

    def encode_one(self, ids):
        """The state for one source, its ids (S,) of a fixed length (batch 1): `encode`'s numbers from a lookup of
        1-D ids, a float mask and the encoder unrolled, so an exported encoder holds float ops and no loop
        (LiteRT's GPU delegate)."""
        table, length = self.source_embedding.embeddings, ids.shape[0]
        x = tf.reshape(tf.gather(table, ids), [1, length, table.shape[1]])
        mask = tf.reshape(tf.gather(not_padding(table.shape[0]), ids), [1, length])
        return self._encoded(self._unrolled(x, mask), mask)

    def _encoded(self, outputs, mask):
        memory, *final = outputs
        half = len(final) // 2
        return self.start(memory, mask, [tf.concat([final[i], final[half + i]], -1) for i in range(half)])

    def _unrolled(self, x, mask):
        """The bidirectional encoder over x (batch, S, E) of a fixed length, one cell step per position: at a
        padded position (mask 0) the state stays and the output is zeros, as in the Keras layer -> (outputs,
        forward states..., backward states...)."""
        length = x.shape[1]
        inputs = [tf.reshape(t, [-1, x.shape[2]]) for t in tf.split(x, length, axis=1)]
        keep = [tf.reshape(m, [-1, 1]) for m in tf.split(mask, length, axis=1)]
        sequences, finals = [], []
        for layer, order in ((self.encoder.forward_layer, range(length)),
                             (self.encoder.backward_layer, range(length - 1, -1, -1))):
            states = [tf.zeros([tf.shape(x)[0], size], x.dtype) for size in tf.nest.flatten(layer.cell.state_size)]
            outputs = [None] * length
            for t in order:
                output, new = layer.cell(inputs[t], states, training=False)
                states = [keep[t] * n + (1 - keep[t]) * s for n, s in zip(tf.nest.flatten(new), states)]
                outputs[t] = tf.expand_dims(keep[t] * output, 1)
            sequences.append(tf.concat(outputs, 1))
            finals += states
        return [tf.concat(sequences, -1), *finals]
