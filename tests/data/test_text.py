import numpy as np
import pytest
import tensorflow as tf

from keras_suite.data.corpora import first_names, load_corpus, markdown_play_to_script, shakespeare
from keras_suite.data.vocabulary import OOV, CharVocabulary
from keras_suite.data.windows import split_ids, window_arrays, window_dataset
from keras_suite.errors import UserError

PLAY = """# A Play

## ACT I

### SCENE I. A room.

_Enter ROMEO and JULIET_

**ROMEO**  
But soft, what light  
through yonder window breaks?

_Exit JULIET_

It is the east.

**JULIET**  
O Romeo.
"""


def test_markdown_play_to_script():
    assert markdown_play_to_script(PLAY) == (
        "ROMEO:\nBut soft, what light\nthrough yonder window breaks?\nIt is the east.\n\nJULIET:\nO Romeo.\n")


def test_embedded_corpora():
    text = shakespeare()
    assert 4_500_000 < len(text) < 5_200_000
    assert text.startswith("THESEUS:\nNow, fair Hippolyta") and "\n\nHAMLET:\n" in text
    names = first_names().splitlines()
    assert len(names) > 5000 and all(n[0].isupper() and n[1:].islower() for n in names)
    assert names != sorted(names)


def test_vocabulary_round_trip_and_oov():
    vocab = CharVocabulary.from_text("hello world")
    assert vocab.size == len(set("hello world")) + 1
    ids = vocab.encode("hello")
    assert ids.dtype == np.int32 and (ids > 0).all() and vocab.decode(ids) == "hello"
    assert vocab.encode("hé")[1] == 0 and vocab.decode([0]) == OOV and vocab.unknown("hé!") == ["!", "é"]
    again = CharVocabulary.from_json(vocab.to_json())
    assert again.chars == vocab.chars
    graph_ids = vocab.lookup_layer()(tf.strings.unicode_split("hé world", "UTF-8")).numpy()
    np.testing.assert_array_equal(graph_ids, vocab.encode("hé world"))
    assert b"".join(vocab.inverse_layer()(tf.constant(ids)).numpy()).decode() == "hello"


def test_windows_are_aligned_shift_by_one():
    ids = np.arange(1, 24, dtype=np.int32)
    inputs, targets = window_arrays(ids, 5)
    assert inputs.shape == targets.shape == (4, 5)
    np.testing.assert_array_equal(inputs[1], [6, 7, 8, 9, 10])
    np.testing.assert_array_equal(targets[1], [7, 8, 9, 10, 11])
    np.testing.assert_array_equal(inputs[:, 1:], targets[:, :-1])
    x, y = next(iter(window_dataset(ids, 5, 2, training=True, seed=1)))
    np.testing.assert_array_equal(x.numpy()[:, 1:], y.numpy()[:, :-1])
    np.testing.assert_array_equal(y.numpy() - x.numpy(), 1)  # consecutive ids: a real slice of the text
    with pytest.raises(UserError, match="too few for one window"):
        window_arrays(ids[:5], 5)


def test_training_windows_start_anywhere_and_change_between_passes():
    ids = np.arange(1, 201, dtype=np.int32)
    ds = window_dataset(ids, 10, 4, training=True, seed=3)
    assert int(ds.cardinality()) == 4  # as many windows as the 19 consecutive ones: 4 batches of 4
    first, second = ([x.numpy() for x, _ in ds] for _ in range(2))
    starts = np.concatenate(first)[:, 0] - 1
    assert starts.max() <= 190 and len(set(starts % 10)) > 1  # not only the consecutive windows' offsets
    assert not np.array_equal(np.concatenate(first), np.concatenate(second))
    again = [x.numpy() for x, _ in window_dataset(ids, 10, 4, training=True, seed=3)]
    np.testing.assert_array_equal(np.concatenate(again), np.concatenate(first))  # the same seed, the same draws


def test_validation_split_is_the_end_of_the_corpus():
    train, val = split_ids(np.arange(100), 0.1)
    assert train.tolist() == list(range(90)) and val.tolist() == list(range(90, 100))


@pytest.mark.parametrize("content, message", [
    (b"", "is empty"), (b"   \n", "is empty"), (b"abc\x00def", "looks binary"), (b"caf\xe9", "not valid UTF-8")])
def test_bad_corpus_files(tmp_path, content, message):
    path = tmp_path / "corpus.txt"
    path.write_bytes(content)
    with pytest.raises(UserError, match=message):
        load_corpus(str(path))


def test_missing_corpus_names_embedded_ones():
    with pytest.raises(UserError, match="corpus not found.*shakespeare"):
        load_corpus("/nonexistent.txt")


def test_tfds_tiny_shakespeare_with_mock_data():
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=1):
        text = load_corpus("tfds:tiny_shakespeare")
    assert isinstance(text, str) and text

