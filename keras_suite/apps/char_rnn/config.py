"""Config schema of the char-RNN app; defaults are the shipped default.yaml."""

import dataclasses

from keras_suite.apps.spec import EXPORT, EXPORT_ALIASES, TRAIN, AppSpec, Command
from keras_suite.choices import CHAR_CELLS
from keras_suite.config import ExportConfig, TrainConfig, setting
from keras_suite.errors import UserError


@dataclasses.dataclass
class DataConfig:
    corpus: str = "shakespeare"
    seq_length: int = setting(100, ge=1, le=100_000)
    val_fraction: float = setting(0.05, lt=1)


@dataclasses.dataclass
class ModelConfig:
    """An RNN (`embedding_dim`, then `layers` cells of `units`) or a causal transformer (`layers` blocks of width
    `units` with `heads` attention heads, attending over `data.seq_length` positions; `embedding_dim` unused)."""

    cell: str = setting("lstm", choices=CHAR_CELLS)
    embedding_dim: int = setting(64, ge=1, le=65_536)
    units: int = setting(256, ge=1, le=65_536)
    layers: int = setting(2, ge=1, le=64)
    heads: int = setting(4, ge=1, le=256)  # transformer only
    dropout: float = setting(0.0, lt=1)

    def __post_init__(self):
        if self.cell == "transformer" and self.units % self.heads:
            raise UserError(f"model.units ({self.units}) must be a multiple of model.heads ({self.heads}) for the "
                            "transformer")


@dataclasses.dataclass
class GenerateConfig:
    prime: str = "ROMEO:"
    length: int = setting(500, ge=1)  # at most max_length
    temperature: float = 0.8
    top_k: int = 0
    top_p: float = setting(1.0, gt=0, le=1)
    seed: int = 0
    preview_temperatures: tuple[float, ...] = (0.5, 0.8, 1.0)
    preview_length: int = setting(300, ge=1, le=100_000)
    max_length: int = setting(100_000, ge=1)  # the longest generation allowed (raise it if you mean it)

    def __post_init__(self):
        if self.length > self.max_length:
            raise UserError(f"generate.length ({self.length:,}) is over generate.max_length ({self.max_length:,}); "
                            f"raise generate.max_length if you mean it")


def _train_defaults():
    # A CPU budget of about 10 minutes on 2 cores (1000 steps of 64 x 100 characters, 1.3M characters);
    # set train.steps_per_epoch=null for full passes over the corpus. XLA slows RNNs on CPU (bench/);
    # gradient clipping keeps RNN training stable.
    return TrainConfig(epochs=4, steps_per_epoch=250, validation_steps=40, batch_size=64, learning_rate=2e-3,
                       clipnorm=1.0, jit_compile=False, early_stopping_patience=2)


def _export_defaults():
    return ExportConfig(formats=("saved_model", "tflite"), parity_samples=200, task_samples=2000,
                        max_metric_drop={"saved_model": 0.01, "tflite": 0.01, "tflite_fp16": 0.01, "tflite_int8": 0.05},
                        max_abs_diff={"saved_model": 1e-4, "tflite": 1e-3}, min_agreement={})


@dataclasses.dataclass
class CharRNNConfig:
    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
    generate: GenerateConfig = dataclasses.field(default_factory=GenerateConfig)
    train: TrainConfig = dataclasses.field(default_factory=_train_defaults)
    export: ExportConfig = dataclasses.field(default_factory=_export_defaults)


SPEC = AppSpec(
    "char_rnn", "character-level language model, LSTM/GRU or transformer (nats/char; text generation)", CharRNNConfig,
    commands={"train": Command(TRAIN.help, optional=("resume", "corpus")),
              "evaluate": Command("validation nats/char, perplexity and bits/char of a trained run", ("run",)),
              "generate": Command("continue a prime with the trained model (greedy, temperature, top-k, top-p)",
                                  ("run",), ("prime", "length", "temperature", "top_k", "top_p", "seed")),
              "export": EXPORT},
    implementation="keras_suite.apps.char_rnn.app:CharRNNApp",
    aliases={"corpus": "data.corpus", "prime": "generate.prime", "length": "generate.length",
             "temperature": "generate.temperature", "top_k": "generate.top_k", "top_p": "generate.top_p",
             "seed": "generate.seed", **EXPORT_ALIASES},
)
