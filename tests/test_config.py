import dataclasses
from pathlib import Path

import pytest
import yaml

from keras_suite.apps.segmentation.config import SegmentationConfig
from keras_suite.config import load_config, parse_value, split_overrides, to_dict
from keras_suite.errors import UserError
from keras_suite.registry import Registry

CONFIGS = Path(__file__).parents[1] / "keras_suite" / "configs" / "segmentation"


def test_defaults_and_overrides():
    cfg = load_config(SegmentationConfig, [],
                      {"train.epochs": "3", "model.filters": "16", "train.learning_rate": "1e-4"})
    assert cfg.train.epochs == 3 and cfg.model.filters == 16 and cfg.train.learning_rate == 1e-4
    assert cfg.data.image_size == SegmentationConfig().data.image_size
    # Section defaults set by the app (not the shared TrainConfig class) survive overrides of that section.
    assert cfg.train.batch_size == SegmentationConfig().train.batch_size == 8
    assert cfg.train.jit_compile is True


def test_yaml_files_merge_in_order_then_overrides(tmp_path):
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text("train: {epochs: 5, batch_size: 4}\nmodel: {depth: 3}\n")
    b.write_text("train: {epochs: 7}\n")
    cfg = load_config(SegmentationConfig, [a, b], {"model.depth": "2"})
    assert (cfg.train.epochs, cfg.train.batch_size, cfg.model.depth) == (7, 4, 2)


def test_value_types():
    cfg = load_config(SegmentationConfig, [], {
        "export.formats": "saved_model,tflite", "data.source": "tfds:oxford_iiit_pet",
        "train.clipnorm": "None", "data.augment": "false", "export.min_agreement": "{'tflite_int8': 0.5}",
        "data.class_names": "['bg', 'cat']", "train.jit_compile": "True"})
    assert cfg.export.formats == ("saved_model", "tflite")
    assert cfg.data.source == "tfds:oxford_iiit_pet"
    assert cfg.train.clipnorm is None and cfg.data.augment is False and cfg.train.jit_compile is True
    assert cfg.export.min_agreement == {"tflite_int8": 0.5}
    assert cfg.data.class_names == ("bg", "cat")


def test_wrong_type_names_key():
    with pytest.raises(UserError, match=r"'train.epochs' expects int, got 'abc'"):
        load_config(SegmentationConfig, [], {"train.epochs": "abc"})
    with pytest.raises(UserError, match="expects float"):
        load_config(SegmentationConfig, [], {"train.learning_rate": "[1]"})


def test_unknown_key_suggests_closest():
    with pytest.raises(UserError, match=r"unknown config key 'train.epoch' \(did you mean 'train.epochs'\?\)"):
        load_config(SegmentationConfig, [], {"train.epoch": "3"})
    with pytest.raises(UserError, match="did you mean 'model.filters'"):
        load_config(SegmentationConfig, [], {"model.filter": "3"})
    with pytest.raises(UserError, match="unknown config key 'nope.x'"):
        load_config(SegmentationConfig, [], {"nope.x": "1"})


def test_unknown_key_in_yaml(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("train:\n  epocs: 3\n")
    with pytest.raises(UserError, match="did you mean 'train.epochs'"):
        load_config(SegmentationConfig, [path])


def test_bad_yaml_files(tmp_path):
    with pytest.raises(UserError, match="config file not found"):
        load_config(SegmentationConfig, [tmp_path / "missing.yaml"])
    bad = tmp_path / "bad.yaml"
    bad.write_text("train: [unclosed\n")
    with pytest.raises(UserError, match="cannot parse config file"):
        load_config(SegmentationConfig, [bad])
    scalar = tmp_path / "scalar.yaml"
    scalar.write_text("train: 3\n")
    with pytest.raises(UserError, match="is a section"):
        load_config(SegmentationConfig, [scalar])


def test_values_are_literals_never_code():
    assert parse_value("__import__('os').system('echo hacked')") == "__import__('os').system('echo hacked')"
    assert parse_value("[1, 2]") == [1, 2] and parse_value("1e-3") == 1e-3 and parse_value("abc") == "abc"
    with pytest.raises(UserError, match="expects int"):
        load_config(SegmentationConfig, [], {"train.seed": "__import__('os').getpid()"})


def test_split_overrides():
    dotted, plain = split_overrides(["train.epochs=2", "run=runs/x", "text=a=b"])
    assert dotted == {"train.epochs": "2"} and plain == {"run": "runs/x", "text": "a=b"}
    with pytest.raises(UserError, match="expected key=value"):
        split_overrides(["epochs"])


@pytest.mark.parametrize("app", ["segmentation", "char_rnn", "seq2seq", "transformer", "face", "detection",
                                 "embeddings", "captioning", "autoencoder"])
def test_shipped_configs_match_the_schema(app):
    from keras_suite.apps import APPS

    schema = APPS.get(app).config_cls
    shipped = yaml.safe_load((CONFIGS.parent / app / "default.yaml").read_text())
    assert shipped == to_dict(schema())
    load_config(schema, [CONFIGS.parent / app / "tiny.yaml"])


def test_tiny_yaml_is_valid_and_resolved_config_round_trips(tmp_path):
    cfg = load_config(SegmentationConfig, [CONFIGS / "tiny.yaml"])
    path = tmp_path / "resolved.yaml"
    path.write_text(yaml.safe_dump(to_dict(cfg)))
    assert load_config(SegmentationConfig, [path]) == cfg
    assert dataclasses.asdict(cfg) != dataclasses.asdict(SegmentationConfig())


def test_registry():
    reg = Registry("widget")
    reg.register("alpha")(1)
    assert reg.get("alpha") == 1 and "alpha" in reg and reg.names() == ["alpha"]
    with pytest.raises(UserError, match="did you mean 'alpha'"):
        reg.get("alpah")
    with pytest.raises(ValueError):
        reg.register("alpha")(2)



def test_a_key_with_control_characters_is_quoted_on_one_line():
    with pytest.raises(UserError) as error:
        load_config(SegmentationConfig, [], {"train.\nepochs": "3"})
    assert "\n" not in str(error.value) and "train.\\nepochs" in str(error.value)


@pytest.mark.parametrize("key, value, message", [
    ("model.encoder", "resnet", "model.encoder must be one of unet, mobilenet_v2, got 'resnet'"),
    ("loss.name", "ce_dise", "(did you mean 'ce_dice'?)"),
    ("data.val_fraction", "1.5", "data.val_fraction must be in [0, 1], got 1.5"),
    ("model.dropout", "1.0", "model.dropout must be in [0, 1), got 1.0"),
    ("train.monitor_mode", "up", "train.monitor_mode must be one of auto, min, max"),
])
def test_settings_declare_their_choices_and_ranges(key, value, message):
    with pytest.raises(UserError) as error:
        load_config(SegmentationConfig, [], {key: value})
    assert message in str(error.value)


def test_checks_that_tie_fields_together_live_with_the_schema():
    from keras_suite.apps.translation.config import TransformerConfig

    with pytest.raises(UserError, match=r"model.dim \(30\) must divide into model.heads \(4\)"):
        load_config(TransformerConfig, [], {"model.dim": "30"})
    assert load_config(TransformerConfig, [], {"train.lr_schedule": "constant"}).train.lr_schedule == "constant"
    with pytest.raises(UserError, match="train.lr_schedule must be one of cosine, constant, got 'transformer'"):
        load_config(SegmentationConfig, [], {"train.lr_schedule": "transformer"})  # only the transformer has it


def test_the_named_choices_are_the_parts_that_exist():
    """Configs read the names from keras_suite.choices (no TensorFlow); each part's table has exactly those."""
    from keras_suite import choices, config
    from keras_suite.data.scenes import KINDS
    from keras_suite.models import char_rnn, seq2seq
    from keras_suite.training.trainer import OPTIMIZERS

    assert (*char_rnn.CELLS, "transformer") == choices.CHAR_CELLS  # the transformer: models/char_transformer.py
    assert tuple(seq2seq.CELLS) == choices.SEQ2SEQ_CELLS
    assert tuple(KINDS) == choices.SCENE_KINDS
    assert tuple(OPTIMIZERS) == config.OPTIMIZERS
