"""Config schema of the style transfer app; defaults are the shipped default.yaml."""

import dataclasses

from keras_suite.apps.spec import EXPORT, EXPORT_ALIASES, PREDICT, VISUALIZE, VISUALIZE_ALIASES, AppSpec, Command
from keras_suite.choices import STYLE_CONTENT, STYLE_OPTIMIZERS
from keras_suite.config import ImageExportConfig, TrainConfig, VisualizeConfig, check_memory, setting

STYLE_LAYERS = ("block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1")
MIN_SIZE = 32  # VGG19 pools four times before block5: smaller images leave it no pixels
MIN_SIDE = 4  # the stylizer halves twice
CROP_BYTES_PER_PIXEL = 27  # uint8 crops and the float32 (input, target) copies tf.data slices


@dataclasses.dataclass
class StyleLossConfig:
    images: tuple[str, ...] = ("starry_night",)  # built-in names or paths; `style=a,b` on the command line
    image_weights: tuple[float, ...] = ()  # one per style image; empty: equal
    # VGG19: imagenet (cached under KERAS_HOME; offline: random, with a warning) | random | <weights file>
    weights: str = "imagenet"
    content_layer: str = "block4_conv2"
    layers: tuple[str, ...] = STYLE_LAYERS
    layer_weights: tuple[float, ...] = ()  # one per style layer; empty: equal
    content_weight: float = 1.0
    style_weight: float = 1e-3
    tv_weight: float = 1.0
    preserve_colour: bool = False  # luminance-only transfer: the content's colours stay
    seed: int = 0  # the random VGG weights when ImageNet ones are not there


@dataclasses.dataclass
class StylizeConfig:
    size: int = setting(256, ge=MIN_SIZE, le=8192)  # the longer side of the result
    steps: int = setting(100, ge=1, le=1_000_000)
    optimizer: str = setting("lbfgs", choices=STYLE_OPTIMIZERS)
    learning_rate: float = 5.0  # adam, in pixel units
    noise: float = 0.0  # std of the noise added to the starting (content) image
    every: int = 25  # intermediate PNG and TensorBoard image period, in steps


@dataclasses.dataclass
class DataConfig:
    source: str = "builtin"  # builtin | folder:<dir> | tfds:coco/2017 (content photos)
    image_size: int = setting(96, ge=MIN_SIZE, le=4096)  # training crops
    max_pixels: int = setting(50_000_000, ge=1, le=1_000_000_000)  # larger input images are refused before decoding
    num_train: int = setting(256, ge=1)  # random crops drawn from the photos
    num_val: int = setting(8, ge=1)
    limit: int = 0  # folder/tfds: use at most this many photos (0: all)
    data_dir: str | None = None
    download: bool = False
    seed: int = 0


@dataclasses.dataclass
class ModelConfig:
    filters: int = setting(16, ge=1, le=1024)
    residual_blocks: int = 3


def _train_defaults():
    return TrainConfig(epochs=6, batch_size=4, learning_rate=2e-3, monitor="val_loss", early_stopping_patience=0)


@dataclasses.dataclass
class StyleExportConfig(ImageExportConfig):
    """TFLite files take image_size x image_size; parity is the PSNR (dB) of each format against Keras."""

    image_size: int = setting(256, ge=MIN_SIDE, le=8192)
    parity_samples: int = setting(8, ge=1)
    task_samples: int = 0  # a stylizer's metric is its PSNR to Keras (min_psnr), on the parity samples
    # int8 already calibrates on crops of the shipped content photos; with 16 crops of the other photos added, its
    # PSNR to Keras on the default run fell to 20.4 dB, below the 22 dB limit
    calibration_photos: int = setting(0, ge=0, le=10_000)
    max_metric_drop: dict[str, float] = dataclasses.field(default_factory=dict)
    max_abs_diff: dict[str, float] = dataclasses.field(default_factory=dict)
    min_agreement: dict[str, float] = dataclasses.field(default_factory=dict)
    min_psnr: dict[str, float] = setting(factory=lambda: {
        "saved_model": 60.0, "tflite": 45.0, "tflite_fp16": 35.0, "tflite_int8": 22.0})


@dataclasses.dataclass
class StyleConfig:
    style: StyleLossConfig = dataclasses.field(default_factory=StyleLossConfig)
    stylize: StylizeConfig = dataclasses.field(default_factory=StylizeConfig)
    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
    train: TrainConfig = dataclasses.field(default_factory=_train_defaults)
    export: StyleExportConfig = dataclasses.field(default_factory=StyleExportConfig)
    visualize: VisualizeConfig = dataclasses.field(default_factory=VisualizeConfig)

    def __post_init__(self):
        d = self.data
        crops = d.num_train + d.num_val
        check_memory(crops * d.image_size ** 2 * CROP_BYTES_PER_PIXEL, f"{crops:,} training crops of {d.image_size} px",
                     "data.num_train or data.image_size")


SPEC = AppSpec(
    "style", "neural style transfer (Gatys optimization; a feed-forward stylizer that exports to TFLite)", StyleConfig,
    commands={"stylize": Command("optimize one image to the style (Gatys): snapshots, loss curves, the result",
                                 ("content",), ("style", "out", "steps", "size")),
              "train": Command("train a feed-forward stylizer for one style on photo crops",
                               optional=("style", "resume")),
              "predict": PREDICT, "export": EXPORT,
              "visualize": Command(f"{VISUALIZE.help} (feature visualization only: a stylizer has no score to "
                                   "explain)", VISUALIZE.required, VISUALIZE.optional)},
    implementation="keras_suite.apps.style.app:StyleApp",
    aliases={"steps": "stylize.steps", "size": "stylize.size", **EXPORT_ALIASES, **VISUALIZE_ALIASES},
    hints={"content": f"<image or built-in name: {', '.join(STYLE_CONTENT)}>"},
)
