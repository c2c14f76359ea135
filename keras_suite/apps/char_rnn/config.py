"""Config schema of the char-RNN app; defaults are the shipped default.yaml."""

import dataclasses

from keras_suite.config import ExportConfig, TrainConfig


@dataclasses.dataclass
class DataConfig:
    corpus: str = "shakespeare"
    seq_length: int = 100
    val_fraction: float = 0.05


@dataclasses.dataclass
class ModelConfig:
    cell: str = "lstm"
    embedding_dim: int = 64
    units: int = 256
    layers: int = 2
    dropout: float = 0.0


@dataclasses.dataclass
class GenerateConfig:
    prime: str = "ROMEO:"
    length: int = 500
    temperature: float = 0.8
    top_k: int = 0
    top_p: float = 1.0
    seed: int = 0
    preview_temperatures: tuple[float, ...] = (0.5, 0.8, 1.0)
    preview_length: int = 300


def _train_defaults():
    # A CPU budget of about 10 minutes on 2 cores (1000 steps of 64 x 100 characters, 1.3M characters);
    # set train.steps_per_epoch=null for full passes over the corpus. XLA slows RNNs on CPU (bench/);
    # gradient clipping keeps RNN training stable.
    return TrainConfig(epochs=4, steps_per_epoch=250, validation_steps=40, batch_size=64, learning_rate=2e-3,
                       clipnorm=1.0, jit_compile=False, early_stopping_patience=2)


def _export_defaults():
    return ExportConfig(formats=("saved_model", "tflite"), parity_samples=200,
                        max_abs_diff={"saved_model": 1e-4, "tflite": 1e-3}, min_agreement={})


@dataclasses.dataclass
class CharRNNConfig:
    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
    generate: GenerateConfig = dataclasses.field(default_factory=GenerateConfig)
    train: TrainConfig = dataclasses.field(default_factory=_train_defaults)
    export: ExportConfig = dataclasses.field(default_factory=_export_defaults)
