"""Image captioning: a CNN encoder and an attention decoder trained on captioned scenes (or photos); captions by
greedy search, beam search or sampling; BLEU-1..4, CIDEr-D and exact match; attention maps over the image; and an
export with the beam search inside (image in, caption out)."""

import json
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from keras_suite import decoding
from keras_suite import export as exporting
from keras_suite.apps.base import App, Headline
from keras_suite.apps.captioning.captioner import (
    Captioner,
    analyze_errors,
    caption_scores,
    compare_searches,
    format_table,
)
from keras_suite.apps.captioning.config import SPEC
from keras_suite.apps.captioning.monitor import CaptionMonitor, attention_picture
from keras_suite.config import arguments
from keras_suite.data.caption_sets import caption_dataset, load_captions, reference_ids, square
from keras_suite.data.tokenizer import END_ID, PAD_ID, START_ID, UNK, Tokenizer
from keras_suite.decoding.compare import search_strategies
from keras_suite.errors import UserError
from keras_suite.export import litert_metadata as litert
from keras_suite.export.step_layout import StepInput, step_layout
from keras_suite.files import read_json, write_json
from keras_suite.metrics import MaskedAccuracy
from keras_suite.models.captioner import STRIDES, build_captioner
from keras_suite.training.trainer import fit
from keras_suite.visuals.images import ImageFolder, write_png

TARGET = 0.6  # test BLEU-4 of the best search on the generated scenes
MARGIN = 4  # a search may write this many words past the longest training caption
VOCABULARY = "vocab.json"


def load_data(cfg, **counts):
    """(train, val, test) CaptionSplits of data.source (`counts` override data.num_*)."""
    return load_captions(**{**arguments(cfg.data, load_captions), **counts})


def positions(cfg):
    """Target positions the transformer decoder's table holds: a training caption and its start token, or the
    longest search."""
    return cfg.data.max_length + MARGIN + 1


class CaptioningApp(App):
    spec = SPEC

    def vocabulary(self, run):
        """(tokenizer, longest training caption in words) of a trained run."""
        path = run.file(VOCABULARY)
        if not path.is_file():
            raise UserError(f"run {run} has no {VOCABULARY}; it was not trained by the captioning app")
        data = json.loads(path.read_text())
        return Tokenizer.from_json(json.dumps(data["tokenizer"])), data["longest"]

    def max_length(self, cfg, longest):
        return min(cfg.decode.max_length or longest + MARGIN, cfg.data.max_length + MARGIN)

    def build(self, cfg, vocab_size):
        m = cfg.model
        model = build_captioner(cfg.data.image_size, vocab_size, m.decoder, m.encoder, m.width, m.weights,
                                m.embedding_dim, m.units, m.cell, m.attention, m.layers, m.heads, m.ff_dim, m.dropout,
                                positions(cfg))
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=PAD_ID)
        return model, loss, [MaskedAccuracy()]

    def captioner(self, cfg, run):
        tokenizer, longest = self.vocabulary(run)
        return Captioner(self.trained_model(run), tokenizer, self.max_length(cfg, longest), cfg.decode.seed)

    def train(self, cfg, args):
        d, tc = cfg.data, cfg.train
        stride = STRIDES[cfg.model.encoder]
        if d.image_size % stride:
            raise UserError(f"data.image_size {d.image_size} must be divisible by {stride} for the "
                            f"{cfg.model.encoder} encoder")
        train, val, _ = load_data(cfg, num_test=1)
        run = self.train_dir(cfg, args)
        path = run.file(VOCABULARY)
        if path.is_file():
            tokenizer, _ = self.vocabulary(run)
        else:
            tokenizer = Tokenizer.from_texts([c for refs in train.references for c in refs], "word", d.lowercase,
                                             d.max_vocab)
        ids, counts = reference_ids(tokenizer, train.references, d.max_length)
        longest = ids.shape[-1] - 1
        write_json(path, {"tokenizer": json.loads(tokenizer.to_json()), "longest": longest})
        val_ids, val_counts = reference_ids(tokenizer, val.references, d.max_length)
        print(f"run directory: {run}\n{len(train):,} training images ({int(counts.sum()):,} captions), {len(val):,} "
              f"validation; {tokenizer.size - 4:,} words (with 4 special tokens: {tokenizer.size}); longest caption "
              f"{longest} words; {cfg.model.encoder} encoder, {cfg.model.decoder} decoder")
        train_ds = caption_dataset(train.images, ids, counts, tc.batch_size, training=True, seed=tc.seed,
                                   word_dropout=cfg.model.word_dropout)
        val_ds = caption_dataset(val.images, val_ids, val_counts, tc.batch_size)
        length = self.max_length(cfg, longest)
        monitor = CaptionMonitor(lambda model: Captioner(model, tokenizer, length, cfg.decode.seed),
                                 val.take(cfg.decode.monitor_examples), run, cfg.decode.preview_examples,
                                 tc.preview_every)
        fit(cfg, run, lambda: self.build(cfg, tokenizer.size), train_ds, val_ds, [monitor])
        print(f"done: model {run.model}, attention maps {run.previews}; tensorboard --logdir {run.path.parent}")
        return run

    def evaluate(self, cfg, args):
        run, split = args["run"], self.eval_split(args)
        captioner = self.captioner(cfg, run)
        data = load_data(cfg, num_train=1, **{"num_val" if split == "val" else "num_test": (
            cfg.decode.eval_examples or getattr(cfg.data, f"num_{split}"))})[1 if split == "val" else 2]
        data = data.take(cfg.decode.eval_examples or len(data))
        dc = cfg.decode
        strategies = search_strategies(dc.widths, dc.alpha)
        print(f"captioning {len(data)} {split} images with {len(strategies)} searches (alpha {dc.alpha})")
        rows, outputs = compare_searches(captioner, data.images, data.references, strategies)
        print(format_table(rows))
        best = max(rows, key=lambda r: (r["bleu4"], r["cider_d"]))["search"]
        subsets = {}
        if data.novel is not None and data.novel.any() and not data.novel.all():
            refs = [captioner.words(r) for r in data.references]
            for name, keep in (("seen pairs", ~data.novel), ("novel pairs", data.novel)):
                index = np.flatnonzero(keep)
                subsets[name] = {"images": len(index), **caption_scores(
                    captioner.words([outputs[best][i] for i in index]), [refs[i] for i in index])}
            print(f"{best} by scene (colour-shape pairs seen in training, or some held out of it): " + "; ".join(
                f"{name}: {s['images']} images, BLEU-4 {100 * s['bleu4']:.2f}, exact {s['exact_match']:.4f}"
                for name, s in subsets.items()))
        strategy = dict(strategies)[best]
        analysis = analyze_errors(captioner, data.images, data.references, outputs[best],
                                  strategy if strategy.reorders else decoding.from_config(beam=1, alpha=dc.alpha))
        print(f"{best}: {analysis['correct']} of {analysis['examples']} captions match a reference; of the "
              f"{analysis['errors']} others, {analysis['search_errors']} are search errors (the model scores a "
              f"reference higher: a wider beam would help) and {analysis['model_errors']} model errors")
        shown = min(6, len(data))
        titles = [f"{best}: {o}\nreference: {r[0]}" for o, r in zip(outputs[best][:shown], data.references)]
        picture = write_png(run.preview(f"eval_{split}.png"), attention_picture(
            captioner, data.images[:shown], outputs[best][:shown], titles))
        wrong = [{"image": i, **r} for i, r in enumerate(analysis.pop("records")) if r["verdict"] != "correct"]
        out = write_json(run.report("eval", split), {
            "split": split, "examples": len(data), "alpha": dc.alpha, "searches": rows, "best": best,
            "by_scene": subsets,
            "analysis": analysis, "errors": wrong[:50],
            "captions": [{"image": i, **{name: outputs[name][i] for name in outputs}, "references": r}
                         for i, r in enumerate(data.references[:20])]})
        print(f"wrote {out} and {picture}")
        return rows

    def caption(self, cfg, args):
        run, dc = args["run"], cfg.decode
        strategy = decoding.from_config(dc)
        inputs = ImageFolder(args["image"])
        captioner = self.captioner(cfg, run)
        out = Path(args.get("out") or run.predictions)
        results = {}
        for path, image, stem in inputs.items:
            pixels = square(image, captioner.size)[None]
            nbest = captioner.caption(pixels, strategy)[0]
            best = nbest[0][0]
            picture = write_png(out / f"{stem}_caption.png", attention_picture(captioner, pixels, [best]))
            print(f"{path}: {picture}")
            for text, score in nbest:
                print(f"  {text or '(empty: the model ends at once)'}\t{score:.4f}")
            results[str(path)] = nbest
        inputs.finish(out)
        return results

    def examples(self, cfg, run, folder):
        """Evaluate, then caption a test scene written as a PNG into `folder` (beam search, three best)."""
        test = load_data(cfg, num_train=1, num_val=1, num_test=1)[2]
        return [("evaluate", {}), ("caption", {"image": write_png(folder / "scene.png", test.images[0]),
                                               "beam": 5, "nbest": 3})]

    def headline(self, run):
        path = run.report("eval", "test")
        rows = read_json(path)["searches"] if path.is_file() else []
        return Headline("test BLEU-4 (best search)", max((r["bleu4"] for r in rows), default=None), TARGET)

    def serving(self, cfg, run):
        dc, ecfg = cfg.decode, cfg.export
        beam = decoding.from_config(beam=max(1, dc.beam), alpha=dc.alpha, nbest=dc.nbest)
        if "tflite_int8" in ecfg.formats:
            raise UserError("tflite_int8 is not available for captioning: int8 calibration of the beam-search loop "
                            "crashes the TFLite converter (TF 2.21); use tflite or tflite_fp16")
        captioner = self.captioner(cfg, run)
        decoder, size, tokenizer, length = captioner.decoder, captioner.size, captioner.tokenizer, captioner.max_length
        test = load_data(cfg, num_train=1, num_val=1, num_test=max(ecfg.parity_samples, ecfg.task_samples))[2]

        def serve(x, dynamic):
            images = tf.cast(x["images"], tf.float32)
            if dynamic:
                images = tf.image.resize(images, (size, size), antialias=True)
            tokens, scores = decoding.search(decoder, images, beam, length, START_ID, END_ID)
            return {"tokens": tokens, "scores": scores}

        @tf.function(input_signature=[tf.TensorSpec([None, None, None, 3], tf.uint8, name="images")])
        def caption(images):
            out = serve({"images": images}, True)
            n = tf.shape(out["tokens"])[1]
            texts = tf.reshape(tokenizer.decode(tf.reshape(out["tokens"], [-1, length])), [-1, n])
            return {"caption": texts[:, 0], "score": out["scores"][:, 0], "nbest": texts,
                    "nbest_scores": out["scores"]}

        task = None
        if ecfg.task_samples:
            shown = test.take(ecfg.task_samples)
            refs = [captioner.words(r) for r in shown.references]

            def score(outputs):
                hyps = captioner.words(captioner.texts(outputs["tokens"][:, 0]))
                scores = caption_scores(hyps, refs)
                return {k: scores[k] for k in ("bleu4", "cider_d", "exact_match")}

            task = exporting.TaskCheck(exporting.image_samples(shown.images), score)
        dynamic_spec, fixed_spec = exporting.image_specs(size)
        samples = exporting.image_samples(test.images, ecfg.parity_samples)
        description = _litert(size, beam, length, tokenizer)
        serving = exporting.Serving(
            model=captioner.model, fn=serve, dynamic_spec=dynamic_spec, fixed_spec=fixed_spec, samples=samples,
            calibration=samples, endpoints={"caption": caption}, track=tokenizer.layers, litert=description,
            task=task, scores=_same_best, min_scores={"same_best": ecfg.min_same_best},
            layouts={"tflite_step": step_layout(decoder, beam, length, StepInput(  # float pixels: the GPU takes those
                "images", tf.TensorSpec([1, size, size, 3], tf.float32),
                (test.images[:1].astype(np.float32), test.images[1:2].astype(np.float32)), "the image", "captioning",
                "vocab.txt", f"images = np.zeros((1, {size}, {size}, 3), np.float32)  # an RGB image, {size}x{size}, "
                             "values 0-255",
                litert.image_input(size, f"[1, {size}, {size}, 3] float32 RGB image, values 0-255 (the graph "
                                         "normalizes them)")), description)})
        metadata = {
            "task": f"image captioning ({cfg.data.source})", "input": exporting.image_input(size),
            "model": {"encoder": cfg.model.encoder, "decoder": cfg.model.decoder},
            "search": {"beam": beam.width, "alpha": beam.alpha, "nbest": beam.nbest, "max_length": length},
            "tokenizer": json.loads(tokenizer.to_json()),
            "special_ids": {"pad": PAD_ID, "unknown": 1, "start": START_ID, "end": END_ID},
            "normalization": "inside the graph: x / 255",
            "saved_model_signatures": {"caption": "images: uint8 (N, H, W, 3), any size (resized inside) -> caption, "
                                                  "score, nbest, nbest_scores",
                                       "serve": "images uint8 (N, H, W, 3) -> tokens, scores"}}
        return serving, metadata


def _same_best(reference, outputs):
    """The share of images whose best caption is token for token the one Keras gives."""
    return {"same_best": float(np.mean(np.all(outputs["tokens"][:, 0] == reference["tokens"][:, 0], axis=-1)))}


def _litert(size, beam, length, tokenizer):
    """The metadata inside the .tflite files: an RGB image in, the n-best captions' word ids and scores out."""
    words = litert.vocabulary_file(["[PAD]", UNK, "[START]", "[END]", *tokenizer.tokens])
    return litert.Description(
        name="keras-suite captioning",
        description=f"image captioning with beam search inside (width {beam.width}, length normalization alpha "
                    f"{beam.alpha}, at most {length} words); words are the lines of vocab.txt, joined by spaces",
        inputs={"images": litert.image_input(size, f"RGB image, {size}x{size}, uint8 0-255 (normalized inside)")},
        outputs={"tokens": litert.feature(f"[1, {beam.nbest}, {length}] int32 word ids of the n-best captions, best "
                                          f"first, each cut at the first end id ({END_ID})", files=["vocab.txt"]),
                 "scores": litert.feature(f"[1, {beam.nbest}] log P / length**alpha of each")},
        files={"vocab.txt": (words, {"description": "the word of each id (0 padding, 1 unknown, 2 start, 3 end)",
                                     "type": "TENSOR_VALUE_LABELS"})})
