"""The enrollment database of `face enroll` / `face identify`: one JSON file of named embeddings.

The file carries a format tag, the embedding size, a fingerprint of the model that produced the
embeddings and a SHA-256 checksum of its content. A file that is not ours, is damaged, or was
enrolled with another model is refused. Every write goes to a temporary file in the same folder,
is flushed to disk and renamed over the old file, so a failed or killed enroll leaves the old
database intact.
"""

import hashlib
import json
from pathlib import Path

import numpy as np

from keras_suite.errors import UserError
from keras_suite.files import replacing, sweep

FORMAT = "keras-suite-face-db"
VERSION = 1


def model_fingerprint(path):
    """SHA-256 of a model file (the run's model.keras): embeddings of different models don't compare."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _checksum(body):
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


class FaceDatabase:
    """Named embeddings: {identity: {"embeddings": [[...], ...], "images": [source, ...]}}."""

    def __init__(self, path, dim, model):
        self.path, self.dim, self.model = Path(path), int(dim), model
        self.identities = {}

    @classmethod
    def open(cls, path, dim, model, create=False):
        """Load `path` (or start an empty database when it does not exist and `create`)."""
        path = Path(path)
        if not path.exists():
            if create:
                return cls(path, dim, model)
            raise UserError(f"face database not found: {path}; enroll someone first with face enroll")
        try:
            data = json.loads(path.read_bytes().decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, OSError) as e:
            raise UserError(f"{path} is not a keras-suite face database or is damaged ({type(e).__name__}); "
                            f"it was left untouched") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise UserError(f"{path} is not a keras-suite face database (no '{FORMAT}' tag); it was left untouched")
        body = {k: v for k, v in data.items() if k != "checksum"}
        if data.get("version") != VERSION or data.get("checksum") != _checksum(body):
            raise UserError(f"face database {path} is damaged (checksum mismatch or unknown version); "
                            f"it was left untouched")
        if data["dim"] != dim or data["model"] != model:
            raise UserError(f"face database {path} was enrolled with another model (dim {data['dim']}, model "
                            f"{data['model'][:12]}); use that run or enroll into a new database")
        db = cls(path, dim, model)
        db.identities = data["identities"]
        return db

    def add(self, name, embeddings, sources):
        embeddings = np.asarray(embeddings, np.float64)
        entry = self.identities.setdefault(name, {"embeddings": [], "images": []})
        entry["embeddings"] += [[round(float(v), 7) for v in e] for e in embeddings]
        entry["images"] += [str(s) for s in sources]

    def save(self):
        body = {"format": FORMAT, "version": VERSION, "dim": self.dim, "model": self.model,
                "identities": self.identities}
        sweep(self.path.parent)  # what killed enrolls left
        with replacing(self.path, sync=True) as tmp, open(tmp, "w") as f:
            json.dump({**body, "checksum": _checksum(body)}, f)

    def nearest(self, embedding):
        """[(identity, smallest squared distance to its enrolled embeddings)], nearest first."""
        if not self.identities:
            raise UserError(f"face database {self.path} has no identities; enroll someone first")
        embedding = np.asarray(embedding, np.float64)
        rows = [(name, float(np.min(np.sum((np.asarray(e["embeddings"]) - embedding) ** 2, axis=1))))
                for name, e in self.identities.items()]
        return sorted(rows, key=lambda r: r[1])
