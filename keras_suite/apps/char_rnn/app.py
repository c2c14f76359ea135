"""Character-level language model: train on a corpus, generate text, export a generator and a step model."""

import dataclasses
import logging
import sys

import keras
import numpy as np
import tensorflow as tf

from keras_suite import decoding
from keras_suite import export as exporting
from keras_suite.apps.base import App, Headline, report_value
from keras_suite.apps.char_rnn.config import SPEC
from keras_suite.console import progress_verbosity
from keras_suite.data.corpora import load_corpus
from keras_suite.data.vocabulary import OOV_ID, CharVocabulary
from keras_suite.data.windows import split_ids, window_dataset
from keras_suite.decoding import Sampling, continue_text
from keras_suite.errors import UserError
from keras_suite.files import write_json, write_text
from keras_suite.metrics import BitsPerCharacter, Perplexity
from keras_suite.models.char_rnn import build_char_rnn, build_step_model, stacked_step
from keras_suite.training.trainer import fit

log = logging.getLogger("keras_suite")
CHUNK = 2000  # characters generated per call; longer texts show their progress between calls
SAMPLES = "samples"  # the run's folder of generated text, one file per epoch


def build(cfg, vocab_size):
    model = build_char_rnn(vocab_size, **dataclasses.asdict(cfg.model))
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    return model, loss, [Perplexity(), BitsPerCharacter()]


def generator_step(step_model):
    """`stacked_step` whose logits never pick the out-of-vocabulary id."""
    next_fn, zeros = stacked_step(step_model)

    def no_oov(tokens, states):
        logits, states = next_fn(tokens, states)
        banned = tf.one_hot(OOV_ID, tf.shape(logits)[-1], on_value=-1e9, off_value=0.0, dtype=logits.dtype)
        return logits + banned, states

    return no_oov, zeros


def generate_text(step_model, vocab, prime, length, strategy, seed=0, chunk=CHUNK, progress=None):
    """Continue `prime` by `length` characters with the one-step model, `chunk` characters at a time (the RNN
    state and the random draws go on across chunks: the text does not depend on `chunk`); `progress(n)` is
    called after each chunk with the characters made so far."""
    next_fn, state = generator_step(step_model)
    tokens = vocab.encode(prime)[None]
    pieces = []
    for done in range(0, length, chunk):
        tokens, _, state = continue_text(next_fn, tokens, state, min(chunk, length - done), strategy, seed=(seed, 0),
                                         first_step=done, return_state=True)
        pieces.append(vocab.decode(tokens.numpy()[0]))
        tokens = tokens[:, -1:]
        if progress is not None:
            progress(min(done + chunk, length))
    return prime + "".join(pieces)


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

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every:
            return
        step = build_step_model(self.model)
        parts = []
        for temperature in self.g.preview_temperatures:
            strategy = decoding.from_config(self.g, temperature=temperature)
            text = generate_text(step, self.vocab, self.g.prime, self.g.preview_length, strategy, self.g.seed)
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
        strategy = decoding.from_config(g)
        model, vocab = self.load_run(args["run"])
        unknown = vocab.unknown(g.prime)
        if unknown:
            log.warning("prime has characters outside the vocabulary (read as OOV): %s", "".join(unknown))
        show = sys.stderr.isatty() and g.length > CHUNK  # the text goes to stdout; progress to the terminal

        def progress(done):
            print(f"\rgenerated {done:,} of {g.length:,} characters", end="\n" if done == g.length else "",
                  file=sys.stderr, flush=True)

        text = generate_text(build_step_model(model), vocab, g.prime, g.length, strategy, g.seed,
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
        step = build_step_model(model)
        next_fn, zeros = stacked_step(step)
        token_spec = tf.TensorSpec([1], tf.int32)
        state_spec = tf.TensorSpec(zeros.shape, tf.float32)
        samples = _rollout(next_fn, zeros, vocab.encode(cfg.generate.prime), ecfg.parity_samples)
        lookup, inverse = vocab.lookup_layer(), vocab.inverse_layer()
        lookup(tf.constant([""])), inverse(tf.constant([0]))  # build the tables before tracking them
        generator_fn, _ = generator_step(step)
        seed = cfg.generate.seed

        @tf.function(input_signature=[tf.TensorSpec([], tf.string, name="prime"),
                                      tf.TensorSpec([], tf.int32, name="length"),
                                      tf.TensorSpec([], tf.float32, name="temperature")])
        def generate(prime, length, temperature):
            ids = tf.cast(lookup(tf.strings.unicode_split(prime, "UTF-8")), tf.int32)
            tokens, _ = continue_text(generator_fn, ids[None], zeros, length, Sampling(temperature), seed=(seed, 0))
            return {"text": prime + tf.strings.reduce_join(inverse(tokens[0]))}

        def serve(x, dynamic):
            logits, states = next_fn(x["token"], x["states"])
            return {"logits": logits, "states": states}

        serving = exporting.Serving(
            model=step, fn=serve, dynamic_spec={"token": token_spec, "states": state_spec},
            fixed_spec={"token": token_spec, "states": state_spec}, samples=samples, calibration=samples,
            endpoints={"generate": generate}, track=[lookup, inverse])
        metadata = {
            "task": "character-level language model",
            "vocabulary": {"oov_id": OOV_ID, "chars": list(vocab.chars)},
            "step_model": {"inputs": {"token": "int32 (1,)", "states": f"float32 {list(zeros.shape)}"},
                           "outputs": {"logits": f"float32 (1, {vocab.size})", "states": "as the input"},
                           "state_layout": "per RNN layer: LSTM (h, c), GRU/SimpleRNN (h)"},
            "saved_model_signatures": {"serve": "one step", "generate": "prime: string, length: int32, "
                                       "temperature: float32 (0 = greedy) -> text: string"}}
        return serving, metadata


def _rollout(next_fn, states, prime_ids, steps):
    """Batch-1 step inputs along a greedy Keras rollout from the prime: the parity samples."""
    samples, token = [], tf.constant(prime_ids[:1], tf.int32)
    feed = list(prime_ids[1:])
    for _ in range(steps):
        samples.append({"token": token.numpy(), "states": np.asarray(states)})
        logits, states = next_fn(token, states)
        token = tf.constant([feed.pop(0)], tf.int32) if feed else tf.argmax(logits, -1, output_type=tf.int32)
    return samples
