import pytest

from keras_suite.data.sources import Source, parse_source
from keras_suite.errors import UserError


def test_builtin_names_and_prefixed_forms():
    assert parse_source("synthetic", ("synthetic",)) == Source("builtin", "synthetic")
    assert parse_source("tfds:voc/2007", ("synthetic",)) == Source("tfds", "voc/2007")
    assert parse_source("folder: data/pets ", ("synthetic",)) == Source("folder", "data/pets")
    assert parse_source("tsv:fra.txt", ("dates",), ("tfds", "tsv")) == Source("tsv", "fra.txt")


def test_a_bare_path_is_a_file_where_the_app_reads_files(tmp_path):
    path = tmp_path / "pairs.txt"
    path.write_text("a\tb\n")
    assert parse_source(str(path), ("dates",), ("tfds", "tsv")) == Source("tsv", str(path))
    assert parse_source("missing.txt", ("shakespeare",), ("tfds", "file")) == Source("file", "missing.txt")


def test_a_name_close_to_a_builtin_one_is_refused_with_the_closest():
    with pytest.raises(UserError, match=r"unknown data.source 'date' \(did you mean 'dates'\?\); use dates, "
                                        r"numbers, tfds:<name> or tsv:<file>"):
        parse_source("date", ("dates", "numbers"), ("tfds", "tsv"))
    with pytest.raises(UserError, match=r"did you mean 'synthetic'"):
        parse_source("synthetc", ("synthetic",))


@pytest.mark.parametrize("spec, message", [
    ("ftp://x", "unknown data.source 'ftp://x'; use synthetic, tfds:<name> or folder:<dir>"),
    ("tsv:x.txt", "tsv: sources are not read by this app"),
    ("tfds:", "needs a name or path after 'tfds:'"),
])
def test_forms_an_app_does_not_read_are_refused(spec, message):
    with pytest.raises(UserError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_source(spec, ("synthetic",))


def test_every_loader_parses_its_source_with_the_one_parser():
    from keras_suite.data.corpora import load_corpus
    from keras_suite.data.pairs import load_pairs

    with pytest.raises(UserError, match="did you mean 'dates'"):
        load_pairs(source="date")
    with pytest.raises(UserError, match="did you mean 'shakespeare'"):
        load_corpus("shakespear")
