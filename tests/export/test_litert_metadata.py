import io
import zipfile

import keras
import numpy as np
import pytest
import tensorflow as tf
from ai_edge_litert import schema_py_generated as schema
from ai_edge_litert.tools import flatbuffer_utils

from keras_suite.export import litert_metadata as litert
from keras_suite.export import tflite
from keras_suite.export.flatbuffer_schema import Schema
from keras_suite.testing import read_litert_metadata

LABELS = ["background", "circle", "square"]


@pytest.fixture(scope="module")
def flatbuffer(tmp_path_factory):
    """A two-input, two-output model converted as the exporter does (inputs and outputs named out of
    alphabetical order, so the subgraph's tensor order is not the signature's)."""
    images = keras.Input((8, 8, 3), dtype="uint8", name="images")
    gain = keras.Input((1,), name="gain")
    x = keras.layers.Conv2D(3, 3, padding="same")(keras.layers.Rescaling(1 / 255)(images))
    x = x * gain[:, :, None, None]
    model = keras.Model([images, gain], [keras.layers.Softmax()(x), keras.layers.Lambda(lambda t: tf.argmax(t, -1))(x)])
    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint("serve", tf.function(
        lambda images, gain: dict(zip(["probabilities", "mask"], model([images, gain]))),
        input_signature=[tf.TensorSpec([1, 8, 8, 3], tf.uint8, name="images"),
                         tf.TensorSpec([1, 1], tf.float32, name="gain")]))
    folder = tmp_path_factory.mktemp("saved")
    archive.write_out(str(folder), verbose=False)
    return tflite.convert(folder)


def _description(**changes):
    base = dict(
        name="keras-suite test", description="a segmenter",
        inputs={"images": litert.image_input(8, "RGB photo"), "gain": litert.feature("a scale", stats=(0, 2))},
        outputs={"probabilities": litert.feature("class probabilities", files=["labels.txt"], stats=(0, 1)),
                 "mask": {**litert.image_output("class index", "GRAYSCALE", (0, 2)),
                          "associated_files": [{"name": "labels.txt", "type": "TENSOR_VALUE_LABELS"}]}},
        files={"labels.txt": (litert.text_file(LABELS), {"description": "class names", "type": "TENSOR_AXIS_LABELS"}),
               "vocab.txt": (litert.vocabulary_file(["a", "\n", "\\"]), {"type": "VOCABULARY"})},
        version="2026-11-30_12-00-00", author="keras-suite", license="Apache-2.0")
    return litert.Description(**{**base, **changes})


def test_the_packed_file_runs_exactly_as_before_and_says_what_it_is(flatbuffer, tmp_path):
    packed = litert.pack(flatbuffer, _description())
    path = tmp_path / "model.tflite"
    path.write_bytes(packed)
    sample = {"images": np.random.default_rng(0).integers(0, 256, (1, 8, 8, 3)).astype(np.uint8),
              "gain": np.array([[1.5]], np.float32)}
    before, after = tflite.Runner(flatbuffer)(**sample), tflite.Runner(packed)(**sample)
    assert set(before) == set(after) == {"probabilities", "mask"}
    for name in before:
        np.testing.assert_array_equal(after[name], before[name])
    assert tflite.interpreter(packed).get_signature_list() == tflite.interpreter(flatbuffer).get_signature_list()

    metadata, files = read_litert_metadata(path)
    assert metadata["name"] == "keras-suite test" and metadata["version"] == "2026-11-30_12-00-00"
    assert metadata["author"] == "keras-suite" and metadata["license"] == "Apache-2.0"
    assert metadata["min_parser_version"] == "1.0.1"  # the VOCABULARY file type came in 1.0.1
    (subgraph,) = metadata["subgraph_metadata"]
    model = schema.Model.GetRootAs(packed, 0)
    signature, graph = model.SignatureDefs(0), model.Subgraphs(0)
    for which, described in (("Inputs", subgraph["input_tensor_metadata"]),
                             ("Outputs", subgraph["output_tensor_metadata"])):
        names = {getattr(signature, which)(i).TensorIndex(): getattr(signature, which)(i).Name().decode()
                 for i in range(getattr(signature, f"{which}Length")())}
        order = [names[getattr(graph, which)(i)] for i in range(getattr(graph, f"{which}Length")())]
        assert [t["name"] for t in described] == order  # the metadata follows the subgraph's tensor order
    images = next(t for t in subgraph["input_tensor_metadata"] if t["name"] == "images")
    assert images["content"]["content_properties"] == {"color_space": "RGB", "default_size": {"width": 8, "height": 8}}
    assert images["process_units"][0]["options"] == {"mean": [0.0], "std": [1.0]}
    mask = next(t for t in subgraph["output_tensor_metadata"] if t["name"] == "mask")
    assert mask["associated_files"] == [{"name": "labels.txt", "description": "class names",
                                         "type": "TENSOR_VALUE_LABELS"}]
    assert metadata["associated_files"] == [{"name": "vocab.txt", "type": "VOCABULARY"}]
    assert files == {"labels.txt": b"background\ncircle\nsquare\n", "vocab.txt": b"a\n\\n\n\\\\\n"}


def test_packing_again_replaces_the_metadata_and_weights_stay_aligned(flatbuffer):
    once = litert.pack(flatbuffer, _description())
    twice = litert.pack(once, _description(name="renamed", files={}, outputs={
        "probabilities": litert.feature("p"), "mask": litert.feature("m")}))
    model = schema.ModelT.InitFromPackedBuf(twice, 0)
    assert [m.name for m in model.metadata].count(b"TFLITE_METADATA") == 1
    assert not zipfile.is_zipfile(io.BytesIO(twice))  # the old zip went with the old metadata
    raw, base = schema.Model.GetRootAs(twice, 0), np.frombuffer(twice, np.uint8).ctypes.data
    for i in range(raw.BuffersLength()):
        if raw.Buffers(i).DataLength():
            assert (raw.Buffers(i).DataAsNumpy().ctypes.data - base) % 16 == 0
    assert litert.pack(flatbuffer, _description()) == once  # the same bytes every time


@pytest.mark.parametrize("changes, message", [
    ({"inputs": {"images": litert.image_input(8, "RGB photo")}}, "the model's tensors are"),
    ({"files": {}}, "labels.txt"),
])
def test_a_description_that_does_not_fit_the_model_is_refused(flatbuffer, changes, message):
    with pytest.raises(ValueError, match=message):
        litert.pack(flatbuffer, _description(**changes))


def test_the_encoder_writes_what_the_reference_compiler_reads(tmp_path):
    """Every kind of element the schema has (tables, unions, enums, vectors of scalars, strings and tables) comes
    back from flatc as given, and the minimum parser version is the newest element used."""
    tensor = {"name": "boxes", "description": "d", "dimension_names": ["batch", "box", "side"],
              "content": {"content_properties_type": "BoundingBoxProperties",
                          "content_properties": {"index": [1, 0, 3, 2], "type": "BOUNDARIES",
                                                 "coordinate_type": "RATIO"},
                          "range": {"min": 2, "max": 2}},
              "process_units": [{"options_type": "ScoreThresholdingOptions",
                                 "options": {"global_score_threshold": 0.25}}],
              "stats": {"max": [1.0], "min": [0.0]}}
    meta = {"name": "m", "subgraph_metadata": [{"output_tensor_metadata": [tensor],
                                                "output_tensor_groups": [{"name": "g", "tensor_names": ["boxes"]}]}],
            "min_parser_version": "1.2.0"}
    data, version = litert.SCHEMA.encode(meta)
    assert version == (1, 2, 0)  # tensor groups came in 1.2.0
    path = tmp_path / "m.tflite"  # a model holding nothing but this metadata
    builder_model = schema.ModelT()
    builder_model.version, builder_model.buffers = 3, [schema.BufferT()]
    builder_model.buffers[0].data = np.frombuffer(data, np.uint8)
    entry = schema.MetadataT()
    entry.name, entry.buffer = b"TFLITE_METADATA", 0
    builder_model.metadata = [entry]
    path.write_bytes(bytes(flatbuffer_utils.convert_object_to_bytearray(builder_model)))
    read, files = read_litert_metadata(path)
    assert read == meta and files == {}


def test_the_schema_reader_refuses_what_it_cannot_encode():
    schema_ = Schema('file_identifier "TEST"; table T { a:int; } root_type T;')
    with pytest.raises(KeyError, match="T has no field b"):
        schema_.encode({"b": 1})
    with pytest.raises(ValueError, match="structs are not supported"):
        Schema('file_identifier "TEST"; struct S { a:int; } root_type S;')
