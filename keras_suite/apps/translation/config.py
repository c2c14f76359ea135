"""Config sections shared by the translation apps (seq2seq, transformer)."""

import dataclasses

from keras_suite.config import ExportConfig


@dataclasses.dataclass
class DataConfig:
    source: str = "dates"
    level: str = "char"
    target_level: str | None = None  # None: the same as level
    lowercase: bool = True
    max_vocab: int | None = None
    train_examples: int = 20000  # the embedded tasks (dates, numbers)
    val_examples: int = 1000
    test_examples: int = 1000
    val_fraction: float = 0.05  # TSV files
    test_fraction: float = 0.05
    max_source_length: int = 64
    max_target_length: int = 64
    overlong: str = "error"  # translate/evaluate inputs longer than max_source_length: error or truncate
    seed: int = 0


@dataclasses.dataclass
class DecodeConfig:
    text: str = ""
    beam: int = 5  # 0: greedy
    alpha: float = 0.7
    nbest: int = 1
    temperature: float = 0.0  # > 0: sample instead of searching (with top_k, top_p, seed)
    top_k: int = 0
    top_p: float = 1.0
    seed: int = 0
    max_length: int | None = None  # None: the longest training target + 8
    widths: tuple[int, ...] = (1, 3, 5, 10)
    eval_examples: int | None = None  # None: the whole test split
    monitor_examples: int = 200  # greedy val BLEU each epoch (0: off)
    preview_examples: int = 4


def export_defaults():
    """Beam search exports: tokens must be identical to Keras (scores within float tolerance)."""
    return ExportConfig(formats=("saved_model", "tflite", "tflite_fp16"), parity_samples=32,
                        max_abs_diff={"saved_model": 1e-4, "tflite": 1e-3, "tflite_fp16": 5e-2},
                        min_agreement={"saved_model": 1.0, "tflite": 1.0, "tflite_fp16": 0.98})
