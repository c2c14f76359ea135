"""Character-level causal transformer language model (GPT: Radford et al., 2018, "Improving Language
Understanding by Generative Pre-Training"; the size of nanoGPT's character-level Shakespeare model) and its
incremental decoder over a key/value cache."""

import keras
import tensorflow as tf
from keras import ops

from keras_suite.layers import CausalTransformerBlock, TokenAndPositionEmbedding


def build_char_transformer(vocab_size, context, units=128, layers=4, heads=4, dropout=0.0, name="char_transformer"):
    """Token + learned position embeddings -> `layers` pre-norm causal blocks (GELU feed-forward 4 x `units`
    wide) -> layer norm -> Dense logits, over (batch, time <= `context`) token ids."""
    tokens = keras.Input((None,), dtype="int32", name="tokens")
    x = TokenAndPositionEmbedding(vocab_size, context, units, "learned", name="embedding")(tokens)
    x = keras.layers.Dropout(dropout, name="embedding_dropout")(x)
    for i in range(layers):
        x = CausalTransformerBlock(heads, 4 * units, dropout, activation="gelu", name=f"block_{i}")(x)
    x = keras.layers.LayerNormalization(epsilon=1e-6, name="final_norm")(x)
    logits = keras.layers.Dense(vocab_size, dtype="float32", name="logits")(x)
    return keras.Model(tokens, logits, name=name)


def is_transformer(model):
    return any(isinstance(layer, CausalTransformerBlock) for layer in model.layers)


class IncrementalCharTransformer:
    """Generation with a trained `build_char_transformer` model, one token at a time over a key/value cache.

    `step(tokens, cache, index)` is the exported step: tokens (batch,), cache (batch, layers, 2, context, heads,
    key_dim), index (scalar int) -> logits (batch, vocab) and the cache with the token's keys and values at
    `index`. The model was trained on windows of `context` positions; when the cache is full, generation slides
    the window: the last `keep` = `context // 2` tokens are encoded again at positions 0..keep-1 (`prefill`, one
    pass; the same numbers as stepping them from an empty cache) and the next token goes on at `keep`.
    `next_fn(tokens, state)` and `initial_state()` serve the decoding loop; the state holds the cache, the index
    and the last `context` tokens, all batch-major.
    """

    def __init__(self, model):
        self.embedding = model.get_layer("embedding")
        self.blocks = [layer for layer in model.layers if isinstance(layer, CausalTransformerBlock)]
        self.final_norm, self.logits = model.get_layer("final_norm"), model.get_layer("logits")
        self.context = self.embedding.max_length
        self.keep = self.context // 2
        attention = self.blocks[0].attention
        self.cache_shape = (len(self.blocks), 2, self.context, attention.num_heads, attention.key_dim)
        self.dtype = attention.compute_dtype

    def initial_state(self, batch=1):
        return {"cache": tf.zeros((batch, *self.cache_shape), self.dtype), "index": tf.zeros([batch], tf.int32),
                "recent": tf.zeros([batch, self.context], tf.int32)}

    def _head(self, x):
        return self.logits(self.final_norm(x))

    def step(self, tokens, cache, index):
        x = self.embedding(tokens[:, None], start_index=index)
        caches = []
        for i, block in enumerate(self.blocks):
            x, layer_cache = block.step(x, index, cache[:, i])
            caches.append(layer_cache)
        return self._head(x)[:, 0], ops.stack(caches, axis=1)

    def prefill(self, tokens):
        """tokens (batch, L <= context) at positions 0..L-1 -> (logits (batch, L, vocab), cache)."""
        x = self.embedding(tokens)
        caches = []
        for block in self.blocks:
            x, layer_cache = block.prefill(x, self.context)
            caches.append(layer_cache)
        return self._head(x), ops.stack(caches, axis=1)

    def next_fn(self, tokens, state):
        index = state["index"][0]
        recent = tf.concat([state["recent"][:, 1:], tokens[:, None]], axis=1)

        def slide():
            return self.prefill(recent[:, -self.keep - 1:-1])[1], tf.constant(self.keep)

        cache, index = tf.cond(index >= self.context, slide, lambda: (state["cache"], index))
        logits, cache = self.step(tokens, cache, index)
        return logits, {"cache": cache, "index": tf.fill(tf.shape(state["index"]), index + 1), "recent": recent}
