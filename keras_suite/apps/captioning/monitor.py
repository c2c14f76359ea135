"""Per-epoch captioning monitoring: greedy captions of validation images scored (val_bleu4, val_cider_d,
val_exact_match in the epoch logs), some of them in TensorBoard's Text tab, and their attention maps as a PNG
preview and a TensorBoard image."""

import keras
import tensorflow as tf

from keras_suite.apps.captioning.captioner import caption_scores
from keras_suite.decoding import from_config
from keras_suite.visuals.images import write_png
from keras_suite.visuals.plots import caption_attention_figure


def attention_picture(captioner, images, captions, titles=None):
    """The attention figure of `images` with their `captions` (titled by the captions, or by `titles`)."""
    rows = captioner.attention(images, captions)
    return caption_attention_figure([(image, words, maps, title) for image, (words, maps), title in
                                     zip(images, rows, titles or captions)])


class CaptionMonitor(keras.callbacks.Callback):
    """Greedy-caption `images` each epoch with `make_captioner(model)`; add the scores to the epoch logs, and show
    the first `preview` captions with their references (Text tab) and attention maps (previews/ and Images tab)."""

    def __init__(self, make_captioner, split, run, preview=4, every=1):
        super().__init__()
        self.make_captioner, self.split, self.run = make_captioner, split, run
        self.preview, self.every = preview, max(1, every)
        self.writer = tf.summary.create_file_writer(str(run.log_dir("captions")))

    def on_epoch_end(self, epoch, logs=None):
        if not len(self.split):
            return
        captioner = self.make_captioner(self.model)
        outputs = [nbest[0][0] for nbest in captioner.caption(self.split.images, from_config())]
        scores = caption_scores(captioner.words(outputs), [captioner.words(r) for r in self.split.references])
        if logs is not None:
            for key in ("bleu4", "cider_d", "exact_match"):
                logs[f"val_{key}"] = scores[key]
        if (epoch + 1) % self.every or not self.preview:
            return
        shown = min(self.preview, len(outputs))
        rows = ["| caption | references |", "|---|---|"]
        rows += [f"| {o} | {' / '.join(r)} |" for o, r in zip(outputs[:shown], self.split.references)]
        picture = attention_picture(captioner, self.split.images[:shown], outputs[:shown],
                                    [f"{o}\nreference: {r[0]}" for o, r in zip(outputs, self.split.references)])
        write_png(self.run.preview(f"attention_epoch{epoch + 1:03d}.png"), picture)
        with self.writer.as_default():
            tf.summary.text("captions", "\n".join(rows), step=epoch + 1)
            tf.summary.image("attention", picture[None], step=epoch + 1)
        self.writer.flush()
