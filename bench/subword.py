"""Subword, char and word tokens for translation, side by side on this machine: the transformer app trained with the
same time budget at each level, then scored by its `evaluate` (BLEU on words, exact match, ms per sentence of
greedy search and beam 5).

1. The embedded numbers task (digits -> number words in four languages).
2. A TSV built from it the other way round (number words -> digits). Most of its test sentences hold a word that
   training never saw (German and Spanish write numbers as compounds: dreiundachtzigtausenddreihundertfünf), so it
   also reports exact match on those sentences alone: word level can only read them as [UNK].

Run: python bench/subword.py [--budget 150s] [--runs runs/bench/subword] [--levels char,word,subword] [--reuse]
"""

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402
from timing import cli  # noqa: E402

from keras_suite.apps import APPS  # noqa: E402
from keras_suite.apps.translation.report import compare_searches  # noqa: E402
from keras_suite.config import load_config  # noqa: E402
from keras_suite.data.numbers import number_pairs  # noqa: E402
from keras_suite.data.pairs import load_pairs  # noqa: E402
from keras_suite.data.tokenizer import Tokenizer  # noqa: E402
from keras_suite.decoding.compare import search_strategies  # noqa: E402
from keras_suite.runs import Run  # noqa: E402

PAIRS = 22_000  # the reversed TSV: ~90% train, 5% validation, 5% test
EXAMPLES = 300  # test sentences each search translates


def reversed_tsv(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{words}\t{digits.split(' ', 1)[1]}\n" for digits, words in number_pairs(PAIRS, seed=7)),
                    encoding="utf-8")
    return f"tsv:{path}"


def unseen_word_pairs(source):
    """Test pairs of `source` with a source word (word-level tokenization) absent from its training split."""
    train, _, test = load_pairs(source)
    words = Tokenizer((), "word")
    seen = {w for tokens in words.split(tf.constant([s for s, _ in train])).to_list() for w in tokens}
    test_words = words.split(tf.constant([s for s, _ in test])).to_list()
    return [pair for pair, tokens in zip(test, test_words) if any(w not in seen for w in tokens)], len(test)


def measure(task, source, level, runs, budget, reuse):
    run = Run(Path(runs) / task / "transformer" / level)
    if not (reuse and run.model.is_file()):
        cli(["transformer", "train", f"data.source={source}", f"data.level={level}", f"train.time_budget={budget}",
             f"train.runs_dir={Path(runs) / task}", f"train.run_name={level}", "train.verbose=0"])
    if not (reuse and run.report("eval", "test").is_file()):
        cli(["transformer", "evaluate", f"run={run}", f"decode.eval_examples={EXAMPLES}", "decode.widths=[5]"])
    report = json.loads(run.report("eval", "test").read_text())
    searches = {s["search"]: s for s in report["searches"]}
    vocab = json.loads(run.vocab.read_text())
    row = {"task": task, "level": level, "train_s": json.loads(run.metrics.read_text())["train_seconds"],
           "vocab": (len(vocab["source"]["tokens"]) + 4, len(vocab["target"]["tokens"]) + 4),
           "longest": (vocab["longest_source"], vocab["longest_target"]),
           **{f"{k}_{name.split()[0]}": searches[name][k] for name in ("greedy", "beam 5")
              for k in ("bleu", "exact_match", "ms_per_sentence")}}
    if task == "reversed":
        app = APPS.get("transformer").load()()
        cfg = load_config(app.config_cls, [run.config])
        pairs, total = unseen_word_pairs(source)
        rows, _ = compare_searches(app.translator(cfg, run), pairs[:EXAMPLES], search_strategies([], cfg.decode.alpha))
        row["unseen"] = (len(pairs), total, rows[0]["exact_match"])
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", default="150s")
    parser.add_argument("--runs", default="runs/bench/subword")
    parser.add_argument("--levels", default="char,word,subword")
    parser.add_argument("--tasks", default="numbers,reversed")
    parser.add_argument("--reuse", action="store_true", help="keep runs and reports that exist")
    args = parser.parse_args()
    sources = {"numbers": "numbers", "reversed": reversed_tsv(Path(args.runs) / "numbers_reversed.tsv")}
    print("| task | level | vocabulary source / target | longest source / target (tokens) | training s | greedy BLEU "
          "| greedy exact | beam 5 exact | greedy ms/sentence | beam 5 ms/sentence | exact on unseen-word sentences |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for task in args.tasks.split(","):
        for level in args.levels.split(","):
            r = measure(task, sources[task], level, args.runs, args.budget, args.reuse)
            unseen = "-"
            if "unseen" in r:
                unseen = f"{r['unseen'][2]:.3f} ({r['unseen'][0]} of {r['unseen'][1]} test sentences)"
            print(f"| {task} | {level} | {r['vocab'][0]} / {r['vocab'][1]} | {r['longest'][0]} / {r['longest'][1]} | "
                  f"{r['train_s']:.0f} | {r['bleu_greedy']:.2f} | {r['exact_match_greedy']:.3f} | "
                  f"{r['exact_match_beam']:.3f} | {r['ms_per_sentence_greedy']:.1f} | "
                  f"{r['ms_per_sentence_beam']:.1f} | {unseen} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
