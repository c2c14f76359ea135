"""Per-epoch translation monitoring: validation BLEU and exact match (logged as val_bleu, val_exact_match),
example translations in TensorBoard's text plugin, and attention heatmaps as PNG + TensorBoard images."""

import keras
import numpy as np
import tensorflow as tf

from keras_suite.data.tokenizer import START_ID
from keras_suite.decoding import from_config
from keras_suite.metrics import corpus_bleu, exact_match
from keras_suite.visuals.images import write_png
from keras_suite.visuals.plots import attention_heatmaps


class TranslationMonitor(keras.callbacks.Callback):
    """Greedy-decode `pairs` each epoch with `make_translator(model)` and add the scores to the epoch logs.

    Args:
        make_translator: model -> Translator.
        pairs: validation (source, target) pairs (the first `preview` are shown).
        run: the `Run`; previews go to its `previews/attention_epochNNN.png`, summaries to `logs/translations`.
        attention: optional `(model, source_ids, target_in) -> weights (B, T, S)` for the heatmaps, or a
            dict {panel name: weights (B, T, S)} (per layer and head) shown for the first example.
        preview: how many examples to show as text and heatmaps.
    """

    def __init__(self, make_translator, pairs, run, attention=None, preview=4):
        super().__init__()
        self.make_translator = make_translator
        self.pairs = list(pairs)
        self.attention = attention
        self.preview = preview
        self.run = run
        self.writer = tf.summary.create_file_writer(str(run.log_dir("translations")))

    def on_epoch_end(self, epoch, logs=None):
        if not self.pairs:
            return
        translator = self.make_translator(self.model)
        sources, targets = [s for s, _ in self.pairs], [t for _, t in self.pairs]
        outputs = [nbest[0][0] for nbest in translator.translate(sources, from_config())]
        hyps, refs = translator.token_lists(outputs), [[r] for r in translator.token_lists(targets)]
        bleu, em = corpus_bleu(hyps, refs)["bleu"], exact_match(hyps, refs)
        if logs is not None:
            logs["val_bleu"], logs["val_exact_match"] = bleu, em
        rows = ["| source | output | reference |", "|---|---|---|"]
        rows += [f"| {s} | {o} | {t} |" for s, o, t in zip(sources, outputs, targets)][:self.preview]
        with self.writer.as_default():
            tf.summary.text("translations", "\n".join(rows), step=epoch + 1)
            if self.attention is not None and self.preview:
                picture = self.heatmaps(translator, sources[:self.preview], outputs[:self.preview])
                tf.summary.image("attention", picture[None], step=epoch + 1)
                write_png(self.run.preview(f"attention_epoch{epoch + 1:03d}.png"), picture)
        self.writer.flush()

    def heatmaps(self, translator, sources, outputs):
        """One panel per example, or, when `attention` returns {name: weights} (per layer and head),
        one panel per name for the first example."""
        source_ids = translator.source_ids(sources).numpy()
        target_out = translator.target_ids(outputs)
        target_in = np.concatenate([np.full((len(outputs), 1), START_ID, np.int32), target_out[:, :-1]], axis=1)
        weights = self.attention(self.model, source_ids, target_in)
        named = weights if isinstance(weights, dict) else None
        panels = []
        for i, (source, output) in enumerate(zip(sources, outputs)):
            src = translator.model_tokens(source)
            out = translator.model_tokens(output, "target") + ["[END]"]
            if named is None:
                panels.append((np.asarray(weights)[i, :len(out), :len(src)], src, out, f"{source} -> {output}"))
            elif i == 0:
                panels += [(np.asarray(w)[0, :len(out), :len(src)], src, out, f"{name}: {source} -> {output}")
                           for name, w in named.items()]
        return attention_heatmaps(panels, columns=min(2 if named is None else 4, len(panels)))
