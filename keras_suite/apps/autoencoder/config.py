"""Config schema of the autoencoder app; defaults are the shipped default.yaml."""

import dataclasses

from keras_suite.apps.spec import (
    EVALUATE,
    EXPORT,
    EXPORT_ALIASES,
    TRAIN,
    VISUALIZE,
    VISUALIZE_ALIASES,
    AppSpec,
    Command,
)
from keras_suite.choices import AUTOENCODER_KINDS, NOISE_KINDS, SPARSITY, UPSAMPLING
from keras_suite.config import ExportConfig, TrainConfig, VisualizeConfig, setting
from keras_suite.errors import UserError


@dataclasses.dataclass
class DataConfig:
    """`source`: "digits" (scikit-learn's 1,797 handwritten digits, grey, split by the fractions), "faces"
    (procedural faces, `num_*` per split), "textures" (crops of scikit-image photos; test crops from photos training
    never sees), folder:<dir> (its images, split by the fractions) or tfds:<name> (mnist, fashion_mnist...).
    Images are resized to `image_size` square. The denoising kind corrupts the inputs with `noise` of strength
    `noise_amount` (gaussian: its standard deviation on the 0-1 scale; salt_pepper and masking: the share of
    pixels hit); targets stay clean."""

    source: str = "digits"
    image_size: int = setting(28, ge=4, le=1024)
    max_pixels: int = setting(50_000_000, ge=1)
    num_train: int = setting(2000, ge=1, le=1_000_000)
    num_val: int = setting(200, ge=1, le=100_000)
    num_test: int = setting(200, ge=1, le=100_000)
    val_fraction: float = setting(0.1, gt=0, lt=1)
    test_fraction: float = setting(0.1, gt=0, lt=1)
    noise: str = setting("gaussian", choices=NOISE_KINDS)
    noise_amount: float = setting(0.3, ge=0, le=1)
    data_dir: str | None = None
    download: bool = False
    seed: int = 0


@dataclasses.dataclass
class ModelConfig:
    """`kind`: undercomplete, sparse (`sparsity` l1 or kl penalty of `sparsity_weight`, the kl one towards a mean
    activation `sparsity_target`), denoising or variational (KL term times `beta`, its weight raised from 0 to 1
    over `kl_warmup_epochs`). `depth` stride-2 stages of `filters` (doubling), a code of `code_dim`; the decoder
    upsamples by `upsampling`: transpose (transposed convolution) or resize (nearest resize, then convolution)."""

    kind: str = setting("denoising", choices=AUTOENCODER_KINDS)
    code_dim: int = setting(32, ge=1, le=65_536)
    filters: int = setting(32, ge=1, le=4096)
    depth: int = setting(2, ge=1, le=6)
    upsampling: str = setting("resize", choices=UPSAMPLING)
    sparsity: str = setting("l1", choices=SPARSITY)
    sparsity_weight: float = setting(1e-3, ge=0)
    sparsity_target: float = setting(0.05, gt=0, lt=1)
    beta: float = setting(1.0, ge=0)
    kl_warmup_epochs: int = setting(0, ge=0)


@dataclasses.dataclass
class SampleConfig:
    """`sample`: `n` images decoded from codes drawn from the prior (`seed`); `interpolate`: `steps` images along
    the line between two codes; `evaluate`: the importance-sampled log-likelihood with `importance_samples` draws
    per image (variational); `embed`: at most `embed_examples` test images in the latent scatter."""

    n: int = setting(64, ge=1, le=4096)
    steps: int = setting(10, ge=2, le=100)
    seed: int = 0
    importance_samples: int = setting(64, ge=1, le=10_000)
    embed_examples: int = setting(1000, ge=2, le=100_000)


def _train_defaults():
    return TrainConfig(epochs=20, batch_size=32, learning_rate=2e-3, warmup_epochs=1, early_stopping_patience=0)


@dataclasses.dataclass
class AutoencoderExportConfig(ExportConfig):
    """Every file gives the code and the reconstruction of an image; `tflite_split` holds the encoder and the decoder
    as two signatures (`encode`: image -> code, `decode`: code -> image), checked by running one after the other."""

    formats: tuple[str, ...] = ("saved_model", "tflite", "tflite_fp16", "tflite_int8", "tflite_split")
    task_samples: int = setting(100, ge=0, le=100_000)
    # the task metric is the reconstruction's PSNR: dB it may lose against Keras
    max_metric_drop: dict[str, float] = setting(factory=lambda: {
        "saved_model": 0.01, "tflite": 0.01, "tflite_fp16": 0.05, "tflite_int8": 1.0})
    max_abs_diff: dict[str, float] = setting(factory=lambda: {"saved_model": 1e-4, "tflite": 1e-3,
                                                              "tflite_fp16": 2e-2})
    min_agreement: dict[str, float] = dataclasses.field(default_factory=dict)  # every output is a float


@dataclasses.dataclass
class AutoencoderConfig:
    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
    sample: SampleConfig = dataclasses.field(default_factory=SampleConfig)
    train: TrainConfig = dataclasses.field(default_factory=_train_defaults)
    export: AutoencoderExportConfig = dataclasses.field(default_factory=AutoencoderExportConfig)
    visualize: VisualizeConfig = dataclasses.field(default_factory=VisualizeConfig)

    def __post_init__(self):
        d, m = self.data, self.model
        if d.image_size % 2 ** m.depth:
            raise UserError(f"data.image_size ({d.image_size}) must be divisible by {2 ** m.depth}: the encoder halves "
                            f"it {m.depth} times (model.depth)")


VARIATIONAL = "(variational runs only)"
SPEC = AppSpec(
    "autoencoder", "convolutional autoencoders: undercomplete, sparse, denoising, variational (PSNR, SSIM, ELBO)",
    AutoencoderConfig,
    commands={"train": Command(TRAIN.help, optional=("resume", "source")),
              "evaluate": Command("reconstruction MSE, PSNR and SSIM on the test (or val) split (denoising: and the "
                                  "noisy input's); variational: ELBO, KL, reconstruction term and an importance-"
                                  "sampled log-likelihood", EVALUATE.required, EVALUATE.optional),
              "reconstruct": Command("reconstruct (denoise) an image or a folder of images: input | noisy | output "
                                     "PNGs", ("run", "image"), ("out",)),
              "sample": Command(f"decode codes drawn from the prior into a grid PNG {VARIATIONAL}", ("run",),
                                ("n", "seed", "out")),
              "interpolate": Command("decode the codes along the line between two images (default: two test "
                                     "images) into a PNG strip", ("run",), ("a", "b", "steps", "out")),
              "embed": Command("codes of the test images: a 2-D scatter PNG coloured by label, and the TensorBoard "
                               "projector", ("run",), ("out",)),
              "export": EXPORT,
              "visualize": Command(f"{VISUALIZE.help} (feature visualization of the encoder's layers; saliency of "
                                   "the code's length)", VISUALIZE.required, VISUALIZE.optional)},
    implementation="keras_suite.apps.autoencoder.app:AutoencoderApp",
    aliases={"source": "data.source", "n": "sample.n", "seed": "sample.seed", "steps": "sample.steps",
             **EXPORT_ALIASES, **VISUALIZE_ALIASES},
    hints={"a": "<image path>", "b": "<image path>"},
)
