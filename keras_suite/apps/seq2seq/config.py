"""Config schema of the seq2seq app; defaults are the shipped default.yaml."""

import dataclasses

from keras_suite.apps.translation.config import DataConfig, DecodeConfig, export_defaults
from keras_suite.config import ExportConfig, TrainConfig


@dataclasses.dataclass
class ModelConfig:
    cell: str = "lstm"
    embedding_dim: int = 64
    units: int = 128
    attention: str = "bahdanau"
    dropout: float = 0.0


def _train_defaults():
    # About 8 minutes on 2 CPU cores: validation exact match reaches 1.0 greedily by the second epoch.
    return TrainConfig(epochs=4, batch_size=64, learning_rate=3e-3, clipnorm=1.0, early_stopping_patience=3,
                       warmup_epochs=0, jit_compile=False)


@dataclasses.dataclass
class Seq2SeqConfig:
    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
    decode: DecodeConfig = dataclasses.field(default_factory=DecodeConfig)
    train: TrainConfig = dataclasses.field(default_factory=_train_defaults)
    export: ExportConfig = dataclasses.field(default_factory=export_defaults)
