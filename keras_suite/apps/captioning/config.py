"""Config schema of the image captioning app; defaults are the shipped default.yaml."""

import dataclasses

from keras_suite.apps.spec import EVALUATE, EXPORT, EXPORT_ALIASES, TRAIN, AppSpec, Command
from keras_suite.choices import ATTENTION_SCORES, CAPTION_DECODERS, CAPTION_ENCODERS, SEQ2SEQ_CELLS
from keras_suite.config import ExportConfig, TrainConfig, setting
from keras_suite.errors import UserError


@dataclasses.dataclass
class DataConfig:
    """`source`: "synthetic" (generated scenes: `num_*` per split; half the test split holds colour-shape pairs
    training never shows), folder:<dir> (photos and <dir>/captions.tsv: `<image file><TAB><caption>` lines) or
    tfds:coco_captions. Images are resized to `image_size` square; captions longer than `max_length` words are cut."""

    source: str = "synthetic"
    image_size: int = setting(96, ge=16, le=1024)
    max_pixels: int = setting(50_000_000, ge=1)
    num_train: int = setting(4000, ge=1, le=1_000_000)
    num_val: int = setting(200, ge=1, le=100_000)
    num_test: int = setting(300, ge=1, le=100_000)
    val_fraction: float = setting(0.1, gt=0, lt=1)
    test_fraction: float = setting(0.1, gt=0, lt=1)
    max_length: int = setting(24, ge=1, le=512)
    max_vocab: int | None = setting(None, ge=1, le=1_000_000)
    lowercase: bool = True
    data_dir: str | None = None
    download: bool = False
    seed: int = 0


@dataclasses.dataclass
class ModelConfig:
    """A CNN `encoder` ("conv": our conv blocks, `width` channels at first; "mobilenet_v2": ImageNet `weights` when
    they can be had) and a `decoder` with attention over its grid: "rnn" (`cell`, `embedding_dim`, `units`,
    `attention`) or "transformer" (`layers` blocks of width `units`, `heads`, `ff_dim`)."""

    encoder: str = setting("conv", choices=CAPTION_ENCODERS)
    width: int = setting(16, ge=1, le=4096)
    weights: str | None = "imagenet"
    decoder: str = setting("rnn", choices=CAPTION_DECODERS)
    cell: str = setting("lstm", choices=SEQ2SEQ_CELLS)
    embedding_dim: int = setting(64, ge=1, le=65_536)
    units: int = setting(256, ge=1, le=65_536)
    attention: str = setting("bahdanau", choices=ATTENTION_SCORES)
    layers: int = setting(2, ge=1, le=64)
    heads: int = setting(4, ge=1, le=1024)
    ff_dim: int = setting(512, ge=1, le=262_144)
    dropout: float = setting(0.0, ge=0, lt=1)
    word_dropout: float = setting(0.25, ge=0, lt=1)  # training: this share of the decoder's input words made unknown

    def __post_init__(self):
        if self.decoder == "transformer" and self.units % self.heads:
            raise UserError(f"model.units ({self.units}) must divide into model.heads ({self.heads})")


@dataclasses.dataclass
class DecodeConfig:
    """How `caption`, `evaluate` and the export search: greedy (beam 0), beam search (width `beam`, length
    normalization `alpha`, `nbest` captions) or sampling (`temperature` > 0, `top_k`, `top_p`, `seed`). `evaluate`
    compares greedy search with each of `widths`; training captions `monitor_examples` validation images greedily
    each epoch (val_bleu4) and shows `preview_examples` of them with their attention maps."""

    beam: int = setting(5, ge=0, le=1024)
    # chosen on the validation scenes (BLEU-4 of beam 5: 0.733 at 0.7, 0.741 at 1.0, 0.803 at 1.5, 0.809 at 2.0, 0.805
    # at 3.0; bench/RESULTS.md); retune it on other data with `evaluate split=val decode.alpha=...`
    alpha: float = setting(2.0, ge=0)
    nbest: int = setting(1, ge=1)
    temperature: float = setting(0.0, ge=0)
    top_k: int = setting(0, ge=0)
    top_p: float = setting(1.0, gt=0, le=1)
    seed: int = 0
    max_length: int | None = setting(None, ge=1, le=512)  # None: the longest training caption + 4 words
    widths: tuple[int, ...] = setting((3, 5), ge=1, le=1024)
    eval_examples: int | None = setting(None, ge=1)  # None: the whole split
    monitor_examples: int = setting(200, ge=0)
    preview_examples: int = setting(4, ge=0, le=64)


def _train_defaults():
    # About 10 minutes on 2 CPU cores: validation BLEU-4 (greedy) passes 0.6 after 9 epochs, 0.70 from epoch 14 on
    # (bench/RESULTS.md).
    return TrainConfig(epochs=20, batch_size=32, learning_rate=3e-3, warmup_epochs=1, clipnorm=1.0,
                       early_stopping_patience=0, monitor="val_bleu4")


@dataclasses.dataclass
class CaptioningExportConfig(ExportConfig):
    """Beam search inside every file but the step file (`tflite_step`: an encoder and one decoder step, searched on
    the host): a file must give the best caption of Keras token for token on `min_same_best` of the parity images."""

    formats: tuple[str, ...] = ("saved_model", "tflite", "tflite_fp16", "tflite_step")
    parity_samples: int = setting(16, ge=1, le=10_000)
    task_samples: int = setting(100, ge=0, le=100_000)
    max_abs_diff: dict[str, float] = setting(factory=lambda: {"saved_model": 1e-4, "tflite": 1e-3,
                                                              "tflite_fp16": 5e-2})
    min_agreement: dict[str, float] = setting(factory=lambda: {"saved_model": 1.0, "tflite": 1.0,
                                                               "tflite_fp16": 0.95})
    min_same_best: dict[str, float] = setting(factory=lambda: {"saved_model": 1.0, "tflite": 1.0,
                                                               "tflite_fp16": 0.9, "tflite_step": 1.0}, le=1)


@dataclasses.dataclass
class CaptioningConfig:
    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
    decode: DecodeConfig = dataclasses.field(default_factory=DecodeConfig)
    train: TrainConfig = dataclasses.field(default_factory=_train_defaults)
    export: CaptioningExportConfig = dataclasses.field(default_factory=CaptioningExportConfig)


DECODING = ("beam", "nbest", "alpha", "temperature", "top_k", "top_p", "seed")
SPEC = AppSpec(
    "captioning", "image captioning: CNN + attention decoder (beam search, BLEU-1..4, CIDEr-D, attention maps)",
    CaptioningConfig,
    commands={"train": Command(TRAIN.help, optional=("resume", "source")),
              "evaluate": Command("BLEU-1..4, CIDEr-D and exact match of greedy search and each beam width, and "
                                  "the wrong captions blamed on the search or the model", EVALUATE.required,
                                  EVALUATE.optional),
              "caption": Command("caption an image or a folder of images; write each with its attention maps",
                                 ("run", "image"), ("out", *DECODING)),
              "export": Command(EXPORT.help, EXPORT.required, (*EXPORT.optional, "beam", "nbest", "alpha"))},
    implementation="keras_suite.apps.captioning.app:CaptioningApp",
    aliases={"source": "data.source", **{k: f"decode.{k}" for k in DECODING}, **EXPORT_ALIASES},
)
