"""Beam search benchmark: our batched beam search (batch x beam in one tensor, one decoder call per
step, in a tf.function) vs a straightforward per-hypothesis Python loop (one batch-1 decoder call per
hypothesis per step, top-k in numpy) with the same search rules, on the same seq2seq decoder; and
our throughput at beam widths 1, 5 and 10. Both searches must return the same best translations.
Run: python bench/decoding.py [--run runs/seq2seq/<run>] [--sentences 64] [--width 5]

Without --run the decoder has the default model size with random weights (the search does the
same work either way; a trained run makes hypotheses end early, as in real use).
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_suite.apps.translation.base import default_level, load_vocab  # noqa: E402
from keras_suite.apps.translation.translator import search  # noqa: E402
from keras_suite.data.dates import date_pairs  # noqa: E402
from keras_suite.data.tokenizer import END_ID, START_ID, Tokenizer  # noqa: E402
from keras_suite.decoding import BeamSearch  # noqa: E402
from keras_suite.models.seq2seq import IncrementalSeq2Seq, build_seq2seq  # noqa: E402
from keras_suite.runs import Run  # noqa: E402


def reference_beam(decoder, source_ids, width, alpha, max_length):
    """The textbook loop: per input, per hypothesis, call the decoder with batch 1 and expand in numpy."""
    step = tf.function(decoder.step, reduce_retracing=True)
    results = []
    for row in source_ids:
        state = decoder.encode(row[None])
        beams = [([], 0.0, 0, False, START_ID, state)]  # tokens, log P, length, finished, last token, state
        for _ in range(max_length):
            candidates = []
            for tokens, log_prob, length, finished, last, st in beams:
                if finished:
                    candidates.append((log_prob / max(length, 1) ** alpha, tokens + [END_ID], log_prob, length,
                                       True, END_ID, st))
                    continue
                logits, new_state = step(tf.constant([last]), st)
                log_probs = tf.nn.log_softmax(logits[0]).numpy()
                for token in np.argsort(-log_probs)[:width]:
                    total = log_prob + float(log_probs[token])
                    candidates.append((total / (length + 1) ** alpha, tokens + [int(token)], total, length + 1,
                                       int(token) == END_ID, int(token), new_state))
            candidates.sort(key=lambda c: -c[0])
            beams = [c[1:] for c in candidates[:width]]
            if all(b[3] for b in beams):
                break
        results.append(beams[0][0])
    return results


def cut(tokens):
    tokens = list(tokens)
    return tokens[:tokens.index(END_ID)] if END_ID in tokens else tokens


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--run", default=None)
    parser.add_argument("--sentences", type=int, default=64)
    parser.add_argument("--width", type=int, default=5)
    parser.add_argument("--alpha", type=float, default=0.7)
    parser.add_argument("--max-length", type=int, default=18)
    args = parser.parse_args()
    texts = [s for s, _ in date_pairs(args.sentences, seed=123)]
    if args.run:
        model = keras.saving.load_model(f"{args.run}/model.keras", safe_mode=True)
        source_tok = load_vocab(Run(args.run), "seq2seq")["source"]
    else:
        pairs = date_pairs(2000, seed=0)
        source_tok = Tokenizer.from_texts([s for s, _ in pairs], default_level("dates"))
        target_tok = Tokenizer.from_texts([t for _, t in pairs], default_level("dates"))
        model = build_seq2seq(source_tok.size, target_tok.size)
    decoder = IncrementalSeq2Seq(model)
    source_ids = source_tok.encode(tf.constant(texts)).to_tensor().numpy()
    print(f"{'trained run ' + args.run if args.run else 'random weights'}; {len(texts)} dates sentences, "
          f"max length {args.max_length}, alpha {args.alpha}")

    batched = {}
    for width in (1, 5, 10, args.width):
        fn = tf.function(lambda s, w=width: search(decoder, s, BeamSearch(w, args.alpha), args.max_length))
        fn(source_ids)  # trace
        start = time.perf_counter()
        tokens, _ = fn(source_ids)
        batched[width] = (time.perf_counter() - start, tokens.numpy()[:, 0])
    start = time.perf_counter()
    reference = reference_beam(decoder, source_ids, args.width, args.alpha, args.max_length)
    ref_seconds = time.perf_counter() - start
    seconds, ours = batched[args.width]
    same = np.mean([cut(a) == cut(b) for a, b in zip(ours, reference)])
    print(f"\nbeam {args.width}: batched {seconds:.3f} s, per-hypothesis loop {ref_seconds:.3f} s -> "
          f"{ref_seconds / seconds:.1f}x faster; same best output for {same:.0%} of sentences")
    print("\nbatched throughput:")
    print(f"{'beam':>5}{'sentences/s':>13}{'vs beam 1':>11}")
    for width in (1, 5, 10):
        rate = len(texts) / batched[width][0]
        print(f"{width:>5}{rate:>13.1f}{batched[width][0] / batched[1][0]:>10.2f}x")


if __name__ == "__main__":
    main()
