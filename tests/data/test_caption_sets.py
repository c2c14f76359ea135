import numpy as np
import pytest
import tensorflow as tf

from keras_suite.data.caption_sets import caption_dataset, load_captions, read_captions_tsv, reference_ids
from keras_suite.data.tokenizer import END_ID, START_ID, Tokenizer
from keras_suite.errors import UserError
from keras_suite.visuals.images import write_png


def test_reference_ids_end_each_caption_and_cut_long_ones():
    tok = Tokenizer(["a", "red", "circle", "two"], "word")
    ids, counts = reference_ids(tok, [["a red circle", "red circle"], ["two red red red circle"]], 3)
    assert ids.shape == (2, 2, 4) and counts.tolist() == [2, 1]  # as long as the longest (cut) caption
    assert ids[0, 0].tolist() == [4, 5, 6, END_ID] and ids[0, 1].tolist() == [5, 6, END_ID, 0]
    assert ids[1, 0].tolist() == [7, 5, 5, END_ID] and not ids[1, 1].any()
    assert reference_ids(tok, [["a red"], ["circle"]], 10)[0].shape == (2, 1, 3)


def test_the_training_stream_draws_every_reference_and_shifts_it_by_the_start_token():
    tok = Tokenizer(["a", "b", "c"], "word")
    ids, counts = reference_ids(tok, [["a", "b", "c"]], 2)
    images = np.zeros((1, 8, 8, 3), np.uint8)
    seen = set()
    for (image, target_in), target_out in caption_dataset(images, ids, counts, 1, training=True).repeat(30):
        assert image.dtype == tf.float32 and target_in[0, 0] == START_ID
        assert target_out[0, 1] == END_ID and target_in[0, 1] == target_out[0, 0]
        seen.add(int(target_out[0, 0]))
    assert seen == {4, 5, 6}
    (_, _), first = next(iter(caption_dataset(images, ids, counts, 1)))
    assert int(first[0, 0]) == 4  # validation: always the first reference


def test_folder_source_reads_a_captions_tsv_and_refuses_what_it_cannot_use(tmp_path):
    rng = np.random.default_rng(0)
    lines = []
    for i in range(6):
        write_png(tmp_path / f"p{i}.png", rng.integers(0, 255, (30 + i, 40, 3), np.uint8))
        lines += [f"p{i}.png\tphoto number {i}", f"p{i}.png\tanother caption {i}"]
    (tmp_path / "captions.tsv").write_text("\n".join(lines) + "\n")
    train, val, test = load_captions(f"folder:{tmp_path}", image_size=16, val_fraction=0.2, test_fraction=0.2)
    assert (len(train), len(val), len(test)) == (4, 1, 1)
    assert train.images.shape == (4, 16, 16, 3) and train.images.dtype == np.uint8
    assert all(len(refs) == 2 for refs in train.references)
    (tmp_path / "captions.tsv").write_text("p0.png\tfine\nmissing.png\tnot there\n")
    with pytest.raises(UserError, match="missing.png"):
        load_captions(f"folder:{tmp_path}", image_size=16)
    (tmp_path / "bad.tsv").write_text("p0.png\n")
    with pytest.raises(UserError, match="line 1"):
        read_captions_tsv(tmp_path / "bad.tsv")
    with pytest.raises(UserError, match="captions.tsv"):
        load_captions(f"folder:{tmp_path / 'nothing'}")


def test_tfds_coco_captions_with_mock_data():
    tfds = pytest.importorskip("tensorflow_datasets")
    with tfds.testing.mock_data(num_examples=3):
        train, val, test = load_captions("tfds:coco_captions", image_size=24, num_train=2, num_val=1, num_test=1)
    assert train.images.shape == (2, 24, 24, 3) and len(val) == 1 and len(test) == 1
    assert all(isinstance(c, str) for refs in train.references for c in refs)
