"""Config schema of the segmentation app; defaults are the shipped default.yaml."""

import dataclasses

from keras_suite.apps.spec import (
    ATTACK,
    ATTACK_ALIASES,
    EVALUATE,
    EXPORT,
    EXPORT_ALIASES,
    PREDICT,
    TRAIN,
    VISUALIZE,
    VISUALIZE_ALIASES,
    AppSpec,
    Command,
)
from keras_suite.choices import SCENE_KINDS
from keras_suite.config import AttackConfig, ImageExportConfig, TrainConfig, VisualizeConfig, check_memory, setting
from keras_suite.errors import UserError

ENCODERS = ("unet", "mobilenet_v2")
LOSSES = ("ce", "dice", "focal", "ce_dice")
SCENE_BYTES_PER_PIXEL = 36  # uint8 image and mask, their float32/int32 copies, the float32 tf.data cache


@dataclasses.dataclass
class DataConfig:
    source: str = "synthetic"
    scene: str = setting("shapes", choices=SCENE_KINDS)
    image_size: int = setting(64, ge=1, le=4096)
    max_pixels: int = setting(50_000_000, ge=1, le=1_000_000_000)  # larger input images are refused before decoding
    num_train: int = 2000
    num_val: int = 200
    num_test: int = 300
    val_fraction: float = setting(0.1, le=1)
    test_fraction: float = setting(0.1, le=1)
    class_names: tuple[str, ...] = ()
    data_dir: str | None = None
    download: bool = False
    augment: bool = True
    flip: bool = True
    zoom: float = 0.0
    translate: float = 0.0
    brightness: float = 0.2
    cache: bool = True


@dataclasses.dataclass
class ModelConfig:
    encoder: str = setting("unet", choices=ENCODERS)
    depth: int = setting(4, ge=1, le=8)
    filters: int = setting(16, ge=1, le=1024)
    dropout: float = setting(0.0, lt=1)
    batch_norm: bool = True
    weights: str | None = None


@dataclasses.dataclass
class LossConfig:
    name: str = setting("ce_dice", choices=LOSSES)
    focal_gamma: float = 2.0
    dice_weight: float = 1.0


def _train_defaults():
    # Measured on the embedded shapes (2-core CPU, bench/RESULTS.md): XLA is 1.3x faster per step for this U-Net;
    # batch 8 at a 5e-3 peak after one warmup epoch reaches test mIoU 0.91 in 8 epochs (4 min), as batch 16 at
    # 3e-3 did in 15 (13 min); batch 4 learns no more per epoch and its epochs take 1.4x as long.
    return TrainConfig(epochs=8, batch_size=8, learning_rate=5e-3, warmup_epochs=1, jit_compile=True)


@dataclasses.dataclass
class SegmentationConfig:
    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
    loss: LossConfig = dataclasses.field(default_factory=LossConfig)
    train: TrainConfig = dataclasses.field(default_factory=_train_defaults)
    export: ImageExportConfig = dataclasses.field(default_factory=ImageExportConfig)
    visualize: VisualizeConfig = dataclasses.field(default_factory=VisualizeConfig)
    attack: AttackConfig = dataclasses.field(default_factory=AttackConfig)

    def __post_init__(self):
        d, m = self.data, self.model
        halvings = 5 if m.encoder == "mobilenet_v2" else m.depth
        if d.image_size % 2 ** halvings:
            raise UserError(f"data.image_size ({d.image_size}) must be divisible by {2 ** halvings}: the "
                            f"{m.encoder} encoder halves it {halvings} times (model.encoder, model.depth)")
        if d.source == "synthetic":
            scenes = d.num_train + d.num_val + d.num_test
            check_memory(scenes * d.image_size ** 2 * SCENE_BYTES_PER_PIXEL,
                         f"{scenes:,} synthetic scenes of {d.image_size} px", "data.num_train or data.image_size")


SPEC = AppSpec(
    "segmentation", "U-Net semantic segmentation (mIoU, Dice; mask + overlay PNGs)", SegmentationConfig,
    commands={"train": TRAIN, "evaluate": EVALUATE, "predict": PREDICT, "export": EXPORT,
              "visualize": Command(f"{VISUALIZE.help}; saliency of the mean probability of `class` (default: the "
                                   "class most of the image is predicted as)", VISUALIZE.required,
                                   (*VISUALIZE.optional, "class")),
              "attack": Command(f"{ATTACK.help}; the pixels' cross-entropy raised, or every pixel pushed towards "
                                "attack.target", ATTACK.required, ATTACK.optional)},
    implementation="keras_suite.apps.segmentation.app:SegmentationApp",
    aliases={**EXPORT_ALIASES, **VISUALIZE_ALIASES, **ATTACK_ALIASES},
    hints={"class": "<class name>"},
)
