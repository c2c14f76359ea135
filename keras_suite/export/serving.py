"""What an app exports (`Serving`) and the uint8 image input that the image apps share."""

import dataclasses

import keras
import numpy as np
import tensorflow as tf

from keras_suite.export.litert_metadata import Description
from keras_suite.export.parity import run_samples


@dataclasses.dataclass
class Serving:
    """What an app exports: the model and its serving function at any and at a fixed input size.

    `fn(inputs: dict of tensors, dynamic: bool)` returns a dict of tensors. `dynamic_spec` and
    `fixed_spec` map input names to TensorSpecs (the fixed one has batch 1, for TFLite). `samples`
    are real fixed-size inputs (dicts of arrays, batch 1) on which every format is compared with
    Keras; `calibration` (same form) calibrates int8. `endpoints` are further SavedModel
    signatures (name -> tf.function with an input signature), e.g. string-in/string-out
    generation; `track` lists further layers they use (lookup tables). `scores(reference, outputs)`
    adds app-specific parity scores to each format's row (e.g. the lowest cosine similarity of
    embeddings, "min_cosine"), and `min_scores` {score: {format: minimum}} are their limits. `probe` (tensor
    name marker, fn(inputs) ->
    array) compares an intermediate tensor of the TFLite files with Keras' (a detector's raw head, before the
    post-processing that can hide differences): "probe_mean_abs_diff", limited by `probe_limits` {format: max},
    and "probe_max_abs_diff" for the record. `task` scores every format with the app's own metric on held-out
    data. `litert` describes the fixed-size signature's tensors for the metadata packed into every TFLite file;
    `layouts` maps further TFLite formats (e.g. "tflite_tasks") to other layouts of that signature (or the int8
    file, "tflite_int8", to a graph of its own that quantizes better), for a phone
    SDK or a GPU delegate. `photos` (as `samples`) are real photos that did not calibrate int8: every format is
    compared with Keras on them as well, for the record ("photo_" figures). `files` are further files of the
    artifact, {name: (text, what it holds)}, landed with the formats and listed in metadata.json and the card.
    """

    model: keras.Model
    fn: callable
    dynamic_spec: dict
    fixed_spec: dict
    samples: list
    calibration: list
    endpoints: dict = dataclasses.field(default_factory=dict)
    track: list = dataclasses.field(default_factory=list)
    scores: callable = None
    min_scores: dict = dataclasses.field(default_factory=dict)
    probe: tuple = None
    probe_limits: dict = dataclasses.field(default_factory=dict)
    litert: Description = None
    layouts: dict = dataclasses.field(default_factory=dict)
    task: "TaskCheck" = None
    photos: list = dataclasses.field(default_factory=list)
    files: dict = dataclasses.field(default_factory=dict)

    def stamped(self, version, author, license):
        """This serving with the model's version, author and licence in every LiteRT description."""
        def stamp(description):
            return description and dataclasses.replace(description, version=version, author=author, license=license)

        return dataclasses.replace(self, litert=stamp(self.litert), layouts={
            name: dataclasses.replace(layout, litert=stamp(layout.litert)) for name, layout in self.layouts.items()})


@dataclasses.dataclass
class TaskCheck:
    """The app's own metric on held-out data, for the Keras model and every exported format: `samples` are batch-1
    inputs (as `Serving.samples`), `score(outputs)` maps the outputs over all of them (concatenated, in the main
    signature's layout) to {metric: value}; `lower_is_better` names the metrics that go down as they improve.
    Where the calls depend on each other (a language model's state goes from one character to the next),
    `drive(call)` makes the calls itself and returns the outputs to score, and `count` says how many it makes."""

    samples: list
    score: callable
    lower_is_better: tuple = ()
    drive: callable = None
    count: int = None

    def run(self, call):
        """The outputs of `call(**inputs)` over the held-out data, for `score`."""
        return self.drive(call) if self.drive else run_samples(call, self.samples)[0]

    def __len__(self):
        return self.count if self.drive else len(self.samples)


@dataclasses.dataclass
class Layout:
    """The fixed-size signature laid out for one consumer: the four float outputs MediaPipe Tasks' object detector
    reads by their metadata names, a network without the post-processing a GPU delegate cannot run, a
    translator's encoder and one decoder step without the search loop, or integers only for an NPU.

    `fn(inputs)` computes it from inputs of `spec` (default: the serving's fixed spec); `prepare(sample)` turns a
    parity sample into such inputs; `back(outputs)` turns its outputs into the main signature's (running on the
    host what the layout leaves out), so the file is checked against Keras like every other format; `litert`
    describes it. A file of several signatures has `signatures` {key: (fn, spec)} instead of `fn`, and `runner`:
    `runner(interpreter)` is a callable `(**sample) -> outputs` of the main signature that drives them from the
    host (a beam search over `encode` and `decode_step`), and `usage` the Python for the model card that does so
    ("{file}" stands for the file's name). `calibrate(calibration)` gives the inputs that calibrate a quantized
    file of this layout (default: each calibration sample prepared). `probe`: whether its graph has the tensor
    `Serving.probe` names.
    """

    fn: callable
    back: callable
    litert: Description
    spec: dict = None
    prepare: callable = None
    signatures: dict = None
    runner: callable = None
    usage: str = ""
    calibrate: callable = None
    probe: bool = True


def image_specs(size, name="images", channels=3):
    """(dynamic_spec, fixed_spec) of a uint8 image input (RGB, or grey with `channels` 1): any batch and size for
    the SavedModel, one `size` x `size` image for TFLite."""
    return ({name: tf.TensorSpec([None, None, None, channels], tf.uint8)},
            {name: tf.TensorSpec([1, size, size, channels], tf.uint8)})


def image_input(size, name="images", channels=3):
    """The metadata entry describing that input."""
    return {"name": name, "dtype": "uint8", "layout": "NHWC", "channels": "RGB" if channels == 3 else "GRAYSCALE",
            "saved_model_shape": [None, None, None, channels], "tflite_shape": [1, size, size, channels]}


def full_integer_layout(fn, size, back, litert, name="images"):
    """An image app's layout for `tflite_int8_full` (NPUs and Edge-TPU style accelerators, integers only):
    `fn({name: float32 pixels})` gives float outputs, which the file returns as uint8 with their scale and zero
    point; `back` makes the main signature's outputs of them on the host (an argmax, a rounding). The input is
    pinned to the range 0-255 by a fake-quantization op, so the file takes the photo's bytes as they are (uint8,
    scale 1, zero point 0) whatever the calibration photos held."""

    def integer(inputs):
        return fn({name: tf.quantization.fake_quant_with_min_max_args(inputs[name], 0.0, 255.0, num_bits=8)})

    def prepare(sample):
        return {name: sample[name].astype(np.float32)}

    def calibrate(calibration):
        """The calibration photos and an auto-levelled copy of the first (stretched to exactly 0-255): the
        converter takes the input's range from what it saw, and a narrower one would requantize it in float."""
        first = calibration[0][name].astype(np.float32)
        low, high = first.min(), first.max()
        levelled = (first - low) * (255.0 / max(high - low, 1.0))
        return [prepare(sample) for sample in calibration] + [{name: np.round(levelled).astype(np.float32)}]

    return Layout(integer, back, litert, spec={name: tf.TensorSpec([1, size, size, 3], tf.float32, name=name)},
                  prepare=prepare, calibrate=calibrate)


def image_samples(images, count=None):
    """Batch-1 samples `{"images": uint8 (1, H, W, 3)}` of the first `count` images."""
    return [{"images": image[None].astype("uint8")} for image in list(images)[:count]]
