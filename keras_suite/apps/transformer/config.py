"""Config schema of the transformer app; defaults are the shipped default.yaml."""

import dataclasses

from keras_suite.apps.translation.config import DataConfig, DecodeConfig, export_defaults
from keras_suite.config import ExportConfig, TrainConfig


@dataclasses.dataclass
class ModelConfig:
    layers: int = 2
    dim: int = 128
    heads: int = 4
    ff_dim: int = 512
    dropout: float = 0.1
    positional: str = "sinusoidal"
    norm_first: bool = True
    label_smoothing: float = 0.1


def _train_defaults():
    # lr_schedule "transformer": d^-0.5 * min(step^-0.5, step * warmup^-1.5) with warmup_epochs of
    # linear warmup and Adam(0.9, 0.98, 1e-9) as in the paper; "cosine"/"constant" use learning_rate.
    return TrainConfig(epochs=10, batch_size=64, lr_schedule="transformer", warmup_epochs=1, clipnorm=1.0,
                       early_stopping_patience=3, jit_compile=False)


@dataclasses.dataclass
class TransformerConfig:
    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
    decode: DecodeConfig = dataclasses.field(default_factory=DecodeConfig)
    train: TrainConfig = dataclasses.field(default_factory=_train_defaults)
    export: ExportConfig = dataclasses.field(default_factory=export_defaults)
