import numpy as np
import pytest
import tensorflow as tf

from keras_suite.data.detection import detection_batches, load_detection
from keras_suite.data.pairs import encode_pairs, pair_dataset
from keras_suite.data.pipeline import prefetched, steady
from keras_suite.data.pk_sampler import pk_dataset
from keras_suite.data.segmentation import batches, load_splits
from keras_suite.data.tokenizer import Tokenizer
from keras_suite.data.windows import window_dataset
from keras_suite.detection.grid import AnchorGrid


def test_steady_and_prefetched_keep_the_elements_and_turn_autotuning_off():
    ds = tf.data.Dataset.range(7).map(lambda x: x * 2, num_parallel_calls=tf.data.AUTOTUNE)
    assert ds.options().autotune.enabled is None  # tf.data's default: on
    for out in (steady(ds), prefetched(ds)):
        assert out.options().autotune.enabled is False
        assert [int(x) for x in out] == [0, 2, 4, 6, 8, 10, 12]


def _segmentation():
    splits = load_splits(image_size=32, num_train=8, num_val=2, num_test=2)
    return batches(splits.train, 4, training=True, augment={"flip": True})


def _detection():
    splits = load_detection(source="synthetic", image_size=64, num_train=4, num_val=2, num_test=2)
    grid = AnchorGrid(64, (16, 32), [[(0.1, 0.15), (0.15, 0.2)], [(0.2, 0.3), (0.3, 0.4)]])
    return detection_batches(splits.train, grid, 10, 2, max_boxes=8, training=True)


def _pairs():
    tok = Tokenizer(list("abc"))
    return pair_dataset(*encode_pairs([("ab", "ca"), ("c", "b")], tok, tok), 2, training=True)


BUILDERS = {
    "char windows (training)": lambda: window_dataset(np.arange(200) % 7, 10, 4, training=True),
    "char windows (evaluation)": lambda: window_dataset(np.arange(200) % 7, 10, 4),
    "translation pairs": _pairs,
    "segmentation batches": _segmentation,
    "detection batches": _detection,
    "face P x K batches": lambda: pk_dataset(np.zeros((12, 8, 8, 3), np.float32), np.repeat(np.arange(3), 4), 2, 2),
}


@pytest.mark.parametrize("name", BUILDERS)
def test_every_pipeline_ends_without_the_autotuning_thread(name):
    ds = BUILDERS[name]()
    assert ds.options().autotune.enabled is False
    assert next(iter(ds)) is not None
