import json

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from keras_suite.data.faces import face_images
from keras_suite.export import tflite
from keras_suite.testing import assert_export_parity

pytestmark = pytest.mark.slow
ALL_FORMATS = ["saved_model", "tflite", "tflite_fp16", "tflite_int8", "tflite_int8_full"]


@pytest.fixture(scope="module")
def face_run(trained):
    return trained("face")


@pytest.fixture(scope="module")
def people(tmp_path_factory):
    """Folders of face photos (80 px, larger than the model's 32: the CLI crops and resizes) of two new people."""
    root = tmp_path_factory.mktemp("people")
    for identity in (900001, 900002):
        (root / str(identity)).mkdir()
        for i, image in enumerate(face_images(identity, 3, size=80, seed=5)):
            Image.fromarray(image).save(root / str(identity) / f"{i}.jpg")
    return root


def test_train_writes_threshold_projector_and_statistics(face_run):
    for name in ("model.keras", "verification.json", "metrics.json", "previews/roc_val.png",
                 "logs/projector/projector_config.pbtxt", "logs/projector/metadata.tsv", "logs/projector/sprite.png",
                 "previews/roc_epoch001.png", "previews/roc_epoch002.png"):
        assert (face_run / name).is_file(), name
    assert list((face_run / "logs" / "verification").glob("events.out.tfevents*"))  # the ROC image each epoch
    saved = json.loads((face_run / "verification.json").read_text())
    assert saved["threshold"] > 0 and set(saved["platt"]) == {"a", "b"}
    final = json.loads((face_run / "metrics.json").read_text())["final"]
    for key in ("active_triplets", "positive_distance", "negative_distance", "val_verification_accuracy", "val_auc",
                "val_tar_at_far", "val_active_triplets"):
        assert key in final, key
    assert 0 <= final["active_triplets"] <= 1
    labels = (face_run / "logs/projector/metadata.tsv").read_text().splitlines()
    assert len(labels) == 16 and all(name.startswith("synthetic-") for name in labels)


def test_evaluate_reports_ten_fold_scores(cli, face_run):
    code, out, err = cli("face", "evaluate", f"run={face_run}")
    assert code == 0, err
    assert "2-fold accuracy" in out and "TAR@FAR=0.001" in out
    scores = json.loads((face_run / "eval_test.json").read_text())
    assert scores["pairs"] == 40 and len(scores["folds"]) == 2 and 0 <= scores["auc"] <= 1
    assert "tar_at_far_0.001" in scores and set(scores["at_saved_threshold"]) == {"accuracy", "far", "frr", "tar"}
    assert (face_run / "previews" / "roc_test.png").is_file()


def test_verify_same_image_is_the_same_person(cli, face_run, people):
    image = people / "900001" / "0.jpg"
    code, out, err = cli("face", "verify", f"run={face_run}", f"a={image}", f"b={image}")
    assert code == 0, err
    assert out.startswith("distance 0.0000") and "same person" in out
    assert float(out.split("P(same person) ")[1]) >= 0.5  # the probability agrees with the verdict


def test_enroll_and_identify_round_trip(cli, face_run, people, tmp_path):
    db = tmp_path / "people.json"
    for identity in ("900001", "900002"):
        code, _, err = cli("face", "enroll", f"run={face_run}", f"identity=p{identity}",
                           f"images={people / identity}", f"db={db}")
        assert code == 0, err
    stored = json.loads(db.read_text())
    assert sorted(stored["identities"]) == ["p900001", "p900002"]
    code, out, _ = cli("face", "identify", f"run={face_run}", f"image={people / '900002' / '1.jpg'}",
                       f"db={db}")
    assert code == 0 and "nearest 'p900002' at distance 0.0000" in out  # an enrolled photo is its own nearest

    before = db.read_bytes()
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8 truncated")
    blank = tmp_path / "blank.png"
    Image.fromarray(np.full((40, 40, 3), 128, np.uint8)).save(blank)
    empty = tmp_path / "empty"
    empty.mkdir()
    for images, message in [(f"{people / '900001' / '0.jpg'},{bad}", "cannot read image"),
                            (str(blank), "has no content"), (str(empty), "no images"),
                            (str(tmp_path / "missing.jpg"), "image not found")]:
        code, _, err = cli("face", "enroll", f"run={face_run}", "identity=x", f"images={images}", f"db={db}")
        assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
        assert db.read_bytes() == before  # a failed enroll leaves the database as it was


def test_foreign_database_is_refused_untouched(cli, face_run, people, tmp_path):
    foreign = tmp_path / "notes.json"
    foreign.write_text('{"todo": ["buy milk"]}')
    photo = people / "900001" / "0.jpg"
    for command, arg in (("enroll", f"images={photo}"), ("identify", f"image={photo}")):
        extra = ["identity=x"] if command == "enroll" else []
        code, _, err = cli("face", command, f"run={face_run}", arg, f"db={foreign}", *extra)
        assert code == 2 and "not a keras-suite face database" in err
    assert foreign.read_text() == '{"todo": ["buy milk"]}'


def test_pk_config_the_data_cannot_fill_is_refused(cli, tmp_path):
    code, _, err = cli("face", "train", "--config", "tiny", f"train.runs_dir={tmp_path}", "data.k=6")
    assert code == 2 and "has 4 image(s) but the P x K batch needs K=6" in err
    assert not (tmp_path / "face").exists() or not any((tmp_path / "face").iterdir())


def test_export_parity_by_cosine(cli, face_run, tmp_path):
    code, out, err = cli("face", "export", f"run={face_run}", f"export.out_dir={tmp_path}",
                         f"formats={','.join(ALL_FORMATS)}", "name=tiny")
    assert code == 0, err
    assert "min_cosine" in out
    target = tmp_path / "face" / "tiny"
    report = json.loads((target / "parity.json").read_text())
    assert_export_parity(report, ALL_FORMATS)
    assert report["formats"]["tflite"]["min_cosine"] > 0.9999 and report["formats"]["tflite_int8"]["min_cosine"] > 0.97
    # integers only: the L2 normalization is one integer op, so no float op is left
    assert report["formats"]["tflite_int8_full"]["min_cosine"] > 0.97
    assert json.loads((target / "compat.json").read_text())["model_int8_full.tflite"]["targets"]["full_int8"][
        "supported"] == "yes"
    assert "photo_min_cosine" in report["formats"]["tflite_int8"]
    meta = json.loads((target / "metadata.json").read_text())
    assert meta["verification"]["threshold"] == json.loads((face_run / "verification.json").read_text())["threshold"]

    # The SavedModel takes uint8 crops of any size and gives unit embeddings equal to the Keras model's.
    loaded = tf.saved_model.load(str(target / "saved_model"))
    photo = face_images(900003, 1, size=70, seed=2)
    embedding = loaded.signatures["serving_default"](images=tf.constant(photo))["embedding"].numpy()
    assert embedding.shape == (1, 16)
    np.testing.assert_allclose(np.linalg.norm(embedding), 1.0, atol=1e-5)
    for name in ("model.tflite", "model_int8.tflite"):
        flatbuffer = (target / name).read_bytes()
        assert tflite.non_builtin_ops(flatbuffer) == []
        out = tflite.Runner(flatbuffer)(images=face_images(900003, 1, size=32, seed=2))
        assert out["embedding"].shape == (1, 16)

