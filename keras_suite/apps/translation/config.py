"""Config schemas of the translation apps: the data, decode and export sections they share, and each app's
model section."""

import dataclasses

from keras_suite.apps.spec import EXPORT, EXPORT_ALIASES, TRAIN, AppSpec, Command
from keras_suite.choices import ATTENTION_SCORES, POSITIONAL_ENCODINGS, SEQ2SEQ_CELLS, TOKEN_LEVELS
from keras_suite.config import LR_SCHEDULES, ExportConfig, TrainConfig, setting
from keras_suite.errors import UserError

# Searches may run this many tokens past the longest training target (or data.max_target_length), so the
# transformer's target position table holds that many more positions.
DECODE_MARGIN = 8


@dataclasses.dataclass
class DataConfig:
    source: str = "dates"
    # None: char for the embedded tasks (dates, numbers), subword for tsv: and tfds: sentences
    level: str | None = setting(None, choices=TOKEN_LEVELS)
    target_level: str | None = setting(None, choices=TOKEN_LEVELS)  # None: the same as level
    lowercase: bool = True
    max_vocab: int | None = setting(None, ge=1, le=10_000_000)  # char and word level: the most frequent tokens
    subword_vocab: int = setting(2000, ge=8, le=1_000_000)  # subword level: about this many pieces are learned
    train_examples: int = 20000  # the embedded tasks (dates, numbers)
    val_examples: int = 1000
    test_examples: int = 1000
    val_fraction: float = setting(0.05, le=1)  # TSV files
    test_fraction: float = setting(0.05, le=1)
    max_source_length: int = setting(64, ge=1, le=4096)
    max_target_length: int = setting(64, ge=1, le=4096)
    # translate/evaluate inputs longer than max_source_length: refused (error) or cut (truncate)
    overlong: str = setting("error", choices=("error", "truncate"))
    seed: int = 0


@dataclasses.dataclass
class DecodeConfig:
    text: str = ""
    beam: int = setting(5, le=1024)  # 0: greedy
    alpha: float = 0.7
    nbest: int = setting(1, ge=1)
    temperature: float = 0.0  # > 0: sample instead of searching (with top_k, top_p, seed)
    top_k: int = 0
    top_p: float = setting(1.0, gt=0, le=1)
    seed: int = 0
    max_length: int | None = setting(None, ge=1, le=4096)  # None: the longest training target + DECODE_MARGIN
    widths: tuple[int, ...] = setting((1, 3, 5, 10), ge=1, le=1024)
    eval_examples: int | None = setting(None, ge=1)  # None: the whole test split
    monitor_examples: int = 200  # greedy val BLEU each epoch (0: off)
    preview_examples: int = 4


@dataclasses.dataclass
class TranslationExportConfig(ExportConfig):
    """The shared export settings, and how many parity sentences' best translation a format must give token for
    token as Keras does (the step files: a host-side search over an encoder and a decoder step)."""

    min_same_best: dict[str, float] = setting(factory=lambda: {"tflite_step": 1.0, "tflite_step_int8": 0.95}, le=1)


def export_defaults():
    """Beam search exports: tokens must be identical to Keras (scores within float tolerance); the step files
    (a host-side search over an encoder and a decoder step) too, except a few with int8 weights."""
    return TranslationExportConfig(
        formats=("saved_model", "tflite", "tflite_fp16", "tflite_step", "tflite_step_int8"),
        parity_samples=32, max_abs_diff={"saved_model": 1e-4, "tflite": 1e-3, "tflite_fp16": 5e-2},
        min_agreement={"saved_model": 1.0, "tflite": 1.0, "tflite_fp16": 0.98})


@dataclasses.dataclass
class Seq2SeqModelConfig:
    cell: str = setting("lstm", choices=SEQ2SEQ_CELLS)
    embedding_dim: int = setting(64, ge=1, le=65_536)
    units: int = setting(128, ge=1, le=65_536)
    attention: str = setting("bahdanau", choices=ATTENTION_SCORES)
    dropout: float = setting(0.0, lt=1)


def _seq2seq_train():
    # About 8 minutes on 2 CPU cores: validation exact match reaches 1.0 greedily by the second epoch.
    return TrainConfig(epochs=4, batch_size=64, learning_rate=3e-3, clipnorm=1.0, early_stopping_patience=3,
                       warmup_epochs=0, jit_compile=False)


@dataclasses.dataclass
class Seq2SeqConfig:
    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    model: Seq2SeqModelConfig = dataclasses.field(default_factory=Seq2SeqModelConfig)
    decode: DecodeConfig = dataclasses.field(default_factory=DecodeConfig)
    train: TrainConfig = dataclasses.field(default_factory=_seq2seq_train)
    export: TranslationExportConfig = dataclasses.field(default_factory=export_defaults)


@dataclasses.dataclass
class TransformerModelConfig:
    layers: int = setting(2, ge=1, le=64)
    dim: int = setting(128, ge=1, le=65_536)
    heads: int = setting(4, ge=1, le=1024)
    ff_dim: int = setting(512, ge=1, le=262_144)
    dropout: float = setting(0.1, lt=1)
    positional: str = setting("sinusoidal", choices=POSITIONAL_ENCODINGS)
    norm_first: bool = True
    label_smoothing: float = setting(0.1, lt=1)

    def __post_init__(self):
        if self.dim % self.heads:
            raise UserError(f"model.dim ({self.dim}) must divide into model.heads ({self.heads})")


@dataclasses.dataclass
class TransformerTrainConfig(TrainConfig):
    """The shared train section, plus the paper's schedule: lr_schedule "transformer" is
    d^-0.5 * min(step^-0.5, step * warmup^-1.5) with warmup_epochs of linear warmup and Adam(0.9, 0.98, 1e-9);
    "cosine" and "constant" use learning_rate."""

    lr_schedule: str = setting("cosine", choices=(*LR_SCHEDULES, "transformer"))


def _transformer_train():
    # Measured on 2 CPU cores (bench/RESULTS.md): a cosine from a 2e-3 peak after one warmup epoch reaches test exact
    # match 0.993 in 5 epochs (4 min); the paper's schedule needed 9 epochs for validation exact match 1.0. Batch 32
    # (1e-3, 4 epochs) gives 0.990 in the same time; XLA is slower here (171 against 122 ms per step).
    return TransformerTrainConfig(epochs=5, batch_size=64, learning_rate=2e-3, warmup_epochs=1, clipnorm=1.0,
                                  early_stopping_patience=3, jit_compile=False)


@dataclasses.dataclass
class TransformerConfig:
    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    model: TransformerModelConfig = dataclasses.field(default_factory=TransformerModelConfig)
    decode: DecodeConfig = dataclasses.field(default_factory=DecodeConfig)
    train: TransformerTrainConfig = dataclasses.field(default_factory=_transformer_train)
    export: TranslationExportConfig = dataclasses.field(default_factory=export_defaults)


COMMANDS = {
    "train": Command(TRAIN.help, optional=("resume", "source")),
    "evaluate": Command("BLEU and exact match of greedy search and each beam width, in one table", ("run",),
                        ("split",)),
    "translate": Command("translate text= or each line of file= (beam, n-best, or sampling)", ("run",),
                         ("text", "file", "beam", "nbest", "alpha", "temperature", "top_k", "top_p", "seed")),
    "analyze": Command("blame each wrong output on the search or on the model", ("run",), ("split", "beam", "alpha")),
    "export": Command(EXPORT.help, EXPORT.required, (*EXPORT.optional, "beam", "nbest", "alpha"))}
ALIASES = {"source": "data.source", "text": "decode.text", "beam": "decode.beam", "nbest": "decode.nbest",
           "alpha": "decode.alpha", "temperature": "decode.temperature", "top_k": "decode.top_k",
           "top_p": "decode.top_p", "seed": "decode.seed", **EXPORT_ALIASES}
SEQ2SEQ = AppSpec(
    "seq2seq", "encoder-decoder with attention (beam search, BLEU, error analysis; dates -> ISO by default)",
    Seq2SeqConfig, COMMANDS, "keras_suite.apps.translation.seq2seq:Seq2SeqApp", ALIASES)
TRANSFORMER = AppSpec(
    "transformer", "encoder-decoder transformer (cached beam search, BLEU; dates -> ISO by default)",
    TransformerConfig, COMMANDS, "keras_suite.apps.translation.transformer:TransformerApp", ALIASES)
