import collections
import datetime

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_suite.data.dates import date_pairs
from keras_suite.data.numbers import number_pairs
from keras_suite.data.pairs import encode_pairs, load_pairs, pair_dataset, read_tsv
from keras_suite.data.tokenizer import END_ID, START_ID, UNK_ID, Tokenizer
from keras_suite.data.wordpiece import learn_pieces, split_word, split_words
from keras_suite.errors import UserError


def test_dates_are_deterministic_iso_and_unambiguous():
    pairs = date_pairs(4000, seed=3)
    assert pairs == date_pairs(4000, seed=3) and pairs != date_pairs(4000, seed=4)
    targets = collections.defaultdict(set)
    for source, target in pairs:
        day = datetime.date.fromisoformat(target)
        assert datetime.date(1950, 1, 1) <= day <= datetime.date(2049, 12, 31)
        targets[source.lower()].add(target)
    assert all(len(t) == 1 for t in targets.values())  # one reading per (lower-cased) source
    assert len({s for s, _ in pairs}) > 3000  # many distinct surface forms


@pytest.mark.parametrize("source", ["dates", "numbers"])
def test_embedded_splits_hold_out_unseen_sources(source):
    train, val, test = load_pairs(source=source, train_examples=500, val_examples=50, test_examples=50)
    assert len(train) == 500 and len(val) == 50 and len(test) == 50
    seen = {s for s, _ in train}
    assert not seen & {s for s, _ in val + test}
    assert len({s for s, _ in val + test}) == 100


def test_numbers_to_words_in_four_languages():
    pairs = number_pairs(400, seed=0)
    assert pairs == number_pairs(400, seed=0)
    assert {s.split()[0] for s, _ in pairs} == {"en", "fr", "de", "es"}
    from num2words import num2words

    for source, target in pairs[:50]:
        lang, number = source.split(" ", 1)
        assert target == num2words(int(number.replace(",", "")), lang=lang)


def test_char_tokenizer_ids_and_round_trip():
    tok = Tokenizer.from_texts(["abc", "abd"], level="char")
    assert tok.tokens == ("a", "b", "c", "d") and tok.size == 8  # most frequent first, ids from 4
    ids = tok.encode(tf.constant(["Ab  c", "z"])).to_list()
    assert ids == [[4, 5, UNK_ID, 6], [UNK_ID]]  # lower-cased, spaces collapsed (a space is not in this vocabulary)
    padded = np.array([[4, 5, END_ID, 6, 0], [START_ID, 6, 0, 0, 0]], np.int32)
    assert [t.decode() for t in tok.decode(padded).numpy()] == ["ab", "c"]
    again = Tokenizer.from_json(tok.to_json())
    assert again.tokens == tok.tokens and again.level == "char"


def test_word_tokenizer_splits_punctuation():
    tok = Tokenizer.from_texts(["Hello, world!", "hello there."], level="word")
    assert tok.split(tf.constant(["Hello, wörld!"])).to_list() == [[b"hello", b",", "wörld".encode(), b"!"]]
    ids = tok.encode(tf.constant(["hello world"]))
    assert tok.decode(ids.to_tensor()).numpy()[0] == b"hello world"
    assert tok.unknown("hello mars") == ["mars"]


def _german_numbers():
    from num2words import num2words

    return [num2words(n, lang="de") for n in range(0, 5000, 3)]


def test_wordpieces_in_the_graph_are_the_python_reference():
    """split_words (TensorFlow string ops, in a tf.function) gives split_word's pieces for every word: seen ones,
    unseen compounds, characters no piece has, over-long words."""
    pieces = learn_pieces(_german_numbers(), 300)
    assert {"a", "##a", "ü", "##ü"} <= set(pieces) and len(pieces) > 200
    lookup = keras.layers.StringLookup(vocabulary=pieces, mask_token="", oov_token="[UNK]")
    longest = max(len(p.removeprefix("##")) for p in pieces)
    words = ["achthundertzwei", "neunundneunzigtausendneunhundertneunundneunzig", "zwei", "x", "qé€", "a" * 101,
             "z" * 100, "dreitausend", "ß"]
    split = tf.function(lambda w: split_words(w, lookup, UNK_ID, longest, "[UNK]"))
    got = [[p.decode() for p in row] for row in split(tf.constant(words)).to_list()]
    assert got == [split_word(w, set(pieces), "[UNK]") for w in words]
    assert got[4] == got[5] == ["[UNK]"] and len(got[6]) == 100 and "".join(got[1]).replace("##", "") == words[1]
    assert split(tf.constant([], tf.string)).to_list() == []


def test_subword_tokenizer_covers_words_it_never_saw():
    texts = [f"{w} euro!" for w in _german_numbers()]
    tok = Tokenizer.from_texts(texts, level="subword", max_tokens=300)
    word = Tokenizer.from_texts(texts, level="word")
    unseen = "neuntausendsiebenhundertdreiundachtzig Euro!"  # above every number in training
    assert word.unknown(unseen) == ["neuntausendsiebenhundertdreiundachtzig"]
    assert tok.unknown(unseen) == [] and UNK_ID not in tok.encode(tf.constant([unseen])).to_list()[0]
    ids = tok.encode(tf.constant([unseen, "zwei"]))
    assert len(ids.to_list()[0]) > 3  # pieces, not a word
    decoded = [t.decode() for t in tok.decode(ids.to_tensor()).numpy()]
    assert decoded == ["neuntausendsiebenhundertdreiundachtzig euro !", "zwei"]
    assert tok.unknown("zwei €uro") == ["€"]  # a symbol is a word of its own, and no piece covers it
    again = Tokenizer.from_json(tok.to_json())
    assert again.level == "subword" and again.encode(tf.constant([unseen])).to_list() == ids.to_list()[:1]
    dataset = tf.data.Dataset.from_tensor_slices([unseen, "zwei"]).batch(2).map(tok.encode)
    assert next(iter(dataset)).to_list() == ids.to_list()  # the same inside a tf.data graph


def test_tsv_reader_names_bad_lines(tmp_path):
    good = tmp_path / "good.tsv"
    good.write_text("Go.\tVa !\tCC-BY 2.0 (France) Attribution: tatoeba.org\n\nHi.\tSalut !\n", encoding="utf-8")
    assert read_tsv(good) == [("Go.", "Va !"), ("Hi.", "Salut !")]
    bad = tmp_path / "bad.tsv"
    bad.write_text("Go.\tVa !\nno tab here\n")
    with pytest.raises(UserError, match=r"bad.tsv:2: expected 'source<TAB>target'"):
        read_tsv(bad)
    empty_side = tmp_path / "empty.tsv"
    empty_side.write_text("Go.\t \n")
    with pytest.raises(UserError, match=r"empty.tsv:1: empty target"):
        read_tsv(empty_side)
    binary = tmp_path / "latin1.tsv"
    binary.write_bytes("a\tb\ncaf\xe9\tx\n".encode("latin-1"))
    with pytest.raises(UserError, match=r"latin1.tsv:2: not valid UTF-8"):
        read_tsv(binary)
    with pytest.raises(UserError, match="not found"):
        read_tsv(tmp_path / "missing.tsv")


def test_tsv_source_is_split_three_ways(tmp_path):
    path = tmp_path / "pairs.tsv"
    path.write_text("".join(f"s{i}\tt{i}\n" for i in range(100)))
    train, val, test = load_pairs(source=f"tsv:{path}", val_fraction=0.1, test_fraction=0.1)
    assert (len(train), len(val), len(test)) == (80, 10, 10)
    assert len({*train, *val, *test}) == 100


def test_tfds_ted_hrlr_with_mock_data():
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=3):
        train, val, test = load_pairs(source="tfds:ted_hrlr_translate/pt_to_en")
    assert len(train) == 3 and all(isinstance(s, str) and isinstance(t, str) for s, t in train + val + test)


def test_pair_dataset_shifts_targets_and_pads():
    src_tok = Tokenizer(list("abc"))
    tgt_tok = Tokenizer(list("xyz"))
    source_ids, target_ids = encode_pairs([("ab", "xyz"), ("c", "y")], src_tok, tgt_tok)
    (source, target_in), target_out = next(iter(pair_dataset(source_ids, target_ids, 2)))
    x, y, z = (tgt_tok.tokens.index(c) + 4 for c in "xyz")
    assert target_in.numpy().tolist() == [[START_ID, x, y, z], [START_ID, y, 0, 0]]
    assert target_out.numpy().tolist() == [[x, y, z, END_ID], [y, END_ID, 0, 0]]
    assert source.numpy().tolist() == [[4, 5], [6, 0]]

