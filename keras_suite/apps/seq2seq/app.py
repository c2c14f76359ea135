"""Sequence-to-sequence translation with attention: train, evaluate (BLEU per search), translate (beam,
n-best), analyze (search vs model errors), export (string-in/string-out beam search; TFLite beam search)."""

import json
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from keras_suite import export as exporting
from keras_suite.apps.base import APPS, App
from keras_suite.apps.seq2seq.config import Seq2SeqConfig
from keras_suite.data.pairs import encode_pairs, load_pairs, pair_dataset
from keras_suite.data.tokenizer import LEVELS, Tokenizer
from keras_suite.decoding import BeamSearch
from keras_suite.errors import UserError
from keras_suite.layers.cross_attention import SCORES
from keras_suite.metrics import MaskedAccuracy
from keras_suite.models.seq2seq import CELLS, IncrementalSeq2Seq, attention_model, build_seq2seq
from keras_suite.runs import new_run_dir, write_json
from keras_suite.train import fit
from keras_suite.translation_monitor import TranslationMonitor
from keras_suite.translation_report import analyze_errors, compare_searches, format_table, search_strategies
from keras_suite.translator import Translator, search, strategy_for


def check_config(cfg):
    d, m = cfg.data, cfg.model
    for key, value, allowed in (("data.level", d.level, LEVELS),
                                ("data.target_level", d.target_level or d.level, LEVELS),
                                ("data.overlong", d.overlong, ("error", "truncate")), ("model.cell", m.cell, CELLS),
                                ("model.attention", m.attention, SCORES)):
        if value not in allowed:
            raise UserError(f"{key} must be one of {', '.join(allowed)}, got '{value}'")
    for key, value in (("data.max_source_length", d.max_source_length), ("data.max_target_length", d.max_target_length),
                       ("model.units", m.units), ("model.embedding_dim", m.embedding_dim)):
        if value < 1:
            raise UserError(f"{key} must be positive, got {value}")


def build(cfg, vocab):
    m = cfg.model
    model = build_seq2seq(vocab["source"].size, vocab["target"].size, m.embedding_dim, m.units, m.cell, m.attention,
                          m.dropout)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0)
    return model, loss, [MaskedAccuracy()]


def save_vocab(path, source_tok, target_tok, source_length, target_length):
    payload = {"source": json.loads(source_tok.to_json()), "target": json.loads(target_tok.to_json()),
               "longest_source": source_length, "longest_target": target_length}
    write_json(path, payload)


def load_vocab(run):
    path = Path(run) / "vocab.json"
    if not path.is_file():
        raise UserError(f"run {run} has no vocab.json; it was not trained by the seq2seq app")
    data = json.loads(path.read_text())
    return {"source": Tokenizer.from_json(json.dumps(data["source"])),
            "target": Tokenizer.from_json(json.dumps(data["target"])),
            "longest_source": data["longest_source"], "longest_target": data["longest_target"]}


def _keep_fitting(source_ids, target_ids, d):
    """Drop training pairs longer than the configured limits; returns the kept ids and the count dropped."""
    fits = (source_ids.row_lengths() <= d.max_source_length) & (target_ids.row_lengths() + 1 <= d.max_target_length)
    fits &= source_ids.row_lengths() > 0
    return tf.ragged.boolean_mask(source_ids, fits), tf.ragged.boolean_mask(target_ids, fits), \
        int(tf.reduce_sum(tf.cast(~fits, tf.int32)))


def attention_weights(model, source_ids, target_in):
    return attention_model(model).predict_on_batch([source_ids, target_in])[1]


def make_translator(model, vocab, cfg):
    length = cfg.decode.max_length or vocab["longest_target"] + 8
    return Translator(vocab["source"], vocab["target"], IncrementalSeq2Seq(model), length,
                      cfg.data.max_source_length, cfg.data.overlong)


@APPS.register("seq2seq")
class Seq2SeqApp(App):
    name = "seq2seq"
    description = "encoder-decoder with attention (beam search, BLEU, error analysis; dates -> ISO by default)"
    config_cls = Seq2SeqConfig
    commands = {"train": {"resume", "source"}, "evaluate": {"run", "split"},
                "translate": {"run", "text", "file", "beam", "nbest", "alpha"},
                "analyze": {"run", "split", "beam", "alpha"},
                "export": {"run", "formats", "name", "overwrite", "beam", "nbest", "alpha"}}
    aliases = {"source": "data.source", "text": "decode.text", "beam": "decode.beam", "nbest": "decode.nbest",
               "alpha": "decode.alpha", "formats": "export.formats", "name": "export.name",
               "overwrite": "export.overwrite"}

    def train(self, cfg, args):
        check_config(cfg)
        d = cfg.data
        train_pairs, val_pairs, _ = load_pairs(d)
        run = args.get("resume") or new_run_dir(cfg.train.runs_dir, self.name)
        if (Path(run) / "vocab.json").exists():
            vocab = load_vocab(run)
            source_tok, target_tok = vocab["source"], vocab["target"]
        else:
            source_tok = Tokenizer.from_texts([s for s, _ in train_pairs], d.level, d.lowercase, d.max_vocab)
            target_tok = Tokenizer.from_texts([t for _, t in train_pairs], d.target_level or d.level, d.lowercase,
                                              d.max_vocab)
        train_src, train_tgt, dropped = _keep_fitting(*encode_pairs(train_pairs, source_tok, target_tok), d)
        if int(train_src.nrows()) == 0:
            raise UserError(f"no training pair fits data.max_source_length={d.max_source_length} and "
                            f"data.max_target_length={d.max_target_length}")
        val_src, val_tgt, _ = _keep_fitting(*encode_pairs(val_pairs, source_tok, target_tok), d)
        longest = (int(tf.reduce_max(train_src.row_lengths())), int(tf.reduce_max(train_tgt.row_lengths())))
        save_vocab(Path(run) / "vocab.json", source_tok, target_tok, *longest)
        vocab = load_vocab(run)
        print(f"run directory: {run}\npairs: {int(train_src.nrows()):,} train ({dropped} over the length limits "
              f"dropped), {len(val_pairs):,} validation; vocabulary {source_tok.size} source / {target_tok.size} "
              f"target {d.level}s (with 4 special tokens); longest source {longest[0]}, target {longest[1]}")
        tc = cfg.train
        train_ds = pair_dataset(train_src, train_tgt, tc.batch_size, training=True, seed=tc.seed)
        val_ds = pair_dataset(val_src, val_tgt, tc.batch_size)
        monitor = TranslationMonitor(lambda model: make_translator(model, vocab, cfg),
                                     val_pairs[:cfg.decode.monitor_examples], run, attention_weights,
                                     cfg.decode.preview_examples)
        fit(cfg, run, lambda: build(cfg, vocab), train_ds, val_ds, [monitor])
        print(f"done: model {Path(run) / 'model.keras'}, attention maps {Path(run) / 'previews'}; "
              f"tensorboard --logdir {Path(run).parent}")
        return run

    def translator(self, cfg, run):
        check_config(cfg)
        return make_translator(self.trained_model(run), load_vocab(run), cfg)

    def _pairs(self, cfg, args):
        split = args.get("split", "test")
        if split not in ("val", "test"):
            raise UserError(f"split must be val or test, got '{split}'")
        pairs = load_pairs(cfg.data)[1 if split == "val" else 2]
        return split, pairs[:cfg.decode.eval_examples] if cfg.decode.eval_examples else pairs

    def evaluate(self, cfg, args):
        run = args["run"]
        translator = self.translator(cfg, run)
        split, pairs = self._pairs(cfg, args)
        strategies = search_strategies(cfg.decode.widths, cfg.decode.alpha)
        print(f"decoding {len(pairs)} {split} pairs with {len(strategies)} searches (alpha {cfg.decode.alpha})")
        rows, outputs = compare_searches(translator, pairs, strategies, keras.utils.Progbar(len(strategies)))
        print(format_table(rows))
        best = max(rows, key=lambda r: r["bleu"])["search"]
        hyps, refs = translator.token_lists(outputs[best]), translator.token_lists([t for _, t in pairs])
        examples = [{"source": s, "reference": t, "output": o}
                    for (s, t), o, h, r in zip(pairs, outputs[best], hyps, refs) if h != r]
        out = write_json(Path(run) / f"eval_{split}.json", {"split": split, "examples": len(pairs),
                                                          "alpha": cfg.decode.alpha, "searches": rows,
                                                          f"errors ({best})": examples[:50]})
        print(f"wrote {out}")
        return rows

    def translate(self, cfg, args):
        dc = cfg.decode
        strategy = strategy_for(dc.beam, dc.alpha, dc.nbest)
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
                print(f"{text}")
            for output, score in nbest:
                print(f"{output}\t{score:.4f}" if dc.nbest > 1 or len(texts) == 1 else output)
        return results

    def analyze(self, cfg, args):
        run = args["run"]
        translator = self.translator(cfg, run)
        split, pairs = self._pairs(cfg, args)
        strategy = strategy_for(max(1, cfg.decode.beam), cfg.decode.alpha)
        result = analyze_errors(translator, pairs, strategy)
        print(f"{split}: {result['examples']} pairs, beam {strategy.width}, alpha {strategy.alpha}: "
              f"{result['correct']} correct, {result['errors']} wrong")
        print(f"  search errors (P(y*|x) > P(y_hat|x), a wider beam would help): {result['search_errors']}")
        print(f"  model errors  (the model prefers its wrong output):            {result['model_errors']}")
        for record in [r for r in result["records"] if r["verdict"] != "correct"][:10]:
            print(f"  [{record['verdict']}] {record['source']!r}: output {record['output']!r} "
                  f"({record['output_score']:.3f}), reference {record['reference']!r} "
                  f"({record['reference_score']:.3f})")
        out = write_json(Path(run) / f"analysis_{split}.json", result)
        print(f"wrote {out}")
        return result

    def export(self, cfg, args):
        run = args["run"]
        check_config(cfg)
        dc, ecfg = cfg.decode, cfg.export
        strategy_for(max(1, dc.beam), dc.alpha, dc.nbest)
        if "tflite_int8" in ecfg.formats:  # measured on TF 2.21: the converter segfaults calibrating the loop
            raise UserError("tflite_int8 is not available for seq2seq: int8 calibration of the beam-search loop "
                            "crashes the TFLite converter (TF 2.21); use tflite or tflite_fp16")
        target = self.export_target(cfg, run)
        model, vocab = self.trained_model(run), load_vocab(run)
        translator = make_translator(model, vocab, cfg)
        decoder = translator.decoder
        source_length = min(vocab["longest_source"], cfg.data.max_source_length)
        beam = BeamSearch(max(1, dc.beam), dc.alpha, dc.nbest)
        _, _, test_pairs = load_pairs(cfg.data)
        sources = [s for s, _ in test_pairs[:ecfg.parity_samples]]
        ids = translator.source_ids(sources).numpy()[:, :source_length]
        padded = np.zeros((len(ids), source_length), np.int32)
        padded[:, :ids.shape[1]] = ids
        samples = [{"source": row[None]} for row in padded]
        source_tok, target_tok = vocab["source"], vocab["target"]
        max_length = translator.max_length

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

        serving = exporting.Serving(
            model=model, fn=serve, dynamic_spec={"source": tf.TensorSpec([None, None], tf.int32)},
            fixed_spec={"source": tf.TensorSpec([1, source_length], tf.int32)}, samples=samples,
            calibration=samples, endpoints={"translate": translate}, track=source_tok.layers + target_tok.layers)
        metadata = {
            "app": self.name, "task": f"translation ({cfg.data.source})",
            "search": {"beam": beam.width, "alpha": beam.alpha, "nbest": beam.nbest, "max_length": max_length},
            "tokenizers": {"source": json.loads(source_tok.to_json()), "target": json.loads(target_tok.to_json())},
            "special_ids": {"pad": 0, "unknown": 1, "start": 2, "end": 3},
            "tflite": {"inputs": {"source": f"int32 (1, {source_length}) source ids, 0-padded (truncate longer)"},
                       "outputs": {"tokens": f"int32 (1, {beam.nbest}, {max_length}) target ids, cut at the first "
                                             "end id (3)", "scores": f"float32 (1, {beam.nbest}) log P / len**alpha"},
                       "note": "tokenization stays outside TFLite: its string ops (UnicodeSplit, StringSplit, "
                               "RegexReplace) are not TFLite builtins; the beam search loop is inside"},
            "saved_model_signatures": {"translate": "text: string (batch) -> translation, score, nbest, nbest_scores",
                                       "serve": "source ids (batch, S) -> tokens, scores"},
            "run": str(run),
        }
        report = exporting.export(serving, target, ecfg, metadata)
        print(exporting.format_report(report))
        print(f"exported to {target}")
        return target
