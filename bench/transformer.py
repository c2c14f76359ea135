"""Transformer benchmark: cached incremental decoding (key/value caches, one token per step) vs re-running
the decoder on the whole prefix at every step, at T = 16, 64, 128 generated tokens; and our train step
vs the keras-io "English-to-Spanish translation with a sequence-to-sequence Transformer" formulation
(subclassed encoder/decoder layers, learned positions, post-norm, Keras masks) at the same size.
Run: python bench/transformer.py [--steps 10] [--batch 8]

Everything is timed in this process and printed as ratios.
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from timing import train_step_seconds  # noqa: E402

from keras_suite.data.tokenizer import START_ID  # noqa: E402
from keras_suite.decoding import Greedy, decode  # noqa: E402
from keras_suite.losses import MaskedSparseCrossentropy  # noqa: E402
from keras_suite.models.transformer import IncrementalTransformer, build_transformer  # noqa: E402

VOCAB, DIM, HEADS, FF, LAYERS = 96, 128, 4, 512, 2


class PositionalEmbedding(keras.layers.Layer):
    """keras-io example: token + learned position embedding, padding mask from the token ids."""

    def __init__(self, sequence_length, vocab_size, embed_dim, **kwargs):
        super().__init__(**kwargs)
        self.token_embeddings = keras.layers.Embedding(vocab_size, embed_dim)
        self.position_embeddings = keras.layers.Embedding(sequence_length, embed_dim)

    def call(self, inputs):
        positions = keras.ops.arange(0, keras.ops.shape(inputs)[-1], 1)
        return self.token_embeddings(inputs) + self.position_embeddings(positions)

    def compute_mask(self, inputs, mask=None):
        return keras.ops.not_equal(inputs, 0)


class ExampleEncoder(keras.layers.Layer):
    def __init__(self, embed_dim, dense_dim, num_heads, **kwargs):
        super().__init__(**kwargs)
        self.attention = keras.layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim // num_heads)
        self.dense_proj = keras.Sequential([keras.layers.Dense(dense_dim, activation="relu"),
                                            keras.layers.Dense(embed_dim)])
        self.layernorm_1 = keras.layers.LayerNormalization()
        self.layernorm_2 = keras.layers.LayerNormalization()
        self.supports_masking = True

    def call(self, inputs, mask=None):
        padding_mask = None if mask is None else keras.ops.cast(mask[:, None, :], "int32")
        attention_output = self.attention(query=inputs, value=inputs, key=inputs, attention_mask=padding_mask)
        proj_input = self.layernorm_1(inputs + attention_output)
        return self.layernorm_2(proj_input + self.dense_proj(proj_input))


class ExampleDecoder(keras.layers.Layer):
    def __init__(self, embed_dim, latent_dim, num_heads, **kwargs):
        super().__init__(**kwargs)
        self.attention_1 = keras.layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim // num_heads)
        self.attention_2 = keras.layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim // num_heads)
        self.dense_proj = keras.Sequential([keras.layers.Dense(latent_dim, activation="relu"),
                                            keras.layers.Dense(embed_dim)])
        self.layernorm_1 = keras.layers.LayerNormalization()
        self.layernorm_2 = keras.layers.LayerNormalization()
        self.layernorm_3 = keras.layers.LayerNormalization()
        self.supports_masking = True

    def call(self, inputs, encoder_outputs, mask=None):
        attention_output_1 = self.attention_1(query=inputs, value=inputs, key=inputs, use_causal_mask=True)
        out_1 = self.layernorm_1(inputs + attention_output_1)
        attention_output_2 = self.attention_2(query=out_1, value=encoder_outputs, key=encoder_outputs)
        out_2 = self.layernorm_2(out_1 + attention_output_2)
        return self.layernorm_3(out_2 + self.dense_proj(out_2))


def example_model(seq_len):
    encoder_inputs = keras.Input(shape=(None,), dtype="int32")
    x = PositionalEmbedding(seq_len, VOCAB, DIM)(encoder_inputs)
    for _ in range(LAYERS):
        x = ExampleEncoder(DIM, FF, HEADS)(x)
    decoder_inputs = keras.Input(shape=(None,), dtype="int32")
    y = PositionalEmbedding(seq_len, VOCAB, DIM)(decoder_inputs)
    for _ in range(LAYERS):
        y = ExampleDecoder(DIM, FF, HEADS)(y, x)
    y = keras.layers.Dropout(0.5)(y)
    return keras.Model([encoder_inputs, decoder_inputs], keras.layers.Dense(VOCAB)(y))


def decoding(model, batch, length):
    rng = np.random.default_rng(0)
    source = tf.constant(rng.integers(4, VOCAB, (batch, 24)), tf.int32)
    decoder = IncrementalTransformer(model, length)
    cached = tf.function(lambda s: decode(decoder.step, tf.fill([batch], START_ID), decoder.encode(s), length,
                                          Greedy())[0])
    forward = tf.function(lambda s, t: model([s, t])[:, -1], input_signature=[
        tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([None, None], tf.int32)])

    def rerun(s):
        prefix = tf.fill([batch, 1], START_ID)
        for _ in range(length):
            token = tf.argmax(forward(s, prefix), -1, output_type=tf.int32)
            prefix = tf.concat([prefix, token[:, None]], 1)
        return prefix[:, 1:]

    timings = {}
    for name, fn in (("cached", cached), ("re-run prefix", rerun)):
        fn(source)  # trace
        start = time.perf_counter()
        out = fn(source)
        timings[name] = (time.perf_counter() - start, np.asarray(out))
    same = np.array_equal(timings["cached"][1], timings["re-run prefix"][1])
    return timings["cached"][0], timings["re-run prefix"][0], same


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--batch", type=int, default=8)
    args = parser.parse_args()
    print(f"transformer: {LAYERS} layers, d {DIM}, {HEADS} heads, ff {FF}, vocabulary {VOCAB}")
    ours = build_transformer(VOCAB, VOCAB, LAYERS, DIM, HEADS, FF, dropout=0.1, max_source_length=64,
                             max_target_length=136, positional="learned", norm_first=False)
    print(f"\n{'T':>5}{'cached s':>10}{'re-run s':>10}{'speed-up':>10}  same tokens")
    for length in (16, 64, 128):
        cached, rerun, same = decoding(ours, args.batch, length)
        print(f"{length:>5}{cached:>10.3f}{rerun:>10.3f}{rerun / cached:>9.1f}x  {same}")

    rng = np.random.default_rng(1)
    batch = ([rng.integers(1, VOCAB, (64, 40)).astype("int32"), rng.integers(1, VOCAB, (64, 20)).astype("int32")],
             rng.integers(1, VOCAB, (64, 20)).astype("int32"))
    ours = build_transformer(VOCAB, VOCAB, LAYERS, DIM, HEADS, FF, dropout=0.1, max_source_length=64,
                             max_target_length=64, positional="learned", norm_first=False)
    reference = example_model(64)
    rounds = []
    for _ in range(3):
        reference_loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        rounds.append((train_step_seconds(reference, reference_loss, batch, args.steps),
                       train_step_seconds(ours, MaskedSparseCrossentropy(0.0), batch, args.steps)))
    ref, our = np.median([r for r, _ in rounds]), np.median([o for _, o in rounds])
    print(f"\ntrain step, batch 64 x (40 source, 20 target), {ours.count_params():,} vs "
          f"{reference.count_params():,} parameters: ours {our * 1000:.1f} ms, keras-io example {ref * 1000:.1f} ms, "
          f"ours / example {our / ref:.2f} (rounds: {', '.join(f'{o / r:.2f}' for r, o in rounds)})")


if __name__ == "__main__":
    main()
