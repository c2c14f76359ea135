"""What the translation apps share: train, evaluate (BLEU per search), translate (beam, n-best), analyze
(search vs model errors), export (string-in/string-out beam search; TFLite beam search).

A subclass supplies the model through `build(cfg, vocab) -> (model, loss, metrics)`,
`decoder(model, cfg, max_length)` (an object with `encode` and `step`), `attention(model, source ids,
target_in) -> weights (B, T, S)` for the heatmaps and, optionally, `optimizer(cfg)` (a
`steps_per_epoch -> optimizer` factory for the trainer).
"""

import json
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from keras_suite import decoding
from keras_suite import export as exporting
from keras_suite.apps.base import App, Headline
from keras_suite.apps.translation.config import DECODE_MARGIN
from keras_suite.apps.translation.monitor import TranslationMonitor
from keras_suite.apps.translation.report import analyze_errors, compare_searches, format_table
from keras_suite.apps.translation.translator import Translator, search
from keras_suite.config import arguments
from keras_suite.console import progress_verbosity
from keras_suite.data.pairs import EMBEDDED, encode_pairs, load_pairs, pair_dataset
from keras_suite.data.tokenizer import END, END_ID, PAD_ID, START, START_ID, UNK, UNK_ID, Tokenizer
from keras_suite.data.wordpiece import CONTINUE
from keras_suite.decoding.compare import search_strategies
from keras_suite.errors import UserError
from keras_suite.export import litert_metadata as litert
from keras_suite.export.step_layout import StepInput, step_layout
from keras_suite.files import read_json, write_json
from keras_suite.metrics import corpus_bleu, exact_match
from keras_suite.training.trainer import fit


def save_vocab(path, source_tok, target_tok, longest_source, longest_target):
    write_json(path, {"source": json.loads(source_tok.to_json()), "target": json.loads(target_tok.to_json()),
                      "longest_source": longest_source, "longest_target": longest_target})


def load_vocab(run, app):
    if not run.vocab.is_file():
        raise UserError(f"run {run} has no vocab.json; it was not trained by the {app} app")
    data = json.loads(run.vocab.read_text())
    return {"source": Tokenizer.from_json(json.dumps(data["source"])),
            "target": Tokenizer.from_json(json.dumps(data["target"])),
            "longest_source": data["longest_source"], "longest_target": data["longest_target"]}


def default_level(source):
    """What data.level None means: char for the embedded tasks, subword for sentences (tsv:, tfds:)."""
    return "char" if str(source).strip() in EMBEDDED else "subword"


def load_data(cfg):
    """(train, validation, test) pairs of `data.source`."""
    return load_pairs(**arguments(cfg.data, load_pairs))


def _keep_fitting(source_ids, target_ids, d):
    """Drop training pairs outside the length limits; returns the kept ids and the count dropped."""
    fits = (source_ids.row_lengths() <= d.max_source_length) & (target_ids.row_lengths() + 1 <= d.max_target_length)
    fits &= source_ids.row_lengths() > 0
    return (tf.ragged.boolean_mask(source_ids, fits), tf.ragged.boolean_mask(target_ids, fits),
            int(tf.reduce_sum(tf.cast(~fits, tf.int32))))


class TranslationApp(App):

    def optimizer(self, cfg):
        return None

    def max_length(self, cfg, vocab):
        """Most target tokens a search generates: decode.max_length, else the longest training target plus
        DECODE_MARGIN, never more than data.max_target_length plus DECODE_MARGIN."""
        length = cfg.decode.max_length or vocab["longest_target"] + DECODE_MARGIN
        return min(length, cfg.data.max_target_length + DECODE_MARGIN)

    def make_translator(self, model, vocab, cfg):
        length = self.max_length(cfg, vocab)
        return Translator(vocab["source"], vocab["target"], self.decoder(model, cfg, length), length,
                          cfg.data.max_source_length, cfg.data.overlong, cfg.decode.seed)

    def translator(self, cfg, run):
        return self.make_translator(self.trained_model(run), load_vocab(run, self.name), cfg)

    def train(self, cfg, args):
        d = cfg.data
        train_pairs, val_pairs, _ = load_data(cfg)
        run = self.train_dir(cfg, args)
        if run.vocab.exists():
            vocab = load_vocab(run, self.name)
            source_tok, target_tok = vocab["source"], vocab["target"]
        else:
            d.level = d.level or default_level(d.source)  # saved with the run
            source_tok, target_tok = (
                Tokenizer.from_texts(texts, level, d.lowercase, d.subword_vocab if level == "subword" else d.max_vocab)
                for texts, level in (([s for s, _ in train_pairs], d.level),
                                     ([t for _, t in train_pairs], d.target_level or d.level)))
        train_src, train_tgt, dropped = _keep_fitting(*encode_pairs(train_pairs, source_tok, target_tok), d)
        if int(train_src.nrows()) == 0:
            raise UserError(f"no training pair fits data.max_source_length={d.max_source_length} and "
                            f"data.max_target_length={d.max_target_length}")
        val_src, val_tgt, _ = _keep_fitting(*encode_pairs(val_pairs, source_tok, target_tok), d)
        longest = (int(tf.reduce_max(train_src.row_lengths())), int(tf.reduce_max(train_tgt.row_lengths())))
        save_vocab(run.vocab, source_tok, target_tok, *longest)
        vocab = load_vocab(run, self.name)
        print(f"run directory: {run}\npairs: {int(train_src.nrows()):,} train ({dropped} over the length limits "
              f"dropped), {len(val_pairs):,} validation; vocabulary {source_tok.size} source "
              f"{source_tok.level}s / {target_tok.size} target {target_tok.level}s (with 4 special tokens); "
              f"longest source {longest[0]}, target {longest[1]}")
        tc = cfg.train
        train_ds = pair_dataset(train_src, train_tgt, tc.batch_size, training=True, seed=tc.seed)
        val_ds = pair_dataset(val_src, val_tgt, tc.batch_size)
        monitor = TranslationMonitor(lambda model: self.make_translator(model, vocab, cfg),
                                     val_pairs[:cfg.decode.monitor_examples], run, self.attention,
                                     cfg.decode.preview_examples)
        fit(cfg, run, lambda: self.build(cfg, vocab), train_ds, val_ds, [monitor], self.optimizer(cfg))
        print(f"done: model {run.model}, attention maps {run.previews}; tensorboard --logdir {run.path.parent}")
        return run

    def _pairs(self, cfg, args):
        split = self.eval_split(args)
        pairs = load_data(cfg)[1 if split == "val" else 2]
        return split, pairs[:cfg.decode.eval_examples] if cfg.decode.eval_examples else pairs

    def evaluate(self, cfg, args):
        run = args["run"]
        translator = self.translator(cfg, run)
        split, pairs = self._pairs(cfg, args)
        strategies = search_strategies(cfg.decode.widths, cfg.decode.alpha)
        print(f"decoding {len(pairs)} {split} pairs with {len(strategies)} searches (alpha {cfg.decode.alpha})")
        progress = keras.utils.Progbar(len(strategies), verbose=progress_verbosity(cfg.train.verbose))
        rows, outputs = compare_searches(translator, pairs, strategies, progress)
        print(format_table(rows))
        best = max(rows, key=lambda r: r["bleu"])["search"]
        hyps, refs = translator.token_lists(outputs[best]), translator.token_lists([t for _, t in pairs])
        errors = [{"source": s, "reference": t, "output": o}
                  for (s, t), o, h, r in zip(pairs, outputs[best], hyps, refs) if h != r]
        out = write_json(run.report("eval", split), {"split": split, "examples": len(pairs),
                                                     "alpha": cfg.decode.alpha, "searches": rows,
                                                     f"errors ({best})": errors[:50]})
        print(f"wrote {out}")
        return rows

    def translate(self, cfg, args):
        dc = cfg.decode
        strategy = decoding.from_config(dc)
        if "file" in args:
            path = Path(args["file"])
            if not path.is_file():
                raise UserError(f"file not found: {path}")
            try:
                texts = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
            except UnicodeDecodeError:
                raise UserError(f"{path} is not valid UTF-8 text") from None
            if not texts:
                raise UserError(f"{path} has no text lines")
        else:
            if not dc.text.strip():
                raise UserError("translate needs text=\"...\" (not empty) or file=<path>")
            texts = [dc.text]
        translator = self.translator(cfg, args["run"])
        results = translator.translate(texts, strategy, strict=True)
        for text, nbest in zip(texts, results):
            if len(texts) > 1 or dc.nbest > 1:
                print(text)
            for output, score in nbest:
                print(f"{output}\t{score:.4f}" if dc.nbest > 1 or len(texts) == 1 else output)
        return results

    def analyze(self, cfg, args):
        run = args["run"]
        translator = self.translator(cfg, run)
        split, pairs = self._pairs(cfg, args)
        strategy = decoding.from_config(beam=max(1, cfg.decode.beam), alpha=cfg.decode.alpha)
        result = analyze_errors(translator, pairs, strategy)
        print(f"{split}: {result['examples']} pairs, beam {strategy.width}, alpha {strategy.alpha}: "
              f"{result['correct']} correct, {result['errors']} wrong")
        print(f"  search errors (P(y*|x) > P(y_hat|x), a wider beam would help): {result['search_errors']}")
        print(f"  model errors  (the model prefers its wrong output):            {result['model_errors']}")
        for record in [r for r in result["records"] if r["verdict"] != "correct"][:10]:
            print(f"  [{record['verdict']}] {record['source']!r}: output {record['output']!r} "
                  f"({record['output_score']:.3f}), reference {record['reference']!r} "
                  f"({record['reference_score']:.3f})")
        out = write_json(run.report("analysis", split), result)
        print(f"wrote {out}")
        return result

    def examples(self, cfg, run, folder):
        """Evaluate, then translate a test sentence five ways (beam search, n-best)."""
        source = load_data(cfg)[2][0][0]
        return [("evaluate", {}), ("translate", {"text": source, "beam": 5, "nbest": 5})]

    def headline(self, run):
        path = run.report("eval", "test")
        searches = read_json(path)["searches"] if path.is_file() else []
        return Headline("test exact match", max((row["exact_match"] for row in searches), default=None), 0.99)

    def serving(self, cfg, run):
        dc, ecfg = cfg.decode, cfg.export
        # beam search even when decode.beam is 0 (greedy)
        beam = decoding.from_config(beam=max(1, dc.beam), alpha=dc.alpha, nbest=dc.nbest)
        if "tflite_int8" in ecfg.formats:  # measured on TF 2.21: the converter segfaults calibrating the loop
            raise UserError(f"tflite_int8 is not available for {self.name}: int8 calibration of the beam-search "
                            "loop crashes the TFLite converter (TF 2.21); use tflite or tflite_fp16")
        model, vocab = self.trained_model(run), load_vocab(run, self.name)
        translator = self.make_translator(model, vocab, cfg)
        decoder, max_length = translator.decoder, translator.max_length
        source_length = min(vocab["longest_source"], cfg.data.max_source_length)
        test = load_data(cfg)[2]

        def id_samples(texts):  # batch-1 padded source ids, longer sources cut as the fixed-size file does
            ids = translator.source_ids(texts).numpy()[:, :source_length]
            padded = np.zeros((len(ids), source_length), np.int32)
            padded[:, :ids.shape[1]] = ids
            return [{"source": row[None]} for row in padded]

        samples = id_samples([s for s, _ in test[:ecfg.parity_samples]])
        source_tok, target_tok = vocab["source"], vocab["target"]
        task = None
        if ecfg.task_samples:  # BLEU and exact match of each format's best translation of held-out sentences
            pairs = test[:ecfg.task_samples]
            refs = [[r] for r in translator.token_lists([t for _, t in pairs])]

            def score(outputs):
                texts = [w.decode("utf-8") for w in target_tok.decode(tf.constant(outputs["tokens"][:, 0])).numpy()]
                hyps = translator.token_lists(texts)
                return {"bleu": corpus_bleu(hyps, refs)["bleu"], "exact_match": exact_match(hyps, refs)}

            task = exporting.TaskCheck(id_samples([s for s, _ in pairs]), score)

        def serve(x, dynamic):
            tokens, scores = search(decoder, x["source"], beam, max_length)
            return {"tokens": tokens, "scores": scores}

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="text")])
        def translate(text):
            source = source_tok.encode(text)[:, :cfg.data.max_source_length].to_tensor()
            tokens, scores = search(decoder, source, beam, max_length)
            n = tf.shape(tokens)[1]
            words = tf.reshape(target_tok.decode(tf.reshape(tokens, [-1, tf.shape(tokens)[2]])), [-1, n])
            return {"translation": words[:, 0], "score": scores[:, 0], "nbest": words, "nbest_scores": scores}

        description = _litert(self.name, source_length, beam, max_length, source_tok, target_tok)
        serving = exporting.Serving(
            model=model, fn=serve, dynamic_spec={"source": tf.TensorSpec([None, None], tf.int32)},
            fixed_spec={"source": tf.TensorSpec([1, source_length], tf.int32)}, samples=samples,
            calibration=samples, endpoints={"translate": translate}, track=source_tok.layers + target_tok.layers,
            litert=description, task=task, scores=_same_best, min_scores={"same_best": ecfg.min_same_best},
            layouts={"tflite_step": step_layout(decoder, beam, max_length, StepInput(
                "source", tf.TensorSpec([source_length], tf.int32),
                (tf.fill([source_length], 4), tf.fill([source_length], 5)), "the source sentence", "translation",
                "target_vocab.txt", f"source = np.zeros((1, {source_length}), np.int32)  # the sentence's ids from "
                                    "source_vocab.txt, 0-padded",
                litert.feature(f"[{source_length}] int32 source token ids, 0-padded (truncate longer)",
                               files=["source_vocab.txt"])), description, encode=decoder.encode_one)})
        metadata = {
            "task": f"translation ({cfg.data.source})",
            "search": {"beam": beam.width, "alpha": beam.alpha, "nbest": beam.nbest, "max_length": max_length},
            "tokenizers": {"source": json.loads(source_tok.to_json()), "target": json.loads(target_tok.to_json())},
            "special_ids": {"pad": PAD_ID, "unknown": UNK_ID, "start": START_ID, "end": END_ID},
            "tflite": {"inputs": {"source": f"int32 (1, {source_length}) source ids, 0-padded (truncate longer)"},
                       "outputs": {"tokens": f"int32 (1, {beam.nbest}, {max_length}) target ids, cut at the first "
                                             f"end id ({END_ID})", "scores": f"float32 (1, {beam.nbest}) log P / "
                                                                             "len**alpha"},
                       "note": "tokenization stays outside TFLite: its string ops (UnicodeSplit, StringSplit, "
                               "RegexReplace) are not TFLite builtins; the beam search loop is inside"},
            "saved_model_signatures": {"translate": "text: string (batch) -> translation, score, nbest, nbest_scores",
                                       "serve": "source ids (batch, S) -> tokens, scores"}}
        return serving, metadata


def _same_best(reference, outputs):
    """The share of samples whose best translation is token for token the one Keras gives."""
    return {"same_best": float(np.mean(np.all(outputs["tokens"][:, 0] == reference["tokens"][:, 0], axis=-1)))}


def _litert(name, source_length, beam, max_length, source_tok, target_tok):
    """The metadata inside the .tflite files: source ids in, the n-best target ids and their scores out, with both
    vocabularies and the tokenization rules (it stays outside the file)."""
    def rules(tok):
        words = ", punctuation split off, split on spaces"
        return (f"{tok.level} level{', lower-cased' if tok.lowercase else ''}" + {
            "char": ", spaces collapsed", "word": words,
            "subword": f"{words}, then each word into the vocabulary's pieces greedily, longest first from its start "
                       f"(WordPiece; a piece inside a word is written {CONTINUE}piece; a word no pieces cover is one "
                       "unknown id: keras_suite.data.wordpiece.split_word)"}[tok.level])

    def vocabulary(tok):
        return litert.vocabulary_file(["[PAD]", UNK, START, END, *tok.tokens])

    return litert.Description(
        name=f"keras-suite {name}",
        description=f"translation with beam search inside (width {beam.width}, length normalization alpha "
                    f"{beam.alpha}); source: {rules(source_tok)}; target: {rules(target_tok)}",
        inputs={"source": litert.feature(f"[1, {source_length}] int32 source token ids, 0-padded (truncate longer)",
                                         files=["source_vocab.txt"])},
        outputs={"tokens": litert.feature(f"[1, {beam.nbest}, {max_length}] int32 target token ids of the n-best, "
                                          f"best first, each cut at the first end id ({END_ID})",
                                          files=["target_vocab.txt"]),
                 "scores": litert.feature(f"[1, {beam.nbest}] log P / length**alpha of each")},
        files={"source_vocab.txt": (vocabulary(source_tok), {"description": "source token of each id (0 padding, "
                                                                            "1 unknown, 2 start, 3 end)",
                                                             "type": "VOCABULARY"}),
               "target_vocab.txt": (vocabulary(target_tok), {"description": "target token of each id",
                                                             "type": "TENSOR_VALUE_LABELS"})})
