"""Word embeddings: skip-gram, CBOW or GloVe trained on a corpus; analogies, nearest neighbours, TensorBoard's
projector, and a lookup (word id -> unit vector) exported for phones."""

import keras
import numpy as np
import tensorflow as tf

from keras_suite import export as exporting
from keras_suite.apps.base import App, Headline, report_value
from keras_suite.apps.embeddings.config import SPEC
from keras_suite.data.cooccurrence import cached_cooccurrence, cooccurrence, glove_dataset
from keras_suite.data.corpora import load_corpus
from keras_suite.data.relations import RELATIONS, analogy_questions, relation_sentences
from keras_suite.data.skipgrams import UNKNOWN, SkipGramStream, WordCounts, words_of
from keras_suite.errors import UserError
from keras_suite.export import litert_metadata as litert
from keras_suite.files import read_json, write_json
from keras_suite.metrics.analogy import analogy_accuracy, candidate_scores, nearest, unit_rows
from keras_suite.models.word2vec import build_glove, build_word2vec, word_vectors
from keras_suite.training.trainer import fit
from keras_suite.visuals.images import write_png
from keras_suite.visuals.plots import neighbours_figure, word_map_figure
from keras_suite.visuals.projector import write_projector

TARGET = 0.9  # analogy accuracy (3CosAdd) on the generated corpus
VOCABULARY = "vocabulary.json"
MAX_VALIDATION_STEPS = 50


def corpus(cfg):
    """(sentences as lists of words, analogy questions): the generated corpus has questions, other text none."""
    d = cfg.data
    texts = relation_sentences(d.sentences, d.seed) if d.corpus == "relations" else load_corpus(d.corpus).splitlines()
    sentences = [words for words in map(words_of, texts) if words]
    if len(sentences) < 2:
        raise UserError(f"corpus '{d.corpus}' has {len(sentences)} line(s) with words; give more text")
    return sentences, questions_of(cfg)


def questions_of(cfg):
    """The analogy questions of the run's corpus (the generated one has them, other text none)."""
    return analogy_questions() if cfg.data.corpus == "relations" else []


def held_out(sentences, fraction):
    """(train, val): the last `fraction` of the sentences (at least one) held out."""
    n = max(1, int(round(len(sentences) * fraction)))
    return sentences[:-n], sentences[-n:]


def build(cfg, vocab_size):
    m = cfg.model
    if m.kind == "glove":
        return build_glove(vocab_size, m.dim), keras.losses.MeanSquaredError(), []
    model = build_word2vec(vocab_size, m.dim, m.kind == "cbow", m.window, m.negatives)
    return model, keras.losses.BinaryCrossentropy(from_logits=True), []


def datasets(cfg, counts, train_ids, val_ids, run):
    """(train_ds, val_ds, steps per epoch) for the configured model."""
    m, tc = cfg.model, cfg.train
    if m.kind == "glove":
        rows, cols, x = cached_cooccurrence(run.file("cooccurrence.npz"), train_ids, counts.size, m.window)
        if len(x) < tc.batch_size:
            raise UserError(f"the corpus has {len(x)} co-occurring word pairs, fewer than train.batch_size "
                            f"({tc.batch_size}); lower it or give more text")
        val = cooccurrence(val_ids, counts.size, m.window)
        if not len(val[2]):
            raise UserError("the held-out sentences hold no two vocabulary words within model.window of each other; "
                            "raise data.val_fraction or give more text")
        train_ds = glove_dataset(rows, cols, x, tc.batch_size, m.x_max, m.alpha, seed=tc.seed)
        val_ds = glove_dataset(*val, tc.batch_size, m.x_max, m.alpha, training=False)
        return train_ds, val_ds.take(tc.validation_steps or MAX_VALIDATION_STEPS), int(train_ds.cardinality())

    def stream(ids, seed):
        return SkipGramStream(ids, counts.counts, m.window, m.negatives, m.subsample, tc.batch_size,
                              m.kind == "cbow", seed)

    train, val = stream(train_ids, tc.seed), stream(val_ids, tc.seed + 1)
    steps, val_steps = train.batches_per_pass(), val.batches_per_pass()
    if not steps or not val_steps:
        part = "training" if not steps else "held-out"
        raise UserError(f"too little text for one batch of {tc.batch_size} word pairs in the {part} part; lower "
                        f"train.batch_size or give more text")
    val_steps = min(val_steps, tc.validation_steps or MAX_VALIDATION_STEPS)
    validation = val.dataset().take(val_steps).apply(tf.data.experimental.assert_cardinality(val_steps))
    return train.dataset(), validation, steps


PICTURED = (4, 8)  # the word picture's neighbour bars: this many query words, this many neighbours each


def neighbours_of(vectors, words, query_words, k):
    """{query word: its k nearest words with their cosines}, for the query words the vocabulary has."""
    return {w: nearest(vectors, words, w, k) for w in query_words if w in words}


def word_picture(vectors, words, questions, found):
    """The generated corpus: each relation's pairs as arrows on two principal axes; other text: the nearest
    neighbours `found` of the first query words (of the first vocabulary words when none is known) as bars."""
    if questions:
        known = set(words)
        return word_map_figure(vectors, words, [
            (f"{name}: {rel.arrow}", [(a, b) for a, b, _ in rel.pairs if a in known and b in known])
            for name, rel in sorted(RELATIONS.items())])
    count, k = PICTURED
    shown = list(found.items())[:count] or neighbours_of(vectors, words, words[1:count + 1], k).items()
    return neighbours_figure([(w, near[:k]) for w, near in shown])


class AnalogyMonitor(keras.callbacks.Callback):
    """After each epoch: analogy accuracy (3CosAdd as val_analogy, 3CosMul as val_analogy_mul) when the corpus has
    questions, the query words' nearest neighbours in TensorBoard's Text tab, and the word map (PNG preview and
    TensorBoard image)."""

    def __init__(self, words, questions, query_words, run, every=1):
        super().__init__()
        self.words, self.questions, self.query_words, self.run = words, questions, query_words, run
        self.every = max(1, every)
        self.writer = tf.summary.create_file_writer(str(run.log_dir("words")))

    def on_epoch_end(self, epoch, logs=None):
        vectors = word_vectors(self.model)
        if self.questions:
            logs["val_analogy"] = analogy_accuracy(vectors, self.words, self.questions, "add")["all"]
            logs["val_analogy_mul"] = analogy_accuracy(vectors, self.words, self.questions, "mul")["all"]
        if (epoch + 1) % self.every:
            return
        found = neighbours_of(vectors, self.words, self.query_words, PICTURED[1])
        table = neighbour_table(found)
        picture = word_picture(vectors, self.words, self.questions, found)
        write_png(self.run.preview(f"words_epoch{epoch + 1:03d}.png"), picture)
        with self.writer.as_default():
            if table:
                tf.summary.text("nearest_neighbours", table, step=epoch + 1)
            tf.summary.image("word_map", picture[None], step=epoch + 1)
        self.writer.flush()


def neighbour_table(found):
    """A Markdown table of `neighbours_of`: each query word and its nearest words with their cosines."""
    rows = [f"| {w} | " + ", ".join(f"{n} ({s:.2f})" for n, s in near) + " |" for w, near in found.items()]
    return "\n".join(["| word | nearest (cosine) |", "|---|---|", *rows]) if rows else ""


class EmbeddingsApp(App):
    spec = SPEC

    def train(self, cfg, args):
        sentences, questions = corpus(cfg)
        train_sentences, val_sentences = held_out(sentences, cfg.data.val_fraction)
        counts = WordCounts.from_sentences(train_sentences, cfg.data.min_count, cfg.data.max_words)
        run = self.train_dir(cfg, args)
        write_json(run.file(VOCABULARY), {"words": list(counts.words), "counts": counts.counts.tolist()})
        train_ids, val_ids = counts.encode(train_sentences), counts.encode(val_sentences)
        train_ds, val_ds, steps = datasets(cfg, counts, train_ids, val_ids, run)
        cfg.train.steps_per_epoch = cfg.train.steps_per_epoch or steps
        m = cfg.model
        print(f"run directory: {run}\n{len(train_sentences):,} sentences, {sum(map(len, train_ids)):,} words in "
              f"the vocabulary of {counts.size - 1:,} (min_count {cfg.data.min_count}); {m.kind}, {m.dim} "
              f"dimensions, window {m.window}; {cfg.train.steps_per_epoch:,} steps an epoch"
              + (f"; {len(questions):,} analogy questions" if questions else ""))
        monitor = AnalogyMonitor(counts.words, questions, cfg.query.words, run, cfg.train.preview_every)
        model = fit(cfg, run, lambda: build(cfg, counts.size), train_ds, val_ds, [monitor])
        write_projector(run.log_dir("projector"), word_vectors(model), counts.words)
        print(f"done: model {run.model}, word maps {run.previews}; tensorboard --logdir {run.path.parent} "
              f"(the projector shows the vectors)")
        return run

    def vocabulary(self, run):
        path = run.file(VOCABULARY)
        if not path.is_file():
            raise UserError(f"run {run} has no {VOCABULARY}; it was not trained by the embeddings app")
        return tuple(read_json(path)["words"])

    def vectors(self, run):
        """(words, vectors) of a trained run."""
        return self.vocabulary(run), word_vectors(self.trained_model(run))

    def evaluate(self, cfg, args):
        split = self.eval_split(args)
        words, vectors = self.vectors(args["run"])
        questions = questions_of(cfg)
        scores = {}
        if questions:
            for method in ("add", "mul"):
                scores[f"analogy_{method}"] = analogy_accuracy(vectors, words, questions, method)
            names = sorted(RELATIONS)
            print("| relation | questions | 3CosAdd | 3CosMul |\n|---|---|---|---|")
            for name in [*names, "all"]:
                n = sum(q[0] == name for q in questions) if name != "all" else scores["analogy_add"]["questions"]
                print(f"| {name} | {n} | {scores['analogy_add'][name]:.4f} | {scores['analogy_mul'][name]:.4f} |")
        scores["neighbors"] = neighbours_of(vectors, words, cfg.query.words, cfg.query.k)
        table = neighbour_table(scores["neighbors"])
        if table:
            print(table)
        out = write_json(args["run"].report("eval", split), scores)
        picture = write_png(args["run"].preview(f"eval_{split}.png"),
                            word_picture(vectors, words, questions, scores["neighbors"]))
        print(f"wrote {out} and {picture}")
        return scores

    def _known(self, words, *queries):
        missing = [q for q in queries if q not in words]
        if missing:
            raise UserError(f"not in the vocabulary: {', '.join(missing)} (words seen fewer than data.min_count "
                            f"times are left out)")

    def neighbors(self, cfg, args):
        words, vectors = self.vectors(args["run"])
        word = args["word"].lower()
        self._known(words, word)
        found = nearest(vectors, words, word, cfg.query.k)
        for neighbour, similarity in found:
            print(f"{neighbour}\t{similarity:.4f}")
        return found

    def analogy(self, cfg, args):
        words, vectors = self.vectors(args["run"])
        a, b, c = (args[k].lower() for k in ("a", "b", "c"))
        self._known(words, a, b, c)
        index = {w: i for i, w in enumerate(words)}
        unit = unit_rows(vectors)
        scores = candidate_scores(unit, [index[a]], [index[b]], [index[c]], cfg.query.method, skip=[0])[0]
        offset = unit[index[b]] - unit[index[a]] + unit[index[c]]
        best = np.argsort(-scores, kind="stable")[:min(cfg.query.k, len(words) - 4)]  # ties: the lower id first
        found = [(words[d], float(unit[d] @ offset / np.linalg.norm(offset))) for d in best]
        print(f"{a} : {b} :: {c} : ?  ({'3CosAdd' if cfg.query.method == 'add' else '3CosMul'}; the cosine of each "
              f"answer to {b} - {a} + {c})")
        for word, score in found:
            print(f"{word}\t{score:.4f}")
        return found

    def examples(self, cfg, run, folder):
        words = self.vocabulary(run)
        shown = next((w for w in cfg.query.words if w in words), words[1])
        return [("evaluate", {}), ("neighbors", {"word": shown, "k": 5}),
                ("analogy", {"a": "man", "b": "king", "c": "woman"} if {"man", "king", "woman"} <= set(words)
                 else {"a": words[1], "b": words[2], "c": words[3]})]

    def headline(self, run):
        return Headline("analogy accuracy (3CosAdd)", report_value(run, "eval", "test", "analogy_add", "all"), TARGET)

    def serving(self, cfg, run):
        words, vectors = self.vectors(run)
        unit = unit_rows(vectors).astype(np.float32)
        ids = keras.Input((), dtype="int32", name="ids")
        table = keras.layers.Embedding(len(words), unit.shape[1], name="unit_vectors", trainable=False)
        model = keras.Model(ids, table(ids), name="word_lookup")
        table.set_weights([unit])
        lookup = keras.layers.StringLookup(vocabulary=list(words[1:]), num_oov_indices=1, oov_token=UNKNOWN)
        lookup.build((None,))
        ecfg = cfg.export

        def serve(x, dynamic):
            return {"vector": model(x["ids"])}

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
        def vectors_of(words_in):
            ids_of = tf.cast(lookup(tf.strings.lower(words_in)), tf.int32)
            return {"ids": ids_of, "vector": model(ids_of)}

        spec = {"ids": tf.TensorSpec([1], tf.int32)}
        rng = np.random.default_rng(0)
        samples = [{"ids": np.array([i], np.int32)} for i in rng.permutation(len(words))[:ecfg.parity_samples]]
        description = litert.Description(
            name="keras-suite embeddings", description=f"word id -> unit-length {unit.shape[1]}-dimensional vector "
            f"({cfg.model.kind}); ids are the lines of vocab.txt (0: unknown); cosine = dot product",
            inputs={"ids": {**litert.feature("int32 [1]: a word's id (its line in vocab.txt)"),
                            "associated_files": [{"name": "vocab.txt", "type": "VOCABULARY"}]}},
            outputs={"vector": litert.feature(f"float32 [1, {unit.shape[1]}] unit-length vector", stats=(-1, 1))},
            files={"vocab.txt": (litert.vocabulary_file(words), {"description": "the word of each id, one per line "
                                                                                "(id 0: unknown)"})})

        serving = exporting.Serving(
            model=model, fn=serve, dynamic_spec={"ids": tf.TensorSpec([None], tf.int32)}, fixed_spec=spec,
            samples=samples, calibration=samples, endpoints={"vectors": vectors_of}, track=[lookup],
            scores=exporting.min_cosine("vector"), min_scores={"min_cosine": ecfg.min_cosine}, litert=description,
            task=_task(cfg, words, ecfg.task_samples), files=_projector_files(words, unit))
        metadata = {"task": "word embeddings", "model": cfg.model.kind, "dimensions": int(unit.shape[1]),
                    "vocabulary": {"unknown_id": 0, "size": len(words), "file": "vocab.txt in the .tflite file"},
                    "tokenization": "lowercase; words are runs of letters and digits with inner apostrophes",
                    "saved_model_signatures": {"serve": "ids: int32 (N,) -> vector: float32 (N, dim)",
                                               "vectors": "words: string (N,) -> ids, vector (unknown words: id 0)"}}
        return serving, metadata


def _projector_files(words, unit):
    """The export's vectors.tsv and metadata.tsv (Serving.files), for projector.tensorflow.org."""
    return {"vectors.tsv": ("".join("\t".join(f"{v:.6g}" for v in row) + "\n" for row in unit),
                            "the unit vectors, a row per id; load it with metadata.tsv at projector.tensorflow.org"),
            "metadata.tsv": ("".join(f"{w}\n" for w in words), "the word of each row of vectors.tsv")}


def _task(cfg, words, count):
    """Analogy accuracy (3CosAdd) from the vectors each format returns for every word (the generated corpus only;
    None when the vocabulary has more than `count` words or the corpus has no questions)."""
    questions = questions_of(cfg)
    if not questions or not count or len(words) > count:
        return None
    samples = [{"ids": np.array([i], np.int32)} for i in range(len(words))]
    return exporting.TaskCheck(samples, lambda out: {
        "analogy": analogy_accuracy(np.asarray(out["vector"]), words, questions, "add")["all"]})
