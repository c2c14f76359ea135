"""Images in, captions out: the run's tokenizer, the model's incremental decoder and the shared search loop; and
the scores a caption gets against its references (BLEU-1..4, CIDEr-D, exact match)."""

import math

import numpy as np
import tensorflow as tf

from keras_suite import decoding
from keras_suite.data.tokenizer import END_ID, START_ID
from keras_suite.decoding.compare import timed_best
from keras_suite.metrics import corpus_bleu
from keras_suite.metrics.cider import cider_d
from keras_suite.models.captioner import attention_model, incremental


def caption_scores(hyps, refs):
    """BLEU-1..4 (corpus level, geometric means of the 1..n-gram precisions times the brevity penalty), CIDEr-D and
    the share of captions equal to one of their references, for word lists `hyps` and per image a list of
    reference word lists."""
    bleu = corpus_bleu(hyps, refs)
    scores = {}
    for n in range(1, 5):
        p = bleu["precisions"][:n]
        scores[f"bleu{n}"] = bleu["brevity_penalty"] * math.exp(sum(map(math.log, p)) / n) if min(p) > 0 else 0.0
    scores["cider_d"] = cider_d(hyps, refs)[0]
    scores["exact_match"] = float(np.mean([h in r for h, r in zip(hyps, refs)])) if hyps else 0.0
    scores["precisions"] = bleu["precisions"]
    scores["brevity_penalty"] = bleu["brevity_penalty"]
    return scores


class Captioner:
    """Caption images with a trained captioner.

    Args:
        model: the trained Keras model ((images, target_in) -> logits).
        tokenizer: the run's word tokenizer.
        max_length: most words a search writes (the end token included).
        seed: seed of sampling strategies (searches are deterministic).
    """

    def __init__(self, model, tokenizer, max_length, seed=0):
        self.model, self.tokenizer, self.max_length = model, tokenizer, max_length
        self.decoder = incremental(model, max_length)
        self.seed = (seed, 0)
        self._searches = {}
        self._score = tf.function(lambda images, targets: decoding.sequence_log_prob(
            self.decoder.step, tf.fill([tf.shape(images)[0]], START_ID), self.decoder.encode(images), targets, END_ID),
            reduce_retracing=True)
        self._attention = None

    @property
    def size(self):
        return self.model.input_shape[0][1]

    def search_ids(self, images, strategy):
        """(tokens (B, N, T), scores (B, N)) for uint8 or float images (B, S, S, 3)."""
        key = (type(strategy).__name__, *(getattr(strategy, a, None) for a in
                                          ("width", "alpha", "nbest", "temperature", "top_k", "top_p")))
        if key not in self._searches:
            self._searches[key] = tf.function(lambda x: decoding.search(
                self.decoder, x, strategy, self.max_length, START_ID, END_ID, self.seed), reduce_retracing=True)
        return self._searches[key](tf.cast(images, tf.float32))

    def texts(self, tokens):
        """Captions of id rows (N, T)."""
        return [t.decode("utf-8") for t in self.tokenizer.decode(tf.constant(tokens)).numpy()]

    def caption(self, images, strategy, batch_size=128):
        """For each image, the n-best list of (caption, score), best first."""
        results = []
        for start in range(0, len(images), batch_size):
            tokens, scores = self.search_ids(images[start:start + batch_size], strategy)
            n = tokens.shape[1]
            texts = self.texts(tf.reshape(tokens, [-1, tokens.shape[2]]))
            results += [[(texts[i * n + j], float(scores[i, j])) for j in range(n)] for i in range(len(tokens))]
        return results

    def words(self, texts):
        """Captions as the word lists the scores compare."""
        if not texts:
            return []
        return [[w.decode("utf-8") for w in row] for row in self.tokenizer.split(tf.constant(list(texts))).to_list()]

    def target_ids(self, texts):
        """Padded target ids with the end id appended (B, T + 1)."""
        return self.tokenizer.encode_ended(texts, self.max_length - 1)

    def log_prob(self, images, texts):
        """(log P(caption | image), length with the end token) for each image and its caption."""
        lp, length = self._score(tf.cast(images, tf.float32), self.target_ids(texts))
        return lp.numpy(), length.numpy()

    def attention(self, images, texts):
        """Per image, its caption's words (and [END]) and the attention grid (T, G, G) of each, teacher-forced."""
        if self._attention is None:
            self._attention = attention_model(self.model)
        target_out = self.target_ids(texts)
        target_in = np.concatenate([np.full((len(texts), 1), START_ID, np.int32), target_out[:, :-1]], axis=1)
        target_in[target_in == END_ID] = 0
        weights = np.asarray(self._attention.predict_on_batch([np.asarray(images, np.float32), target_in])[1])
        grid = int(round(math.sqrt(weights.shape[-1])))
        rows = []
        for i, text in enumerate(texts):
            words = [*self.words([text])[0], "[END]"]
            rows.append((words, weights[i, :len(words)].reshape(len(words), grid, grid)))
        return rows


def compare_searches(captioner, images, references, strategies):
    """Scores and ms per image of each (name, strategy) on `images`; also their captions."""
    refs = [captioner.words(r) for r in references]
    rows, outputs = [], {}
    for name, strategy in strategies:
        texts, ms = timed_best(captioner.caption, images, strategy)
        rows.append({"search": name, **caption_scores(captioner.words(texts), refs), "ms_per_image": ms})
        outputs[name] = texts
    return rows, outputs


def format_table(rows):
    lines = [f"{'search':<10}{'BLEU-1':>8}{'BLEU-2':>8}{'BLEU-3':>8}{'BLEU-4':>8}{'CIDEr-D':>9}{'exact':>8}"
             f"{'ms/img':>8}"]
    for r in rows:
        lines.append(f"{r['search']:<10}" + "".join(f"{100 * r[f'bleu{n}']:>8.2f}" for n in range(1, 5))
                     + f"{r['cider_d']:>9.3f}{r['exact_match']:>8.4f}{r['ms_per_image']:>8.2f}")
    return "\n".join(lines)


def analyze_errors(captioner, images, references, outputs, strategy):
    """Blame each caption that matches none of its references on the search (the model scores some reference
    above the output, under the search's length-normalized objective) or on the model."""
    out_lp, out_len = captioner.log_prob(images, outputs)
    out_score = strategy.normalize(out_lp, out_len).numpy()
    best_ref, best_score = [r[0] for r in references], np.full(len(images), -np.inf)
    for k in range(max(map(len, references))):  # the model's favourite reference of each image
        has = np.array([k < len(r) for r in references])
        texts = [r[k] if k < len(r) else r[0] for r in references]
        lp, length = captioner.log_prob(images, texts)
        score = np.where(has, strategy.normalize(lp, length).numpy(), -np.inf)
        better = score > best_score
        best_score = np.where(better, score, best_score)
        best_ref = [t if b else old for t, b, old in zip(texts, better, best_ref)]
    hyps, refs = captioner.words(outputs), [captioner.words(r) for r in references]
    correct = [h in r for h, r in zip(hyps, refs)]
    result = decoding.classify_errors(list(best_score), list(out_score), correct)
    records = [{"output": o, "output_score": float(s), "reference": r, "reference_score": float(rs), "verdict": v}
               for o, s, r, rs, v in zip(outputs, out_score, best_ref, best_score, result.pop("labels"))]
    return {**result, "records": records}
