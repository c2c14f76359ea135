"""Config schema of the word embeddings app; defaults are the shipped default.yaml."""

import dataclasses

from keras_suite.apps.spec import EVALUATE, EXPORT, EXPORT_ALIASES, TRAIN, AppSpec, Command
from keras_suite.choices import ANALOGY_METHODS, WORD_EMBEDDINGS
from keras_suite.config import ExportConfig, TrainConfig, setting


@dataclasses.dataclass
class DataConfig:
    """`corpus`: "relations" (generated sentences with known analogies, `sentences` of them), "shakespeare", a
    UTF-8 file or tfds:<name>; each line is a sentence. Words seen fewer than `min_count` times are left out."""

    corpus: str = "relations"
    sentences: int = setting(20_000, ge=1, le=10_000_000)
    min_count: int = setting(5, ge=1)
    max_words: int = setting(30_000, ge=2, le=1_000_000)
    val_fraction: float = setting(0.05, gt=0, lt=1)
    seed: int = 0


@dataclasses.dataclass
class ModelConfig:
    """skipgram or cbow (word2vec with `negatives` negatives per positive, frequent words subsampled below
    `subsample`) or glove (the co-occurrence counts weighted by (x / x_max) ** alpha)."""

    kind: str = setting("skipgram", choices=WORD_EMBEDDINGS)
    dim: int = setting(50, ge=1, le=4096)
    window: int = setting(5, ge=1, le=100)
    negatives: int = setting(5, ge=1, le=100)
    subsample: float = setting(1e-3, lt=1)  # 0 keeps every word
    x_max: float = setting(100.0, gt=0)  # glove
    alpha: float = setting(0.75, gt=0, le=1)  # glove


@dataclasses.dataclass
class QueryConfig:
    """`neighbors` and `analogy`: `k` answers; `method` add (3CosAdd) or mul (3CosMul). `words` are shown with
    their neighbours after every epoch (those the corpus has)."""

    k: int = setting(10, ge=1, le=1000)
    method: str = setting("add", choices=ANALOGY_METHODS)
    words: tuple[str, ...] = ("king", "woman", "paris", "walked", "colder", "love", "night")


def _train_defaults():
    return TrainConfig(epochs=5, batch_size=1024, learning_rate=5e-3, early_stopping_patience=0)


@dataclasses.dataclass
class EmbeddingsExportConfig(ExportConfig):
    """The exported lookup (word id -> unit vector) is compared with Keras by cosine similarity."""

    formats: tuple[str, ...] = ("saved_model", "tflite", "tflite_fp16")
    parity_samples: int = setting(50, ge=1, le=10_000)
    task_samples: int = setting(5000, ge=0, le=1_000_000)  # words looked up in each format for the analogy test
    max_abs_diff: dict[str, float] = setting(factory=lambda: {"saved_model": 1e-5, "tflite": 1e-5,
                                                              "tflite_fp16": 2e-3})
    min_agreement: dict[str, float] = dataclasses.field(default_factory=dict)
    min_cosine: dict[str, float] = setting(factory=lambda: {
        "saved_model": 0.99999, "tflite": 0.99999, "tflite_fp16": 0.999, "tflite_int8": 0.97}, le=1)


@dataclasses.dataclass
class EmbeddingsConfig:
    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
    query: QueryConfig = dataclasses.field(default_factory=QueryConfig)
    train: TrainConfig = dataclasses.field(default_factory=_train_defaults)
    export: EmbeddingsExportConfig = dataclasses.field(default_factory=EmbeddingsExportConfig)



SPEC = AppSpec(
    "embeddings", "word embeddings: skip-gram, CBOW or GloVe (analogy accuracy, nearest neighbours)",
    EmbeddingsConfig,
    commands={"train": Command(TRAIN.help, optional=("resume", "corpus")), "evaluate": EVALUATE,
              "neighbors": Command("the words nearest to a word", ("run", "word"), ("k",)),
              "analogy": Command("a is to b as c is to ?", ("run", "a", "b", "c"), ("k", "method")),
              "export": EXPORT},
    implementation="keras_suite.apps.embeddings.app:EmbeddingsApp",
    aliases={"corpus": "data.corpus", "k": "query.k", "method": "query.method", **EXPORT_ALIASES},
    hints={"word": "<word>", "a": "<word>", "b": "<word>", "c": "<word>"},
)
