"""Character-level language model (LSTM/GRU or causal transformer): train on a corpus, generate text, export a
generator and a step model."""

import logging
import sys
from typing import NamedTuple

import keras
import numpy as np
import tensorflow as tf

from keras_suite import decoding
from keras_suite import export as exporting
from keras_suite.apps.base import App, Headline, report_value
from keras_suite.apps.char_rnn.config import SPEC
from keras_suite.console import progress_verbosity
from keras_suite.data.corpora import load_corpus
from keras_suite.data.vocabulary import OOV, OOV_ID, CharVocabulary
from keras_suite.data.windows import split_ids, window_dataset
from keras_suite.decoding import Sampling, continue_text, host_beam
from keras_suite.errors import UserError
from keras_suite.export import litert_metadata as litert
from keras_suite.files import write_json, write_text
from keras_suite.metrics import BitsPerCharacter, Perplexity
from keras_suite.models.char_rnn import build_char_rnn, build_step_model, stacked_step
from keras_suite.models.char_transformer import IncrementalCharTransformer, build_char_transformer, is_transformer
from keras_suite.training.trainer import fit

log = logging.getLogger("keras_suite")
CHUNK = 2000  # characters generated per call; longer texts show their progress between calls
SAMPLES = "samples"  # the run's folder of generated text, one file per epoch


def build(cfg, vocab_size):
    m = cfg.model
    if m.cell == "transformer":
        model = build_char_transformer(vocab_size, cfg.data.seq_length, m.units, m.layers, m.heads, m.dropout)
    else:
        model = build_char_rnn(vocab_size, m.embedding_dim, m.units, m.layers, m.cell, m.dropout)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    return model, loss, [Perplexity(), BitsPerCharacter()]


def decoder(model):
    """(next_fn(tokens, state) -> (logits, state), initial state) that continue text with `model` one token at a
    time (RNN states, or the transformer's key/value cache); the logits never pick the out-of-vocabulary id."""
    if is_transformer(model):
        incremental = IncrementalCharTransformer(model)
        next_fn, state = incremental.next_fn, incremental.initial_state()
    else:
        next_fn, state = stacked_step(build_step_model(model))

    def no_oov(tokens, state):
        logits, state = next_fn(tokens, state)
        banned = tf.one_hot(OOV_ID, tf.shape(logits)[-1], on_value=-1e9, off_value=0.0, dtype=logits.dtype)
        return logits + banned, state

    return no_oov, state


class TextGenerator:
    """Continues text with a trained model, compiled once and reused for every prime, length, temperature, top-k,
    top-p and seed (the previews after each epoch and `generate` trace it once)."""

    def __init__(self, model, vocab):
        self.vocab = vocab
        next_fn, self.initial_state = decoder(model)

        @tf.function(reduce_retracing=True)
        def run(tokens, state, count, first, temperature, top_k, top_p, seed):
            return continue_text(next_fn, tokens, state, count, Sampling(temperature, top_k, top_p), seed=seed,
                                 first_step=first, return_state=True)

        self.run = run

    def __call__(self, prime, length, temperature=1.0, top_k=0, top_p=1.0, seed=0, chunk=CHUNK, progress=None):
        """`prime` and `length` characters after it (temperature 0: greedy), `chunk` characters per call (the state
        and the random draws go on across chunks: the text does not depend on `chunk`); `progress(n)` is called
        after each chunk with the characters made so far."""
        tokens, state = self.vocab.encode(prime)[None], self.initial_state
        settings = (tf.constant(float(temperature)), tf.constant(int(top_k)), tf.constant(float(top_p)),
                    tf.constant([seed, 0], tf.int64))
        pieces = []
        for done in range(0, length, chunk):
            tokens, _, state = self.run(tokens, state, tf.constant(min(chunk, length - done)), tf.constant(done),
                                        *settings)
            pieces.append(self.vocab.decode(tokens.numpy()[0]))
            tokens = tokens[:, -1:]
            if progress is not None:
                progress(min(done + chunk, length))
        return prime + "".join(pieces)


class StepExport(NamedTuple):
    """What export ships of a model's one-step form: the Keras model holding its weights, the serving function,
    the input spec (batch 1), parity samples, the layout a phone app needs (metadata) and `steps(call)`, which
    feeds characters through a `call(**inputs) -> outputs` of that layout one at a time."""

    model: keras.Model
    serve: callable
    spec: dict
    samples: list
    layout: dict
    steps: callable


class TextSamples(keras.callbacks.Callback):
    """Every `every` epochs: sample text at several temperatures into TensorBoard (text plugin) and
    samples/*.txt."""

    def __init__(self, vocab, gcfg, run, every=1):
        super().__init__()
        self.vocab = vocab
        self.g = gcfg
        self.every = max(1, every)
        self.out = run.file(SAMPLES)
        self.writer = tf.summary.create_file_writer(str(run.log_dir(SAMPLES)))
        self.generator = None

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every:
            return
        if self.generator is None:
            self.generator = TextGenerator(self.model, self.vocab)
        g, parts = self.g, []
        for temperature in g.preview_temperatures:
            text = self.generator(g.prime, g.preview_length, temperature, g.top_k, g.top_p, g.seed)
            parts.append(f"## temperature {temperature}\n\n{text}")
            with self.writer.as_default():
                tf.summary.text(f"temperature_{temperature}", "    " + text.replace("\n", "\n    "), step=epoch + 1)
        self.writer.flush()
        write_text(self.out / f"epoch{epoch + 1:03d}.txt", "\n\n".join(parts) + "\n")


def _windows(cfg, vocab, text):
    ids = vocab.encode(text)
    train_ids, val_ids = split_ids(ids, cfg.data.val_fraction)
    if len(val_ids) <= cfg.data.seq_length:
        raise UserError(f"corpus '{cfg.data.corpus}' has {len(ids)} characters: too short for a validation "
                        f"window of {cfg.data.seq_length} (lower data.seq_length or give more text)")
    return train_ids, val_ids


class CharRNNApp(App):
    spec = SPEC

    def train(self, cfg, args):
        text = load_corpus(cfg.data.corpus)
        run = self.train_dir(cfg, args)
        vocab = (CharVocabulary.from_json(run.vocab.read_text()) if run.vocab.exists()
                 else CharVocabulary.from_text(text))
        train_ids, val_ids = _windows(cfg, vocab, text)
        write_text(run.vocab, vocab.to_json())
        print(f"run directory: {run}\ncorpus: {len(text):,} characters, vocabulary {vocab.size} "
              f"(with OOV), {len(train_ids):,} train / {len(val_ids):,} validation")
        tc = cfg.train
        train_ds = window_dataset(train_ids, cfg.data.seq_length, tc.batch_size, training=True, seed=tc.seed)
        val_ds = window_dataset(val_ids, cfg.data.seq_length, tc.batch_size)
        samples = TextSamples(vocab, cfg.generate, run, tc.preview_every)
        fit(cfg, run, lambda: build(cfg, vocab.size), train_ds, val_ds, [samples])
        print(f"done: model {run.model}, samples {run.file(SAMPLES)}; tensorboard --logdir {run.path.parent}")
        return run

    def load_run(self, run):
        return self.trained_model(run), CharVocabulary.from_json(run.vocab.read_text())

    def evaluate(self, cfg, args):
        run = args["run"]
        model, vocab = self.load_run(run)
        context = IncrementalCharTransformer(model).context if is_transformer(model) else None
        if context and cfg.data.seq_length > context:
            raise UserError(f"data.seq_length ({cfg.data.seq_length}) is longer than the transformer's context "
                            f"({context}); evaluate with windows it was trained on")
        _, val_ids = _windows(cfg, vocab, load_corpus(cfg.data.corpus))
        model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                      metrics=[Perplexity(), BitsPerCharacter()])
        scores = model.evaluate(window_dataset(val_ids, cfg.data.seq_length, cfg.train.batch_size),
                                return_dict=True, verbose=progress_verbosity(cfg.train.verbose))
        scores = {"split": "validation (end of corpus)", "loss_nats_per_char": scores["loss"], **scores}
        print(f"validation: {scores['loss']:.4f} nats/char, perplexity {scores['perplexity']:.3f}, "
              f"{scores['bits_per_char']:.4f} bits/char")
        write_json(run.report("eval", "validation"), scores)
        return scores

    def generate(self, cfg, args):
        g = cfg.generate
        if not g.prime:
            raise UserError("prime must not be empty")
        decoding.from_config(g)  # checks the settings
        model, vocab = self.load_run(args["run"])
        unknown = vocab.unknown(g.prime)
        if unknown:
            log.warning("prime has characters outside the vocabulary (read as OOV): %s", "".join(unknown))
        show = sys.stderr.isatty() and g.length > CHUNK  # the text goes to stdout; progress to the terminal

        def progress(done):
            print(f"\rgenerated {done:,} of {g.length:,} characters", end="\n" if done == g.length else "",
                  file=sys.stderr, flush=True)

        text = TextGenerator(model, vocab)(g.prime, g.length, g.temperature, g.top_k, g.top_p, g.seed,
                                           progress=progress if show else None)
        print(text)
        return text

    def examples(self, cfg, run, folder):
        """Evaluate, then continue the configured prime."""
        return [("evaluate", {}), ("generate", {"length": 80})]

    def headline(self, run):
        """nats/char on the held-out end of the corpus; 1.57 is what nanoGPT's small CPU model reaches here."""
        return Headline("val nats/char", report_value(run, "eval", "validation", "loss_nats_per_char"), 1.57,
                        higher_is_better=False)

    def serving(self, cfg, run):
        model, vocab = self.load_run(run)
        ecfg = cfg.export
        if "tflite_int8" in ecfg.formats and not is_transformer(model):  # measured on TF 2.21
            raise UserError("tflite_int8 is not available for recurrent char_rnn models: int8 calibration of the "
                            "RNN step crashes the TFLite converter (TF 2.21); use tflite or tflite_fp16")
        prime = vocab.encode(cfg.generate.prime)
        step = (_transformer_step if is_transformer(model) else _rnn_step)(model, prime, ecfg.parity_samples)
        lookup, inverse = vocab.lookup_layer(), vocab.inverse_layer()
        lookup(tf.constant([""])), inverse(tf.constant([0]))  # build the tables before tracking them
        generator_fn, initial_state = decoder(model)
        seed = cfg.generate.seed

        @tf.function(input_signature=[tf.TensorSpec([], tf.string, name="prime"),
                                      tf.TensorSpec([], tf.int32, name="length"),
                                      tf.TensorSpec([], tf.float32, name="temperature")])
        def generate(prime, length, temperature):
            ids = tf.cast(lookup(tf.strings.unicode_split(prime, "UTF-8")), tf.int32)
            tokens, _ = continue_text(generator_fn, ids[None], initial_state, length, Sampling(temperature),
                                      seed=(seed, 0))
            return {"text": prime + tf.strings.reduce_join(inverse(tokens[0]))}

        task = None
        if ecfg.task_samples:  # nats/char of the held-out end of the corpus, one character after the other
            _, val_ids = _windows(cfg, vocab, load_corpus(cfg.data.corpus))
            task = _nats_per_char(step.steps, val_ids[:ecfg.task_samples + 1])
        serving = exporting.Serving(
            model=step.model, fn=step.serve, dynamic_spec=step.spec, fixed_spec=step.spec, samples=step.samples,
            calibration=step.samples, endpoints={"generate": generate}, track=[lookup, inverse],
            litert=_litert(step.layout, vocab), task=task)
        metadata = {
            "task": "character-level language model",
            "vocabulary": {"oov_id": OOV_ID, "chars": list(vocab.chars)},
            "step_model": step.layout,
            "saved_model_signatures": {"serve": "one step", "generate": "prime: string, length: int32, "
                                       "temperature: float32 (0 = greedy) -> text: string"}}
        return serving, metadata


def _litert(layout, vocab):
    """The metadata inside the .tflite step file: every tensor of the layout, the vocabulary on the token and the
    logits, and how to drive the steps in the description."""
    labelled = {"token": {"name": "vocab.txt", "type": "VOCABULARY"},
                "logits": {"name": "vocab.txt", "type": "TENSOR_AXIS_LABELS"}}
    rules = "; ".join(f"{k}: {v}" for k, v in layout.items() if k not in ("inputs", "outputs"))
    return litert.Description(
        name="keras-suite char_rnn", description=f"character language model, one step per character; {rules}",
        inputs={n: {**litert.feature(d), **({"associated_files": [labelled[n]]} if n in labelled else {})}
                for n, d in layout["inputs"].items()},
        outputs={n: {**litert.feature(d), **({"associated_files": [labelled[n]]} if n in labelled else {})}
                 for n, d in layout["outputs"].items()},
        files={"vocab.txt": (litert.vocabulary_file([OOV, *vocab.chars]),
                             {"description": "the character of each id, one per line (id 0: unknown); newline, "
                                             "tab and backslash escaped as \\n, \\t, \\\\"})})


class _StateSteps:
    """Feeds characters one at a time through a step `call(**inputs) -> outputs` of the RNN's layout, carrying its
    states: `steps(token)` -> the next character's logits."""

    def __init__(self, call, zeros):
        self.call, self.states = call, zeros

    def __call__(self, token):
        out = self.call(token=np.array([token], np.int32), states=self.states)
        self.states = np.asarray(out["states"])
        return np.asarray(out["logits"])[0]


class _WindowSteps:
    """The same for the transformer's layout, as a phone app drives it: the key/value cache and the index go on
    from call to call, and when the index reaches the context the window slides (the last `keep` characters are
    stepped again from an empty cache)."""

    def __init__(self, call, zeros, context, keep):
        self.call, self.zeros, self.context, self.keep = call, zeros, context, keep
        self.cache, self.index, self.fed = zeros, 0, []

    def _advance(self, token):
        out = self.call(token=np.array([token], np.int32), cache=self.cache, index=np.array([self.index], np.int32))
        self.cache, self.index = np.asarray(out["cache"]), self.index + 1
        return np.asarray(out["logits"])[0]

    def __call__(self, token):
        if self.index == self.context:
            self.cache, self.index = self.zeros, 0
            for kept in self.fed[-self.keep:]:
                self._advance(kept)
        self.fed.append(token)
        return self._advance(token)


def _rollout(steps, serve, prime_ids, count):
    """The first `count` inputs the Keras step `serve` gets in a greedy continuation of the prime, driven by
    `steps(call)`: the parity samples."""
    samples = []

    def record(**inputs):
        samples.append(inputs)
        return serve({k: tf.constant(v) for k, v in inputs.items()}, False)

    step, token, feed = steps(record), prime_ids[0], list(prime_ids[1:])
    while len(samples) < count:
        logits = step(token)
        token = feed.pop(0) if feed else int(np.argmax(logits))
    return samples[:count]


def _nats_per_char(steps, ids):
    """The TaskCheck of a step layout: -log P(next character) over the held-out `ids`, each character fed after
    the one before, for the Keras model and every file."""
    def drive(call):
        step = steps(call)
        log_probs = [host_beam.log_softmax(step(int(token)))[int(target)] for token, target in zip(ids[:-1], ids[1:])]
        return {"log_prob": np.asarray(log_probs, np.float64)}

    return exporting.TaskCheck([], lambda out: {"nats_per_char": float(-np.mean(out["log_prob"]))},
                               lower_is_better=("nats_per_char",), drive=drive, count=len(ids) - 1)


def _rnn_step(model, prime_ids, count):
    """The RNN's StepExport; the parity samples follow a greedy rollout from the prime."""
    step = build_step_model(model)
    next_fn, zeros = stacked_step(step)

    def serve(x, dynamic):
        logits, states = next_fn(x["token"], x["states"])
        return {"logits": logits, "states": states}

    def steps(call):
        return _StateSteps(call, np.asarray(zeros))

    layout = {"inputs": {"token": "int32 (1,)", "states": f"float32 {list(zeros.shape)}"},
              "outputs": {"logits": f"float32 (1, {model.output.shape[-1]})", "states": "as the input"},
              "state_layout": "per RNN layer: LSTM (h, c), GRU/SimpleRNN (h)", "start": "states all zeros"}
    spec = {"token": tf.TensorSpec([1], tf.int32), "states": tf.TensorSpec(zeros.shape, tf.float32)}
    return StepExport(step, serve, spec, _rollout(steps, serve, prime_ids, count), layout, steps)


def _transformer_step(model, prime_ids, count):
    """The transformer's StepExport: one token at `index` against the key/value cache. The parity samples follow a
    greedy rollout and slide the window as a phone app would, stepping the kept tokens again from an empty cache."""
    incremental = IncrementalCharTransformer(model)
    context, keep = incremental.context, incremental.keep
    zeros = np.zeros((1, *incremental.cache_shape), np.float32)

    def serve(x, dynamic):
        logits, cache = incremental.step(x["token"], x["cache"], x["index"][0])
        return {"logits": logits, "cache": cache}

    def steps(call):
        return _WindowSteps(call, zeros, context, keep)

    layout = {"inputs": {"token": "int32 (1,)", "cache": f"float32 {list(zeros.shape)}",
                         "index": f"int32 (1,): the token's position, 0 .. {context - 1}"},
              "outputs": {"logits": f"float32 (1, {model.output.shape[-1]})", "cache": "as the input"},
              "cache_layout": "(batch, layer, key | value, position, head, key_dim)",
              "start": "cache all zeros, index 0; feed each output cache back and add 1 to index",
              "context": context,
              "window": f"when index reaches {context}: set the cache to zeros and feed the last {keep} tokens "
                        f"again at indices 0 .. {keep - 1} (ignore their logits), then go on at index {keep}"}
    spec = {"token": tf.TensorSpec([1], tf.int32), "cache": tf.TensorSpec(zeros.shape, tf.float32),
            "index": tf.TensorSpec([1], tf.int32)}
    return StepExport(model, serve, spec, _rollout(steps, serve, prime_ids, count), layout, steps)
