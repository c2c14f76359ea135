import json
import os

import numpy as np
import pytest

from keras_suite.apps.face import database as face_db
from keras_suite.apps.face.database import FaceDatabase
from keras_suite.errors import EnvironmentFailure, UserError


def _unit(rng, n, dim=4):
    x = rng.normal(size=(n, dim))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_round_trip_and_nearest(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "db.json"
    db = FaceDatabase.open(path, 4, "model-a", create=True)
    alice, bob = _unit(rng, 3), _unit(rng, 2)
    db.add("alice", alice, ["a0.jpg", "a1.jpg", "a2.jpg"])
    db.add("bob", bob, ["b0.jpg", "b1.jpg"])
    db.save()
    again = FaceDatabase.open(path, 4, "model-a")
    assert sorted(again.identities) == ["alice", "bob"]
    np.testing.assert_allclose(again.identities["alice"]["embeddings"], alice, atol=1e-6)
    assert again.identities["bob"]["images"] == ["b0.jpg", "b1.jpg"]
    ranked = again.nearest(bob[1] + 1e-3)
    assert ranked[0][0] == "bob" and ranked[0][1] < 1e-4 and ranked[1][0] == "alice"
    again.add("alice", _unit(rng, 1), ["a3.jpg"])  # enrolling again appends
    again.save()
    assert len(FaceDatabase.open(path, 4, "model-a").identities["alice"]["embeddings"]) == 4
    assert [p.name for p in tmp_path.iterdir()] == ["db.json"]  # no temp files left
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # as readable as any file the user writes


@pytest.mark.parametrize("content, message", [
    (b"\x89PNG\r\n\x1a\n\x00\x00binary", "not a keras-suite face database or is damaged"),
    (b'{"some": "other json"}', "not a keras-suite face database"),
    (b"[1, 2, 3]", "not a keras-suite face database"),
    (b"", "not a keras-suite face database or is damaged"),
])
def test_foreign_files_are_refused_and_untouched(tmp_path, content, message):
    path = tmp_path / "db.json"
    path.write_bytes(content)
    with pytest.raises(UserError, match=message):
        FaceDatabase.open(path, 4, "model-a", create=True)
    assert path.read_bytes() == content


def test_damaged_or_other_model_database_is_refused(tmp_path):
    path = tmp_path / "db.json"
    db = FaceDatabase.open(path, 4, "model-a", create=True)
    db.add("alice", _unit(np.random.default_rng(1), 1), ["a.jpg"])
    db.save()
    with pytest.raises(UserError, match="enrolled with another model"):
        FaceDatabase.open(path, 4, "model-b")
    data = json.loads(path.read_text())
    data["identities"]["alice"]["embeddings"][0][0] += 0.5  # an edited number breaks the checksum
    path.write_text(json.dumps(data))
    with pytest.raises(UserError, match="damaged"):
        FaceDatabase.open(path, 4, "model-a")
    with pytest.raises(UserError, match="not found"):
        FaceDatabase.open(tmp_path / "missing.json", 4, "model-a")


def test_a_failed_save_keeps_the_old_database(tmp_path, monkeypatch):
    path = tmp_path / "db.json"
    db = FaceDatabase.open(path, 4, "model-a", create=True)
    db.add("alice", _unit(np.random.default_rng(2), 1), ["a.jpg"])
    db.save()
    before = path.read_bytes()

    def crash(obj, f):  # a disk-full or kill in the middle of writing
        f.write('{"format": "keras-suite-face-db", "identities": {"bo')
        raise OSError("No space left on device")

    monkeypatch.setattr(face_db.json, "dump", crash)
    db.add("bob", _unit(np.random.default_rng(3), 1), ["b.jpg"])
    with pytest.raises(EnvironmentFailure, match=r"cannot write .*db.json: no space left on device"):
        db.save()
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["db.json"]
    assert list(FaceDatabase.open(path, 4, "model-a").identities) == ["alice"]

