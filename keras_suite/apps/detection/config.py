"""Config schema of the detection app; defaults are the shipped default.yaml."""

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
from keras_suite.choices import BOX_LOSSES, YOLO_BACKBONES
from keras_suite.config import AttackConfig, ImageExportConfig, TrainConfig, VisualizeConfig, check_memory, setting
from keras_suite.errors import UserError

SCENE_BYTES_PER_PIXEL = 8  # uint8 scenes, their tf.data copy, and a float32 batch at a time


@dataclasses.dataclass
class DataConfig:
    # synthetic (digits) | faces (the face app's drawn faces) | folder:<YOLO root: train/ val/ and optionally test/> |
    # tfds:voc/2007 | tfds:coco/2017
    source: str = "synthetic"
    image_size: int = setting(128, ge=32, le=4096)
    max_pixels: int = setting(50_000_000, ge=1, le=1_000_000_000)  # larger input images are refused before decoding
    num_train: int = 4000  # synthetic scenes; for tfds, 0 takes the whole split
    num_val: int = 200
    num_test: int = 300
    max_objects: int = setting(4, ge=1, le=1000)
    max_boxes: int = setting(16, ge=1, le=10_000)  # per image in a training batch
    class_names: tuple[str, ...] = ()
    missing_labels: str = setting("error", choices=("error", "background"))  # folder images without labels/<stem>.txt
    flip: bool = False  # off for the digits: a mirrored 2 or 5 is not a digit
    scale: float = 0.1
    translate: float = 0.05
    data_dir: str | None = None
    download: bool = False
    seed: int = 0


@dataclasses.dataclass
class ModelConfig:
    backbone: str = setting("csp", choices=YOLO_BACKBONES)
    width: int = setting(16, ge=1, le=1024)
    depth: int = setting(1, ge=1, le=16)
    # two scales: the embedded digits (19-51 px of 128) need no stride-32 cells, and each epoch learns more without
    # them; larger inputs with larger objects want (8, 16, 32)
    strides: tuple[int, ...] = setting((8, 16), choices=(4, 8, 16, 32))
    anchors_per_scale: int = setting(2, ge=1, le=16)
    anchors: tuple[tuple[float, ...], ...] = ()  # (w, h) fractions, smallest first; empty: k-means on training boxes


@dataclasses.dataclass
class LossConfig:
    box: str = setting("ciou", choices=BOX_LOSSES)
    box_weight: float = 5.0
    object_weight: float = 1.0
    noobj_weight: float = 1.0
    class_weight: float = 10.0  # the class BCE is a mean over 10 classes; 1.0 left digits misread (RESULTS)
    ignore_iou: float = setting(0.5, le=1)
    # also assign the anchors that match a box at least this well (None: the best anchor only)
    extra_iou: float | None = setting(0.5, le=1)
    neighbor_cells: bool = True  # also the two neighbouring cells nearest each centre (YOLOv5): faster learning


@dataclasses.dataclass
class DetectConfig:
    score_threshold: float = setting(0.25, le=1)  # predict and export
    eval_score_threshold: float = setting(0.001, le=1)  # evaluate: keep low-scoring boxes, as COCO evaluation expects
    iou_threshold: float = setting(0.5, le=1)
    max_detections: int = setting(100, ge=1, le=10_000)
    max_candidates: int = 256  # best-scoring positions that go to NMS (0: all)
    preview_images: int = 6


def _train_defaults():
    # 7 epochs at batch 8 from a 6e-3 peak: test mAP@0.5 0.90 in 5 minutes on 2 CPU cores (bench/RESULTS.md); 30
    # epochs of batch 16 from 3e-3 on three scales reach 0.94
    return TrainConfig(epochs=7, batch_size=8, learning_rate=6e-3, jit_compile=True, monitor="val_map50",
                       early_stopping_patience=0, warmup_epochs=1)


@dataclasses.dataclass
class DetectionExportConfig(ImageExportConfig):
    """Detections are compared with the SavedModel's by matching boxes (same class, IoU >= 0.5). The int8 file (each
    head's parts with their own scale, NMS in float) matches 0.93 of them on a trained model and keeps mAP@0.5 within
    0.01 (bench/RESULTS.md)."""

    formats: tuple[str, ...] = ("saved_model", "tflite", "tflite_fp16", "tflite_int8", "tflite_tasks", "tflite_nonms",
                                "tflite_int8_full")
    parity_samples: int = setting(32, ge=1)
    task_samples: int = setting(100, ge=0)
    # int8 keeps mAP@0.5 within 0.02; the tighter IoUs of mAP@[.5:.95] lose 0.06 on the default run, from the
    # network's int8 activations (its boxes and its scores each about half; bench/RESULTS.md)
    max_metric_drop: dict[str, float] = setting(factory=lambda: {
        "saved_model": 0.01, "tflite": 0.01, "tflite_fp16": 0.01, "tflite_int8": 0.02, "tflite_int8.map": 0.08})
    max_abs_diff: dict[str, float] = dataclasses.field(default_factory=dict)
    min_agreement: dict[str, float] = dataclasses.field(default_factory=dict)
    min_match_rate: dict[str, float] = setting(factory=lambda: {
        "saved_model": 1.0, "tflite": 0.99, "tflite_fp16": 0.97, "tflite_int8": 0.85}, le=1)
    # the raw head's mean absolute difference from Keras (logits and box offsets) in the float TFLite files (the
    # int8 files have no raw head); measured on runs at val mAP@0.5 0.52 and 0.4: float32 6e-7, fp16 7e-4
    max_raw_mean_diff: dict[str, float] = setting(factory=lambda: {"tflite": 1e-4, "tflite_fp16": 0.01})


@dataclasses.dataclass
class DetectionConfig:
    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
    loss: LossConfig = dataclasses.field(default_factory=LossConfig)
    detect: DetectConfig = dataclasses.field(default_factory=DetectConfig)
    train: TrainConfig = dataclasses.field(default_factory=_train_defaults)
    export: DetectionExportConfig = dataclasses.field(default_factory=DetectionExportConfig)
    visualize: VisualizeConfig = dataclasses.field(default_factory=VisualizeConfig)
    attack: AttackConfig = dataclasses.field(default_factory=AttackConfig)

    def __post_init__(self):
        d, m = self.data, self.model
        if list(m.strides) != sorted(set(m.strides)):
            raise UserError(f"model.strides must be ascending, each once (of 4, 8, 16, 32), got {list(m.strides)}")
        if d.image_size % max(m.strides):
            raise UserError(f"data.image_size ({d.image_size}) must be divisible by the largest stride "
                            f"({max(m.strides)})")
        if m.anchors and (len(m.anchors) != len(m.strides) * m.anchors_per_scale
                          or any(len(a) != 2 or min(a) <= 0 for a in m.anchors)):
            raise UserError(f"model.anchors needs {len(m.strides) * m.anchors_per_scale} positive (w, h) pairs "
                            f"({len(m.strides)} scales x {m.anchors_per_scale}), got {[list(a) for a in m.anchors]}")
        if 0 not in (d.num_train, d.num_val, d.num_test):  # 0 loads a whole tfds split: its size is not known here
            scenes = d.num_train + d.num_val + d.num_test
            check_memory(scenes * d.image_size ** 2 * SCENE_BYTES_PER_PIXEL, f"{scenes:,} images of {d.image_size} px",
                         "data.num_train or data.image_size")


SPEC = AppSpec(
    "detection", "YOLO object detection (COCO mAP@0.5 and @[.5:.95]; boxes drawn on PNGs; NMS in the export)",
    DetectionConfig,
    commands={"train": TRAIN, "evaluate": EVALUATE, "predict": PREDICT, "export": EXPORT,
              "visualize": Command(f"{VISUALIZE.help}; saliency of the best score of `class` over the image (default: "
                                   "the class of the top detection)", VISUALIZE.required,
                                   (*VISUALIZE.optional, "class")),
              "attack": Command(f"{ATTACK.help}; the detection scores suppressed", ATTACK.required, ATTACK.optional),
              "anchors": Command("k-means (IoU distance) anchors from the training boxes", optional=("k",)),
              "convert": Command("COCO JSON or Pascal VOC -> a split of a YOLO folder (data.source=folder:<out>); a "
                                 "YOLO split -> COCO JSON", ("src", "out"),
                                 ("split", "images", "classes", "imageset", "crowd", "difficult", "overwrite"))},
    implementation="keras_suite.apps.detection.app:DetectionApp",
    aliases={**EXPORT_ALIASES, **VISUALIZE_ALIASES, **ATTACK_ALIASES},
    hints={"class": "<class name>", "src": "<coco.json | VOC folder (Annotations/, JPEGImages/) | YOLO folder>",
           "out": "<YOLO folder (its <split>/ is written) | file.json for a YOLO source>",
           "split": "train|val|test (default train)", "images": "<the COCO file's image folder>",
           "classes": "<name,name,...> (VOC, YOLO)", "imageset": "<VOC ImageSets/Main list, default the split>",
           "crowd": "true|false (COCO crowd regions)", "difficult": "true|false (VOC difficult objects)"},
)
