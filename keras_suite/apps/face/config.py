"""Config schema of the face verification app; defaults are the shipped default.yaml."""

import dataclasses

from keras_suite.apps.spec import (
    ATTACK,
    ATTACK_ALIASES,
    EVALUATE,
    EXPORT,
    EXPORT_ALIASES,
    TRAIN,
    VISUALIZE,
    VISUALIZE_ALIASES,
    AppSpec,
    Command,
)
from keras_suite.choices import EMBEDDING_BACKBONES, FACE_DETECT, TRIPLET_MINING
from keras_suite.config import AttackConfig, ImageExportConfig, TrainConfig, VisualizeConfig, check_memory, setting
from keras_suite.errors import UserError

FACE_BYTES_PER_PIXEL = 16  # uint8 faces and the float32 copies of the batches being embedded


@dataclasses.dataclass
class DataConfig:
    source: str = "synthetic"  # synthetic | tfds:lfw | folder:<root>/<identity>/*.jpg
    image_size: int = setting(48, ge=8, le=1024)
    crop: float = setting(1.0, gt=0, le=1)  # central square crop (fraction of the shorter side) before resizing
    # find faces in photos first: auto (for runs trained on photos, not on the drawn faces), cascade, none (crops in)
    detect: str = setting("auto", choices=FACE_DETECT)
    margin: float = setting(0.2, ge=0, le=2)  # added on every side of a found face, as a fraction of its side
    min_face: int = setting(40, ge=24, le=4096)  # smallest face searched, in pixels of the photo scaled to 640 at most
    detect_neighbours: int = setting(10, ge=1, le=100)  # window hits a face needs: more, fewer false faces and faces
    identities: int = setting(300, ge=2)  # synthetic: training identities (val and test identities are others)
    val_identities: int = setting(50, ge=2)
    test_identities: int = setting(100, ge=2)
    images_per_identity: int = setting(12, ge=2)
    val_fraction: float = setting(0.1, le=1)  # real data: fraction of identities held out for validation
    test_fraction: float = setting(0.2, le=1)
    min_images: int = 0  # drop training identities with fewer images (0: refuse them instead)
    p: int = setting(16, ge=1, le=4096)  # P identities x K images per batch
    k: int = setting(4, ge=1, le=1024)
    flip: bool = True
    max_pixels: int = setting(50_000_000, ge=1, le=1_000_000_000)
    data_dir: str | None = None
    download: bool = False
    seed: int = 0


@dataclasses.dataclass
class ModelConfig:
    backbone: str = setting("inception_resnet", choices=EMBEDDING_BACKBONES)
    dim: int = setting(128, ge=2, le=8192)
    width: int = setting(16, ge=1, le=1024)
    depths: tuple[int, ...] = setting((1, 1, 1, 1), ge=1, le=64)
    dropout: float = setting(0.0, lt=1)

    def __post_init__(self):
        if not self.depths:
            raise UserError("model.depths needs at least one stage, e.g. model.depths=1,1,1,1")


@dataclasses.dataclass
class LossConfig:
    margin: float = 0.2
    mining: str = setting("semi_hard", choices=TRIPLET_MINING)


@dataclasses.dataclass
class VerifyConfig:
    folds: int = setting(10, ge=2)
    pairs_per_fold: int = setting(600, ge=1)
    val_pairs_per_fold: int = setting(200, ge=1)
    far_target: float = setting(0.001, gt=0, lt=1)
    projector_images: int = 500  # validation faces shown in TensorBoard's projector


def _train_defaults():
    # Measured on 2 CPU cores: about 25 s per epoch of 150 P x K batches (XLA is 1.26x faster than off for
    # this backbone); 10-fold accuracy on unseen identities passes 0.97 by epoch 4-5 and 0.98 by epoch 6.
    return TrainConfig(epochs=10, batch_size=64, steps_per_epoch=150, learning_rate=3e-3, jit_compile=True,
                       monitor="val_verification_accuracy", early_stopping_patience=0)


@dataclasses.dataclass
class FaceExportConfig(ImageExportConfig):
    """Embeddings are compared with Keras by cosine similarity (the lowest over the parity samples)."""

    max_abs_diff: dict[str, float] = dataclasses.field(default_factory=lambda: {
        "saved_model": 1e-4, "tflite": 1e-3, "tflite_fp16": 2e-2})
    min_agreement: dict[str, float] = dataclasses.field(default_factory=dict)
    min_cosine: dict[str, float] = setting(factory=lambda: {
        "saved_model": 0.99999, "tflite": 0.9999, "tflite_fp16": 0.999, "tflite_int8": 0.97}, le=1)


@dataclasses.dataclass
class FaceConfig:
    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
    loss: LossConfig = dataclasses.field(default_factory=LossConfig)
    verify: VerifyConfig = dataclasses.field(default_factory=VerifyConfig)
    train: TrainConfig = dataclasses.field(default_factory=_train_defaults)
    export: FaceExportConfig = dataclasses.field(default_factory=FaceExportConfig)
    visualize: VisualizeConfig = dataclasses.field(default_factory=VisualizeConfig)
    attack: AttackConfig = dataclasses.field(default_factory=AttackConfig)

    def __post_init__(self):
        d, m = self.data, self.model
        if d.image_size < 2 ** len(m.depths) * 2:
            raise UserError(f"data.image_size ({d.image_size}) is too small for {len(m.depths)} stages (model.depths): "
                            f"at least {2 ** len(m.depths) * 2}")
        if d.source == "synthetic":
            faces = (d.identities + d.val_identities + d.test_identities) * d.images_per_identity
            check_memory(faces * d.image_size ** 2 * FACE_BYTES_PER_PIXEL, f"{faces:,} synthetic faces of "
                         f"{d.image_size} px", "data.identities or data.images_per_identity")


SPEC = AppSpec(
    "face", "face verification with triplet loss (10-fold pair accuracy, ROC; verify, enroll, identify)", FaceConfig,
    commands={"train": TRAIN, "evaluate": EVALUATE,
              "verify": Command("are the faces of two photos the same person? (distance, P(same person))",
                                ("run", "a", "b")),
              "enroll": Command("add a person's photos to an enrollment database", ("run", "identity", "images", "db")),
              "identify": Command("the enrolled person nearest to each face of a photo, or unknown (a PNG with "
                                  "boxes and names when faces are found)", ("run", "image", "db"), ("out",)),
              "export": EXPORT,
              "visualize": Command(f"{VISUALIZE.help}; saliency of the embedding distance to face `b` (default: a "
                                   "test face of another person)", VISUALIZE.required, (*VISUALIZE.optional, "b")),
              "attack": Command(f"{ATTACK.help}; genuine pairs pushed apart, impostors pulled together",
                                ATTACK.required, ATTACK.optional)},
    implementation="keras_suite.apps.face.app:FaceApp",
    aliases={**EXPORT_ALIASES, **VISUALIZE_ALIASES, **ATTACK_ALIASES},
    hints={"a": "<image>", "b": "<image>", "identity": "<name of the person>", "image": "<image>",
           "images": "<image paths separated by commas, or a folder>", "db": "<enrollment database file>"},
)
