"""Character-level language model: train on a corpus, generate text, export a generator and a step model."""

import logging
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from keras_suite import export as exporting
from keras_suite.apps.base import APPS, App
from keras_suite.apps.char_rnn.config import CharRNNConfig
from keras_suite.data.corpora import load_corpus
from keras_suite.data.vocabulary import CharVocabulary
from keras_suite.data.windows import split_ids, window_dataset
from keras_suite.decoding import Greedy, Sampling, continue_text
from keras_suite.errors import UserError
from keras_suite.metrics import BitsPerCharacter, Perplexity
from keras_suite.models.char_rnn import CELLS, build_char_rnn, build_step_model, stacked_step
from keras_suite.runs import write_json
from keras_suite.train import fit

log = logging.getLogger("keras_suite")


def build(cfg, vocab_size):
    m = cfg.model
    if m.cell not in CELLS:
        raise UserError(f"model.cell must be one of {', '.join(CELLS)}, got '{m.cell}'")
    model = build_char_rnn(vocab_size, m.embedding_dim, m.units, m.layers, m.cell, m.dropout)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    return model, loss, [Perplexity(), BitsPerCharacter()]


def strategy_for(temperature, top_k, top_p):
    if temperature < 0 or top_k < 0 or not 0 < top_p <= 1:
        raise UserError("need temperature >= 0, top_k >= 0 and 0 < top_p <= 1")
    return Greedy() if temperature == 0 else Sampling(temperature, top_k, top_p)


def generator_step(step_model):
    """`stacked_step` whose logits never pick the out-of-vocabulary id 0."""
    next_fn, zeros = stacked_step(step_model)

    def no_oov(tokens, states):
        logits, states = next_fn(tokens, states)
        banned = tf.one_hot(0, tf.shape(logits)[-1], on_value=-1e9, off_value=0.0, dtype=logits.dtype)
        return logits + banned, states

    return no_oov, zeros


def generate_text(step_model, vocab, prime, length, strategy, seed=0):
    """Continue `prime` by `length` characters with the one-step model."""
    next_fn, zeros = generator_step(step_model)
    ids = vocab.encode(prime)
    tokens, _ = continue_text(next_fn, ids[None], zeros, length, strategy, seed=(seed, 0))
    return prime + vocab.decode(tokens.numpy()[0])


class TextSamples(keras.callbacks.Callback):
    """Each epoch: sample text at several temperatures into TensorBoard (text plugin) and samples/*.txt."""

    def __init__(self, vocab, gcfg, run_dir):
        super().__init__()
        self.vocab = vocab
        self.g = gcfg
        self.out = Path(run_dir) / "samples"
        self.writer = tf.summary.create_file_writer(str(Path(run_dir) / "logs" / "samples"))

    def on_epoch_end(self, epoch, logs=None):
        step = build_step_model(self.model)
        parts = []
        for temperature in self.g.preview_temperatures:
            strategy = strategy_for(temperature, self.g.top_k, self.g.top_p)
            text = generate_text(step, self.vocab, self.g.prime, self.g.preview_length, strategy, self.g.seed)
            parts.append(f"## temperature {temperature}\n\n{text}")
            with self.writer.as_default():
                tf.summary.text(f"temperature_{temperature}", "    " + text.replace("\n", "\n    "), step=epoch + 1)
        self.writer.flush()
        self.out.mkdir(parents=True, exist_ok=True)
        (self.out / f"epoch{epoch + 1:03d}.txt").write_text("\n\n".join(parts) + "\n")


def _windows(cfg, vocab, text):
    ids = vocab.encode(text)
    train_ids, val_ids = split_ids(ids, cfg.data.val_fraction)
    if len(val_ids) <= cfg.data.seq_length:
        raise UserError(f"corpus '{cfg.data.corpus}' has {len(ids)} characters: too short for a validation "
                        f"window of {cfg.data.seq_length} (lower data.seq_length or give more text)")
    return train_ids, val_ids


@APPS.register("char_rnn")
class CharRNNApp(App):
    name = "char_rnn"
    description = "character-level LSTM/GRU language model (perplexity, bits/char; text generation)"
    config_cls = CharRNNConfig
    commands = {"train": {"resume", "corpus"}, "evaluate": {"run"},
                "generate": {"run", "prime", "length", "temperature", "top_k", "top_p", "seed"},
                "export": {"run", "formats", "name", "overwrite"}}
    aliases = {"corpus": "data.corpus", "prime": "generate.prime", "length": "generate.length",
               "temperature": "generate.temperature", "top_k": "generate.top_k", "top_p": "generate.top_p",
               "seed": "generate.seed", "formats": "export.formats", "name": "export.name",
               "overwrite": "export.overwrite"}

    def train(self, cfg, args):
        if cfg.data.seq_length < 1:
            raise UserError(f"data.seq_length must be positive, got {cfg.data.seq_length}")
        text = load_corpus(cfg.data.corpus)
        run = self.train_dir(cfg, args)
        vocab_file = Path(run) / "vocab.json"
        vocab = CharVocabulary.from_json(vocab_file.read_text()) if vocab_file.exists() else CharVocabulary.from_text(text)
        train_ids, val_ids = _windows(cfg, vocab, text)
        vocab_file.write_text(vocab.to_json())
        print(f"run directory: {run}\ncorpus: {len(text):,} characters, vocabulary {vocab.size} "
              f"(with OOV), {len(train_ids):,} train / {len(val_ids):,} validation")
        tc = cfg.train
        train_ds = window_dataset(train_ids, cfg.data.seq_length, tc.batch_size, training=True, seed=tc.seed)
        val_ds = window_dataset(val_ids, cfg.data.seq_length, tc.batch_size)
        fit(cfg, run, lambda: build(cfg, vocab.size), train_ds, val_ds, [TextSamples(vocab, cfg.generate, run)])
        print(f"done: model {Path(run) / 'model.keras'}, samples {Path(run) / 'samples'}; "
              f"tensorboard --logdir {Path(run).parent}")
        return run

    def load_run(self, run):
        return self.trained_model(run), CharVocabulary.from_json((Path(run) / "vocab.json").read_text())

    def evaluate(self, cfg, args):
        run = args["run"]
        model, vocab = self.load_run(run)
        _, val_ids = _windows(cfg, vocab, load_corpus(cfg.data.corpus))
        model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                      metrics=[Perplexity(), BitsPerCharacter()])
        scores = model.evaluate(window_dataset(val_ids, cfg.data.seq_length, cfg.train.batch_size),
                                return_dict=True, verbose=1 if cfg.train.verbose == "auto" else cfg.train.verbose)
        scores = {"split": "validation (end of corpus)", "loss_nats_per_char": scores["loss"], **scores}
        print(f"validation: {scores['loss']:.4f} nats/char, perplexity {scores['perplexity']:.3f}, "
              f"{scores['bits_per_char']:.4f} bits/char")
        write_json(Path(run) / "eval_validation.json", scores)
        return scores

    def generate(self, cfg, args):
        g = cfg.generate
        if g.length <= 0:
            raise UserError(f"length must be positive, got {g.length}")
        if not g.prime:
            raise UserError("prime must not be empty")
        model, vocab = self.load_run(args["run"])
        unknown = vocab.unknown(g.prime)
        if unknown:
            log.warning("prime has characters outside the vocabulary (read as OOV): %s", "".join(unknown))
        strategy = strategy_for(g.temperature, g.top_k, g.top_p)
        text = generate_text(build_step_model(model), vocab, g.prime, g.length, strategy, g.seed)
        print(text)
        return text

    def export(self, cfg, args):
        run = args["run"]
        target = self.export_target(cfg, run)
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
            "app": self.name, "task": "character-level language model",
            "vocabulary": {"oov_id": 0, "chars": list(vocab.chars)},
            "step_model": {"inputs": {"token": "int32 (1,)", "states": f"float32 {list(zeros.shape)}"},
                           "outputs": {"logits": f"float32 (1, {vocab.size})", "states": "as the input"},
                           "state_layout": "per RNN layer: LSTM (h, c), GRU/SimpleRNN (h)"},
            "saved_model_signatures": {"serve": "one step", "generate": "prime: string, length: int32, "
                                       "temperature: float32 (0 = greedy) -> text: string"},
            "run": str(run),
        }
        report = exporting.export(serving, target, ecfg, metadata)
        print(exporting.format_report(report))
        print(f"exported to {target}")
        return target


def _rollout(next_fn, states, prime_ids, steps):
    """Batch-1 step inputs along a greedy Keras rollout from the prime: the parity samples."""
    samples, token = [], tf.constant(prime_ids[:1], tf.int32)
    feed = list(prime_ids[1:])
    for _ in range(steps):
        samples.append({"token": token.numpy(), "states": np.asarray(states)})
        logits, states = next_fn(token, states)
        token = tf.constant([feed.pop(0)], tf.int32) if feed else tf.argmax(logits, -1, output_type=tf.int32)
    return samples
