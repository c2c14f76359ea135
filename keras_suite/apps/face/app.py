"""Face verification with a triplet-loss embedding: train, evaluate (LFW-style 10-fold pairs, ROC),
verify, enroll, identify (an atomic enrollment database) and export (uint8 crops -> embedding). Photos go
through face detection first (`data.detect`, `keras_suite.apps.face.detect`) for runs trained on photos."""

import dataclasses
import itertools
import json
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from keras_suite import export as exporting
from keras_suite.apps.attack import AttackTask
from keras_suite.apps.base import App, Headline, report_value
from keras_suite.apps.face.config import SPEC
from keras_suite.apps.face.database import FaceDatabase, model_fingerprint
from keras_suite.apps.face.detect import SEARCH_SIDE, FaceFinder, crop_face, detecting
from keras_suite.config import arguments
from keras_suite.data.face_pairs import verification_pairs
from keras_suite.data.face_splits import drop_small_identities, load_faces, prepare_faces
from keras_suite.data.photos import export_photos
from keras_suite.data.pk_sampler import check_pk, pk_dataset, pk_indices
from keras_suite.errors import UserError
from keras_suite.export import litert_metadata as litert
from keras_suite.files import write_json
from keras_suite.losses import TripletLoss
from keras_suite.metrics import TripletStatistic
from keras_suite.metrics import verification as scoring
from keras_suite.metrics.triplet_statistic import STATISTICS
from keras_suite.models.embedding import build_embedding
from keras_suite.training.trainer import fit
from keras_suite.visuals.images import input_images, read_rgb, write_png
from keras_suite.visuals.overlay import draw_boxes
from keras_suite.visuals.plots import verification_figure
from keras_suite.visuals.projector import write_projector

VERIFICATION_FILE = "verification.json"  # the run's decision threshold and Platt confidence


def build(cfg):
    model = build_embedding(cfg.data.image_size, **dataclasses.asdict(cfg.model))
    triplet = TripletLoss(**dataclasses.asdict(cfg.loss))
    return model, triplet, [TripletStatistic(s, cfg.loss.margin) for s in STATISTICS]


def finder(cfg):
    """The face detector `data.detect` asks for, or None (images are face crops already)."""
    d = cfg.data
    return FaceFinder(d.min_face, neighbours=d.detect_neighbours) if detecting(d.detect, d.source) else None


def load_data(cfg, **counts):
    """The face splits of `data.source`; `counts` (identities=...) replace the configured synthetic sizes. Photos
    are cropped to their largest face when detecting (a photo without one is used whole, and counted)."""
    found = finder(cfg)
    if found is None:
        return load_faces(**arguments(cfg.data, load_faces, **counts))
    missed = []

    def align(image):
        faces = found.find(np.asarray(image))
        if not faces:
            missed.append(1)
            return image
        return crop_face(np.asarray(image), faces[0], cfg.data.margin)

    splits = load_faces(**arguments(cfg.data, load_faces, align=align, **counts))
    total = sum(len(s.labels) for s in splits)
    print(f"data: faces found and cropped (margin {cfg.data.margin:g}) in {total - len(missed):,} of {total:,} photos; "
          f"the others are used whole")
    return splits


def embed(model, images, batch_size=256):
    """Unit embeddings (N, dim) of uint8 / float face crops at the model's size."""
    return model.predict(np.asarray(images, np.float32), batch_size=batch_size, verbose=0)


def distances(embeddings, first, second):
    """Squared euclidean distance of each pair (2 - 2 cos for unit embeddings)."""
    return np.sum((embeddings[first] - embeddings[second]) ** 2, axis=-1)


def val_batches(split, p, k, steps, seed):
    """A fixed, finite set of P x K batches from the validation identities (for val_loss and its statistics)."""
    split, _ = drop_small_identities(split, k)
    p = min(p, len(split.names))
    check_pk(split.labels, p, k, split.names)
    index = np.stack(list(itertools.islice(pk_indices(split.labels, p, k, seed), steps)))
    return tf.data.Dataset.from_tensor_slices((split.images[index].astype(np.float32), split.labels[index]))


class VerificationMonitor(keras.callbacks.Callback):
    """Each epoch: 10-fold verification accuracy, AUC and TAR@FAR on pairs of validation identities, added to
    the epoch logs as val_verification_accuracy, val_auc and val_tar_at_far; the ROC and pair-distance
    histograms go to TensorBoard (Images) and `previews/roc_epoch<N>.png`."""

    def __init__(self, split, pairs, far_target, batch_size, run):
        super().__init__()
        self.images, self.pairs, self.far_target, self.batch_size = split.images, pairs, far_target, batch_size
        self.run = run
        self.writer = tf.summary.create_file_writer(str(run.log_dir("verification")))

    def on_epoch_end(self, epoch, logs=None):
        first, second, same, folds = self.pairs
        d = distances(embed(self.model, self.images, self.batch_size), first, second)
        far, tar, _ = scoring.roc_curve(d, same)
        result = scoring.kfold_verification(d, same, folds)
        area = scoring.auc(far, tar)
        if logs is not None:
            logs["val_verification_accuracy"] = result["accuracy"]
            logs["val_auc"] = area
            logs["val_tar_at_far"] = scoring.tar_at_far(far, tar, self.far_target)
        picture = verification_figure(far, tar, area, d, same, result["threshold"], f"(validation, epoch {epoch + 1})")
        write_png(self.run.preview(f"roc_epoch{epoch + 1:03d}.png"), picture)
        with self.writer.as_default():
            tf.summary.image("roc", picture[None], step=epoch + 1)
        self.writer.flush()


def _photo(path, cfg):
    image = read_rgb(path, cfg.data.max_pixels)
    if image.size == 0 or image.min() == image.max():
        raise UserError(f"image {path} has no content (every pixel is the same colour)")
    return image


def _faces_in(path, image, found, cfg):
    """The faces `found` finds in the photo, largest first ([None]: the photo is the face); none is an error."""
    if found is None:
        return [None]
    faces = found.find(image)
    if not faces:
        raise UserError(f"no face found in {path} (frontal faces of {cfg.data.min_face} px and more, searched at "
                        f"{SEARCH_SIDE} px at most; data.detect=none takes the image as a face crop)")
    return faces


def _prepared(image, face, cfg):
    """A face (or the whole image for None) at the model's size, float32."""
    crop = image if face is None else crop_face(image, face, cfg.data.margin)
    return prepare_faces(crop[None], cfg.data.image_size, cfg.data.crop).numpy()[0]


def _read_faces(paths, cfg):
    """The largest face of each photo (the photo itself without detection) at the model's size (float32); a blank
    image, or a photo without a face when detecting, is refused."""
    found, faces = finder(cfg), []
    for path in paths:
        image = _photo(path, cfg)
        found_faces = _faces_in(path, image, found, cfg)
        if len(found_faces) > 1:
            f = found_faces[0]
            print(f"{path}: {len(found_faces)} faces found; using the largest ({f.w}x{f.h} at {f.x},{f.y})")
        faces.append(_prepared(image, found_faces[0], cfg))
    return np.stack(faces)


def _flip(images, seed, step):
    """Mirror each image with probability 1/2, drawn from (seed, batch number): the same on every run."""
    return tf.image.stateless_random_flip_left_right(images, tf.stack([tf.cast(seed, tf.int64), step]))


def _image_paths(spec):
    """Paths from `a.jpg,b.jpg` or a folder of images."""
    spec = str(spec)
    if Path(spec).is_dir():
        return input_images(spec)
    paths = [Path(p.strip()) for p in spec.split(",") if p.strip()]
    if not paths:
        raise UserError("images= is empty; give image paths separated by commas or a folder")
    return paths


class FaceApp(App):
    spec = SPEC

    def train(self, cfg, args):
        d, tc, vc = cfg.data, cfg.train, cfg.verify
        splits = load_data(cfg)
        check_pk(splits.train.labels, d.p, d.k, splits.train.names)
        if cfg.model.backbone == "mobilenet" and tc.jit_compile and not tf.config.list_physical_devices("GPU"):
            # Measured: XLA makes this CPU's depthwise convolutions about 9x slower (1.19 vs 0.13 s/step).
            print("note: train.jit_compile set to false for the mobilenet backbone on CPU (XLA slows its depthwise "
                  "convolutions about 9x here)")
            tc.jit_compile = False
        if not tc.steps_per_epoch:  # one pass over the training images per epoch
            tc.steps_per_epoch = max(1, len(splits.train.labels) // (d.p * d.k))
        run = self.train_dir(cfg, args)
        print(f"run directory: {run}\ntrain {len(splits.train.names)} identities ({len(splits.train.labels)} images), "
              f"val {len(splits.val.names)}, test {len(splits.test.names)}; batches of P={d.p} x K={d.k}")
        train_ds = pk_dataset(splits.train.images, splits.train.labels, d.p, d.k, tc.seed).enumerate().map(
            lambda i, batch: (_flip(tf.cast(batch[0], tf.float32), tc.seed, i) if d.flip
                              else tf.cast(batch[0], tf.float32), batch[1]))
        val_ds = val_batches(splits.val, d.p, d.k, tc.validation_steps or 10, tc.seed)
        pairs = verification_pairs(splits.val.labels, vc.folds, vc.val_pairs_per_fold, d.seed)
        monitor = VerificationMonitor(splits.val, pairs, vc.far_target, tc.batch_size, run)
        model = fit(cfg, run, lambda: build(cfg), train_ds, val_ds, [monitor])
        self.calibrate(model, splits.val, pairs, cfg, run)
        count = min(vc.projector_images, len(splits.val.labels))
        chosen = np.random.default_rng(d.seed).permutation(len(splits.val.labels))[:count]
        emb = embed(model, splits.val.images[chosen], tc.batch_size)
        write_projector(run.log_dir("projector"), emb, [splits.val.names[i] for i in splits.val.labels[chosen]],
                        splits.val.images[chosen])
        print(f"done: model {run.model}, threshold {run.file(VERIFICATION_FILE)}, ROC {run.preview('roc_val.png')}; "
              f"tensorboard --logdir {run.path.parent} (scalars, and the embedding projector under PROJECTOR)")
        return run

    def calibrate(self, model, split, pairs, cfg, run):
        """Choose the decision threshold on validation pairs, fit P(same | distance), save both with the run."""
        first, second, same, folds = pairs
        d = distances(embed(model, split.images, cfg.train.batch_size), first, second)
        scores = scoring.verification_scores(d, same, folds, cfg.verify.far_target)
        threshold, accuracy = scores["pooled_threshold"], scores["at_pooled_threshold"]["accuracy"]
        platt = scoring.PlattScaling().fit(d, same, midpoint=threshold)  # P(same) = 0.5 at the threshold
        write_json(run.file(VERIFICATION_FILE), {
            "threshold": threshold, "distance": "squared euclidean between unit embeddings (2 - 2 cos)",
            "platt": {"a": platt.a, "b": platt.b}, "chosen_on": "validation identity pairs", "val": scores})
        far, tar, _ = scoring.roc_curve(d, same)
        write_png(run.preview("roc_val.png"),
                  verification_figure(far, tar, scores["auc"], d, same, threshold, "(validation)"))
        print(f"threshold {threshold:.4f} (validation accuracy {accuracy:.4f}, AUC {scores['auc']:.4f})")

    def calibration(self, run):
        path = run.file(VERIFICATION_FILE)
        if not path.is_file():
            raise UserError(f"run {run} has no {VERIFICATION_FILE} (the threshold); finish training with: "
                            f"keras-suite face train resume={run}")
        return json.loads(path.read_text())

    def evaluate(self, cfg, args):
        split_name = self.eval_split(args)
        run, vc = args["run"], cfg.verify
        model, saved = self.trained_model(run), self.calibration(run)
        split = getattr(load_data(cfg, identities=2), split_name)  # synthetic: no training faces drawn for nothing
        first, second, same, folds = verification_pairs(split.labels, vc.folds, vc.pairs_per_fold, cfg.data.seed + 1)
        d = distances(embed(model, split.images, cfg.train.batch_size), first, second)
        scores = {"split": split_name, "identities": len(split.names),
                  **scoring.verification_scores(d, same, folds, vc.far_target),
                  "saved_threshold": saved["threshold"],
                  "at_saved_threshold": scoring.rates_at(d, same, saved["threshold"])}
        at = scores["at_saved_threshold"]
        tar_key = f"tar_at_far_{vc.far_target:g}"
        print(f"{scores['pairs']} pairs ({scores['same_pairs']} same) in {vc.folds} folds from {len(split.names)} "
              f"{split_name} identities never seen in training")
        print(f"{'fold':>6}{'threshold':>11}{'accuracy':>10}{'FAR':>8}{'FRR':>8}")
        for row in scores["folds"]:
            print(f"{row['fold']:>6}{row['threshold']:>11.4f}{row['accuracy']:>10.4f}{row['far']:>8.4f}{row['frr']:>8.4f}")
        print(f"{vc.folds}-fold accuracy {scores['accuracy']:.4f} +- {scores['accuracy_std']:.4f} "
              f"(each fold's threshold chosen on the other folds)")
        print(f"AUC {scores['auc']:.4f}   TAR@FAR={vc.far_target:g} {scores[tar_key]:.4f}")
        print(f"at the saved threshold {saved['threshold']:.4f}: accuracy {at['accuracy']:.4f}, FAR {at['far']:.4f}, "
              f"FRR {at['frr']:.4f}")
        out = write_json(run.report("eval", split_name), scores)
        far, tar, _ = scoring.roc_curve(d, same)
        figure = verification_figure(far, tar, scores["auc"], d, same, saved["threshold"], f"({split_name})")
        picture = write_png(run.preview(f"roc_{split_name}.png"), figure)
        print(f"wrote {out} and {picture}")
        return scores

    def verify(self, cfg, args):
        run = args["run"]
        faces = _read_faces([args["a"], args["b"]], cfg)
        saved = self.calibration(run)
        emb = embed(self.trained_model(run), faces)
        d = float(distances(emb, [0], [1])[0])
        p_same = float(scoring.PlattScaling(**saved["platt"])(d))
        same = d <= saved["threshold"]
        print(f"distance {d:.4f} (threshold {saved['threshold']:.4f}): {'same' if same else 'different'} person, "
              f"P(same person) {p_same:.3f}")
        return {"distance": d, "same": bool(same), "p_same": p_same}

    def _db(self, run, path, create=False):
        if not path:
            raise UserError("give the enrollment database file: db=<path>")
        model = self.trained_model(run)
        db = FaceDatabase.open(path, model.output_shape[-1], model_fingerprint(run.model), create)
        return model, db

    def enroll(self, cfg, args):
        name = str(args["identity"]).strip()
        if not name or not name.isprintable():
            raise UserError("enroll needs identity=<name of the person> (printable, not empty)")
        run = args["run"]
        paths = _image_paths(args["images"])
        faces = _read_faces(paths, cfg)
        model, db = self._db(run, args["db"], create=True)  # a foreign or damaged db is refused before embedding
        emb = embed(model, faces)
        known = name in db.identities
        db.add(name, emb, paths)
        db.save()
        total = len(db.identities[name]["embeddings"])
        print(f"{'added to' if known else 'enrolled'} '{name}': {len(paths)} image(s), {total} in all; "
              f"{len(db.identities)} identities in {db.path}")
        return db.path

    def identify(self, cfg, args):
        """Each face of the photo (the photo itself without detection): the nearest enrolled person, or unknown;
        with detection, one JSON line per face and the photo with boxes and names drawn."""
        run, path = args["run"], Path(args["image"])
        image, found = _photo(path, cfg), finder(cfg)
        faces = _faces_in(path, image, found, cfg)
        saved = self.calibration(run)
        model, db = self._db(run, args["db"])
        embeddings = embed(model, np.stack([_prepared(image, face, cfg) for face in faces]))
        results = []
        for face, emb in zip(faces, embeddings):
            ranked = db.nearest(emb)
            best, d = ranked[0]
            answer = best if d <= saved["threshold"] else "unknown"
            results.append({"identity": answer, "nearest": best, "distance": round(float(d), 4)})
            if face is None:
                print(f"{path}: {answer} (nearest '{best}' at distance {d:.4f}, threshold {saved['threshold']:.4f})")
                for name, dist in ranked[:3]:
                    print(f"  {name:<24}{dist:.4f}")
            else:
                results[-1] = {"image": str(path), "box": [face.x, face.y, face.w, face.h], **results[-1]}
                print(json.dumps(results[-1], ensure_ascii=False))
        if found is not None:
            labels = [f"{r['identity']} d={r['distance']:.2f}" for r in results]
            out = Path(args.get("out") or run.predictions)
            picture = write_png(out / f"{path.stem}_faces.png",
                                draw_boxes(image, [f.xyxy for f in faces], range(len(faces)), labels))
            print(f"{len(faces)} face(s): {picture} (threshold {saved['threshold']:.4f})")
        return results[0] if found is None else results

    def examples(self, cfg, run, folder):
        """Evaluate, then verify two photos of one test identity written as PNGs into `folder`."""
        test = load_data(cfg, identities=2, val_identities=2, test_identities=2).test
        a, b = (write_png(folder / f"face_{i}.png", image) for i, image in enumerate(test.images[test.labels == 0][:2]))
        return [("evaluate", {}), ("verify", {"a": a, "b": b})]

    def attack_task(self, cfg, run, model, target):
        """Test pairs, the first face of each perturbed: a genuine pair's embedding distance raised, an impostor
        pair's lowered; verification accuracy at the run's saved threshold."""
        ac, vc, threshold = cfg.attack, cfg.verify, self.calibration(run)["threshold"]
        split = load_data(cfg, identities=2, val_identities=2).test
        first, second, same, _ = verification_pairs(split.labels, vc.folds, vc.pairs_per_fold, cfg.data.seed + 1)
        pick = np.random.default_rng(ac.seed).permutation(len(first))[:ac.examples]
        other, same = embed(model, split.images[second[pick]]), same[pick]
        sign = np.where(same, 1.0, -1.0).astype(np.float32)

        def loss(x, index):
            return sign[index] * tf.reduce_sum(tf.square(model(x, training=False) - other[index]), axis=-1)

        def score(outputs):
            d = np.sum((outputs["embedding"] - other) ** 2, axis=-1)
            return float(np.mean((d <= threshold) == same))

        return AttackTask(np.round(split.images[first[pick]]).astype(np.float32), loss,
                          lambda x: {"embedding": model(x, training=False)}, score, "accuracy",
                          "genuine pairs pushed apart and impostor pairs pulled together (the first face of each "
                          "pair perturbed), judged at the saved threshold")

    def visual_samples(self, cfg):
        test = load_data(cfg, identities=2, val_identities=2, test_identities=4).test
        return np.round(test.images[np.argsort(test.labels, kind="stable")][::max(1, len(test.labels) // 16)][:16]
                        ).astype(np.uint8)

    def visual_input(self, cfg, photo, model):
        """The photo's largest face (the photo itself without detection) at the model's size."""
        face = _faces_in("image", photo, finder(cfg), cfg)[0]
        return np.round(_prepared(photo, face, cfg)).astype(np.uint8)

    def saliency_context(self, cfg, args):
        """Face `b=` at the model's size, or None."""
        return _read_faces([args["b"]], cfg)[0] if "b" in args else None

    def saliency_target(self, cfg, run, model, image, context):
        """The squared embedding distance to face b (default: the first test face of another person)."""
        if context is None:
            test = load_data(cfg, identities=2, val_identities=2, test_identities=4).test
            context = test.images[test.labels != test.labels[0]][0]
        anchor = model(np.asarray(context, np.float32)[None], training=False)
        return (lambda x: tf.reduce_sum(tf.square(model(x, training=False) - anchor), axis=-1),
                "the squared embedding distance to face b")

    def headline(self, run):
        return Headline("10-fold accuracy", report_value(run, "eval", "test", "accuracy"), 0.97)

    def serving(self, cfg, run):
        model, saved = self.trained_model(run), self.calibration(run)
        ecfg, d = cfg.export, cfg.data
        # synthetic identities are drawn one by one: only those the samples come from (real sources load whole)
        test_identities = (d.test_identities if ecfg.task_samples
                           else max(2, min(d.test_identities, ecfg.parity_samples)))
        splits = load_data(cfg, identities=max(2, -(-ecfg.calibration_samples // d.images_per_identity)),
                           val_identities=2, test_identities=test_identities)
        size = d.image_size

        def serve(x, dynamic):
            images = x["images"]
            faces = prepare_faces(images, size, d.crop) if dynamic else tf.cast(images, tf.float32)
            return {"embedding": model(faces, training=False)}

        order = np.random.default_rng(d.seed).permutation(len(splits.test.labels))
        calibration_photos, photos = export_photos(ecfg, size)
        dynamic_spec, fixed_spec = exporting.image_specs(size)
        description = litert.Description(
            name="keras-suite face", description=f"face embedding for verification: two faces are the same "
            f"person when the {saved['distance']} distance of their embeddings is <= {saved['threshold']:.4g}",
            inputs={"images": litert.image_input(size, f"RGB face crop, {size}x{size} (a central square of "
                                                       f"{d.crop} x the shorter side), uint8 0-255")},
            outputs={"embedding": litert.feature(f"[1, {model.output_shape[-1]}] unit-length embedding",
                                                 stats=(-1, 1))})
        serving = exporting.Serving(
            model=model, fn=serve, dynamic_spec=dynamic_spec, fixed_spec=fixed_spec,
            samples=exporting.image_samples(splits.test.images[order], ecfg.parity_samples),
            calibration=exporting.image_samples(np.concatenate([splits.train.images[:ecfg.calibration_samples],
                                                                calibration_photos])),
            photos=exporting.image_samples(photos), scores=exporting.min_cosine("embedding"),
            min_scores={"min_cosine": ecfg.min_cosine},
            task=_task(splits.test, ecfg.task_samples, cfg),
            litert=description, layouts={"tflite_int8_full": exporting.full_integer_layout(
                _integer_embedding(model), size, dict, dataclasses.replace(
                    description, description=f"{description.description}; integers only (for NPUs)"))})
        metadata = {
            "task": "face verification embedding", "input": exporting.image_input(size),
            "preprocessing": f"SavedModel: central square crop of {d.crop} x the shorter side, resized to "
                             f"{size}x{size} in the graph; TFLite: give the {size}x{size} crop",
            "normalization": "inside the graph: x / 127.5 - 1",
            "outputs": {"embedding": f"float32 (N, {model.output_shape[-1]}) unit length"},
            "verification": {"distance": saved["distance"], "threshold": saved["threshold"], "platt": saved["platt"],
                             "same_person": "distance <= threshold"},
            "signature": "serve (also serving_default)"}
        if detecting(d.detect, d.source):  # trained on crops of faces found in photos: a phone app does the same
            metadata["face_detection"] = {
                "detector": "LBP frontal-face cascade (scikit-image's lbpcascade_frontalface_opencv.xml; on a phone, "
                            "any face detector: MediaPipe's or Android's FaceDetector)",
                "crop": f"the square around the face box, {d.margin} x its side added on every side (edge pixels "
                        "repeat beyond the photo), then the input above",
                "min_face_pixels": d.min_face, "search_side": SEARCH_SIDE, "neighbours": d.detect_neighbours,
                "python": "keras_suite.apps.face.detect.FaceFinder(...).find(photo), crop_face(photo, face, margin)"}
        return serving, metadata


def _integer_embedding(model):
    """The embedding normalized by `tf.math.l2_normalize`, which the converter makes one L2_NORMALIZATION op with
    an int8 kernel (Keras' UnitNormalization becomes SQUARE, SUM and RSQRT, and SQUARE has none)."""
    projection = keras.Model(model.inputs, model.get_layer("embedding").input)
    return lambda x: {"embedding": tf.math.l2_normalize(projection(x["images"], training=False), axis=-1)}


def _task(split, count, cfg):
    """10-fold verification accuracy and ROC AUC of each format's embeddings, over pairs of about `count` test faces:
    whole identities, at least two per fold (None: no check)."""
    if not count:
        return None
    vc, labels = cfg.verify, np.asarray(split.labels)
    keep = np.zeros(len(labels), bool)
    for identity in dict.fromkeys(labels.tolist()):
        chosen = labels == identity
        if keep.sum() + chosen.sum() > count and len(np.unique(labels[keep])) >= 2 * vc.folds:
            break
        keep |= chosen
    images, labels = split.images[keep], labels[keep]
    first, second, same, folds = verification_pairs(labels, vc.folds, vc.pairs_per_fold, cfg.data.seed + 1)

    def score(outputs):
        s = scoring.verification_scores(distances(outputs["embedding"], first, second), same, folds, vc.far_target)
        return {"accuracy": s["accuracy"], "auc": s["auc"]}

    return exporting.TaskCheck(exporting.image_samples(images), score)
