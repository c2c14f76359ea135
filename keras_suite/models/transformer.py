"""Encoder-decoder transformer for translation (Vaswani et al., 2017, "Attention Is All You Need",
https://arxiv.org/abs/1706.03762) and its cached incremental decoder for search."""

import math

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from keras_suite.data.tokenizer import not_padding
from keras_suite.layers import (
    LayerNormalization,
    TokenAndPositionEmbedding,
    TransformerDecoderBlock,
    TransformerEncoderBlock,
)
from keras_suite.layers.layer_normalization import layer_norm


def build_transformer(source_vocab, target_vocab, layers=2, dim=128, heads=4, ff_dim=512, dropout=0.1,
                      max_source_length=64, max_target_length=64, positional="sinusoidal", norm_first=True,
                      name="transformer"):
    """Training model: (source ids (B, S), target_in ids (B, T)) -> logits (B, T, target_vocab); 0 pads.

    Pre-norm stacks end with a final layer normalization, as usual for pre-norm transformers.
    """
    source = keras.Input((None,), dtype="int32", name="source")
    target_in = keras.Input((None,), dtype="int32", name="target_in")
    source_mask = ops.not_equal(source, 0)
    x = TokenAndPositionEmbedding(source_vocab, max_source_length, dim, positional, name="source_embedding")(source)
    x = keras.layers.Dropout(dropout)(x)
    for i in range(layers):
        x = TransformerEncoderBlock(heads, ff_dim, dropout, norm_first, name=f"encoder_{i}")(x, source_mask)
    if norm_first:
        x = LayerNormalization(epsilon=1e-6, name="encoder_norm")(x)
    y = TokenAndPositionEmbedding(target_vocab, max_target_length, dim, positional, name="target_embedding")(target_in)
    y = keras.layers.Dropout(dropout)(y)
    for i in range(layers):
        y, _ = TransformerDecoderBlock(heads, ff_dim, dropout, norm_first, name=f"decoder_{i}")(y, x, source_mask)
    if norm_first:
        y = LayerNormalization(epsilon=1e-6, name="decoder_norm")(y)
    logits = keras.layers.Dense(target_vocab, dtype="float32", name="logits")(y)
    return keras.Model([source, target_in], logits, name=name)


def decoder_blocks(model):
    return [layer for layer in model.layers if layer.name.startswith("decoder_") and layer.name != "decoder_norm"]


def attention_model(model):
    """The trained model with each decoder layer's cross-attention weights (B, heads, T, S) as outputs."""
    return keras.Model(model.inputs, [model.output, *[block.output[1] for block in decoder_blocks(model)]])


class CachedTransformerDecoder:
    """`start(memory, mask) -> state` and `step(tokens, state) -> (logits, state)` over the decoder layers of a
    trained model (target_embedding, decoder_i, decoder_norm, logits).

    The state holds, per decoder layer, self-attention keys and values of `max_length` positions and the
    cross-attention keys and values of the memory (computed once), the memory mask and the positions written
    so far, all batch-major so beam search can reorder them. Each step projects one token and attends over the
    cache: O(T) per step, not a re-run of the O(T^2) prefix. Everything in the state is float and at most 4-D,
    and a step is lookups, matrix products and float masks, so the exported step runs whole on LiteRT's GPU
    delegate: the position is a one-hot row, not an integer index.
    """

    def __init__(self, model, max_length):
        self.model, self.max_length = model, max_length
        self.target_embedding = model.get_layer("target_embedding")
        self.decoders = decoder_blocks(model)
        names = {layer.name for layer in model.layers}
        self.decoder_norm = model.get_layer("decoder_norm") if "decoder_norm" in names else None
        self.logits = model.get_layer("logits")
        # written positions (1 for each) -> those after one more step: shifted by one, and position 0
        self.advance = np.eye(max_length, k=1, dtype="float32"), np.eye(1, max_length, dtype="float32")[0]

    def start(self, memory, mask):
        """The first state; `mask` None: every memory position counts (no mask op in exported graphs)."""
        batch = tf.shape(memory)[0]
        empty = [tf.zeros([batch, self.max_length, block.self_attention.num_heads, block.self_attention.key_dim],
                          memory.dtype) for block in self.decoders]
        cross = [block.cross_attention.project_pair(memory) for block in self.decoders]
        return {"self_keys": tuple(empty), "self_values": tuple(empty),
                "cross_keys": tuple(k for k, _ in cross), "cross_values": tuple(v for _, v in cross),
                **({} if mask is None else {"mask": tf.cast(mask, memory.dtype)}),
                "written": tf.zeros([batch, self.max_length], memory.dtype)}

    def _embed(self, tokens, slot):
        """The target embedding of one token per row at the position `slot` marks: a lookup of 1-D ids and a
        product of the one-hot position with the position table (the layer's numbers, without integer ops)."""
        embedding = self.target_embedding
        positions = embedding.position(tf.zeros([1, self.max_length, embedding.dim], slot.dtype))[0]
        x = tf.gather(embedding.token.embeddings, tokens) * math.sqrt(embedding.dim) + tf.matmul(slot, positions)
        return x[:, None]

    def step(self, tokens, state):
        shift, first = self.advance
        written = tf.matmul(state["written"], shift) + first  # this token's position too
        slot = written - state["written"]
        y = self._embed(tokens, slot)
        keys, values = [], []
        for i, block in enumerate(self.decoders):
            y, (k, v) = block.step(y, slot, written, (state["self_keys"][i], state["self_values"][i]),
                                   (state["cross_keys"][i], state["cross_values"][i]), state.get("mask"))
            keys.append(k)
            values.append(v)
        if self.decoder_norm is not None:
            y = layer_norm(self.decoder_norm, y)  # Keras' own layer in models saved before this one
        logits = self.logits(y)
        return tf.reshape(logits, [-1, logits.shape[-1]]), {
            **state, "self_keys": tuple(keys), "self_values": tuple(values), "written": written}


class IncrementalTransformer(CachedTransformerDecoder):
    """`encode(source ids) -> state` and `step(tokens, state) -> (logits, state)` over a trained model's layers."""

    def __init__(self, model, max_length):
        super().__init__(model, max_length)
        self.source_embedding = model.get_layer("source_embedding")
        self.encoders = [layer for layer in model.layers if layer.name.startswith("encoder_")
                         and layer.name != "encoder_norm"]
        names = {layer.name for layer in model.layers}
        self.encoder_norm = model.get_layer("encoder_norm") if "encoder_norm" in names else None

    def encode(self, source):
        source = tf.convert_to_tensor(source, tf.int32)
        return self._encoded(self.source_embedding(source), tf.not_equal(source, 0))

    def encode_one(self, ids):
        """The state for one source, its ids (S,) of a fixed length (batch 1): `encode`'s numbers from lookups of
        1-D ids and a float mask, so an exported encoder holds float ops only (LiteRT's GPU delegate)."""
        embedding, length = self.source_embedding, ids.shape[0]
        x = tf.reshape(tf.gather(embedding.token.embeddings, ids), [1, length, embedding.dim])
        x = x * math.sqrt(embedding.dim)
        mask = tf.reshape(tf.gather(not_padding(embedding.vocab_size), ids), [1, length])
        return self._encoded(x + embedding.position(x), mask)

    def _encoded(self, x, mask):
        for block in self.encoders:
            x = block(x, mask)
        if self.encoder_norm is not None:
            x = layer_norm(self.encoder_norm, x)
        return self.start(x, mask)
