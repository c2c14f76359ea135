"""Encoder-decoder transformer for translation (Vaswani et al., 2017, "Attention Is All You Need",
https://arxiv.org/abs/1706.03762) and its cached incremental decoder for search."""

import keras
import tensorflow as tf
from keras import ops

from keras_suite.layers import TokenAndPositionEmbedding, TransformerDecoderBlock, TransformerEncoderBlock


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
        x = keras.layers.LayerNormalization(epsilon=1e-6, name="encoder_norm")(x)
    y = TokenAndPositionEmbedding(target_vocab, max_target_length, dim, positional, name="target_embedding")(target_in)
    y = keras.layers.Dropout(dropout)(y)
    for i in range(layers):
        y, _ = TransformerDecoderBlock(heads, ff_dim, dropout, norm_first, name=f"decoder_{i}")(y, x, source_mask)
    if norm_first:
        y = keras.layers.LayerNormalization(epsilon=1e-6, name="decoder_norm")(y)
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

    The state holds, per decoder layer, a self-attention key/value cache of `max_length` positions
    and the cross-attention keys/values of the memory (computed once), plus the memory mask
    and the position index, all batch-major so beam search can reorder them. Each step projects
    one token and attends over the cache: O(T) per step, not a re-run of the O(T^2) prefix.
    """

    def __init__(self, model, max_length):
        self.model, self.max_length = model, max_length
        self.target_embedding = model.get_layer("target_embedding")
        self.decoders = decoder_blocks(model)
        names = {layer.name for layer in model.layers}
        self.decoder_norm = model.get_layer("decoder_norm") if "decoder_norm" in names else None
        self.logits = model.get_layer("logits")

    def start(self, memory, mask):
        """The first state; `mask` None: every memory position counts (no mask op in exported graphs)."""
        batch = tf.shape(memory)[0]
        caches = []
        for block in self.decoders:
            mha = block.self_attention
            caches.append(tf.zeros([batch, 2, self.max_length, mha.num_heads, mha.key_dim], memory.dtype))
        return {"self": tuple(caches), "cross": tuple(block.cross_attention.project(memory) for block in self.decoders),
                **({} if mask is None else {"mask": mask}), "index": tf.zeros([batch], tf.int32)}

    def step(self, tokens, state):
        index = state["index"][0]
        y = self.target_embedding(tokens[:, None], start_index=index)
        caches = []
        for block, self_cache, cross_cache in zip(self.decoders, state["self"], state["cross"]):
            y, self_cache = block.step(y, index, self_cache, cross_cache, state.get("mask"))
            caches.append(self_cache)
        if self.decoder_norm is not None:
            y = self.decoder_norm(y)
        return self.logits(y)[:, 0], {**state, "self": tuple(caches), "index": state["index"] + 1}


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
        mask = tf.not_equal(source, 0)
        x = self.source_embedding(source)
        for block in self.encoders:
            x = block(x, mask)
        if self.encoder_norm is not None:
            x = self.encoder_norm(x)
        return self.start(x, mask)
