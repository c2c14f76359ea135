"""char-RNN benchmark: our train step vs the TF text-generation tutorial's model written the same way
(same cell and units), XLA on vs off, and generation with incremental state vs re-running the prefix.
Run: python bench/char_rnn.py [--steps N] [--chars 256]

Everything is timed in this process, alternating, and printed as ratios.
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from timing import train_step_seconds  # noqa: E402

from keras_suite.decoding import Greedy, continue_text  # noqa: E402
from keras_suite.models.char_rnn import build_char_rnn, build_step_model, stacked_step  # noqa: E402

LOSS = keras.losses.SparseCategoricalCrossentropy(from_logits=True)


class TutorialModel(keras.Model):
    """The model of tensorflow.org/text/tutorials/text_generation: Embedding -> GRU -> Dense, subclassed."""

    def __init__(self, vocab_size, embedding_dim, rnn_units):
        super().__init__()
        self.embedding = keras.layers.Embedding(vocab_size, embedding_dim)
        self.gru = keras.layers.GRU(rnn_units, return_sequences=True, return_state=True)
        self.dense = keras.layers.Dense(vocab_size)

    def call(self, inputs, training=False):
        x = self.embedding(inputs, training=training)
        x, _ = self.gru(x, training=training)
        return self.dense(x, training=training)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--chars", type=int, default=256)
    parser.add_argument("--units", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    vocab, emb, units, batch, seq = 84, 64, args.units, 64, 100
    rng = np.random.default_rng(0)
    data = (rng.integers(1, vocab, (batch, seq)).astype("int32"), rng.integers(1, vocab, (batch, seq)).astype("int32"))
    print(f"GRU, {units} units, embedding {emb}, batch {batch} x {seq} characters, {args.steps} steps")

    ours = build_char_rnn(vocab, emb, units, layers=1, cell="gru")
    ref = TutorialModel(vocab, emb, units)
    ref(data[0][:1])
    assert ours.count_params() == ref.count_params()
    rounds = [(train_step_seconds(ref, LOSS, data, args.steps), train_step_seconds(ours, LOSS, data, args.steps))
              for _ in range(args.rounds)]  # alternate, so machine noise hits both
    t_ref, t_ours = (float(np.median(r)) for r in zip(*rounds))
    ratios = ", ".join(f"{o / r:.2f}" for r, o in rounds)
    print(f"train step (median of {args.rounds}): ours {t_ours * 1000:7.1f} ms, tutorial {t_ref * 1000:7.1f} ms, "
          f"ours/tutorial = {t_ours / t_ref:.2f} (rounds: {ratios})")
    t_xla = train_step_seconds(build_char_rnn(vocab, emb, units, layers=1, cell="gru"), LOSS, data, args.steps,
                               jit=True)
    print(f"XLA: off {t_ours * 1000:7.1f} ms, on {t_xla * 1000:7.1f} ms, off/on = {t_ours / t_xla:.2f}x")

    next_fn, zeros = stacked_step(build_step_model(ours))
    incremental = tf.function(lambda prime: continue_text(next_fn, prime, zeros, args.chars, Greedy())[0])

    @tf.function
    def rerun(prime):
        tokens = prime
        for _ in tf.range(args.chars):
            tf.autograph.experimental.set_loop_options(shape_invariants=[(tokens, tf.TensorShape([1, None]))])
            logits = ours(tokens)[:, -1]
            tokens = tf.concat([tokens, tf.argmax(logits, -1, output_type=tf.int32)[:, None]], axis=1)
        return tokens[:, 1:]

    prime = tf.constant([[5]], tf.int32)
    np.testing.assert_array_equal(incremental(prime).numpy(), rerun(prime).numpy())  # same text, also warms up
    timings = {}
    for name, fn in (("incremental", incremental), ("re-run prefix", rerun)):
        start = time.perf_counter()
        fn(prime)
        timings[name] = args.chars / (time.perf_counter() - start)
    speedup = timings["incremental"] / timings["re-run prefix"]
    print(f"generation of {args.chars} chars: incremental {timings['incremental']:8.0f} chars/s, re-running the "
          f"prefix {timings['re-run prefix']:8.0f} chars/s, speed-up {speedup:.1f}x")


if __name__ == "__main__":
    main()
