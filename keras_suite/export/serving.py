"""What an app exports (`Serving`) and the uint8 image input that the image apps share."""

import dataclasses

import keras
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
    embeddings, "min_cosine"), and `min_scores` {score: {format: minimum}} are their limits. `float_ops`
    are TFLite ops kept in float in the int8 file; so is everything from the op whose output tensor name
    contains `float_from` on (post-processing after the network), and the ops of the Keras layers named in
    `float_layers`. `probe` (tensor name marker, fn(inputs) ->
    array) compares an intermediate tensor of the TFLite files with Keras' (a detector's raw head, before the
    post-processing that can hide differences): "probe_mean_abs_diff", limited by `probe_limits` {format: max},
    and "probe_max_abs_diff" for the record. `task` scores every format with the app's own metric on held-out
    data. `litert` describes the fixed-size signature's tensors for the metadata packed into every TFLite file;
    `layouts` maps further TFLite formats (e.g. "tflite_tasks") to other layouts of that signature, for a phone
    SDK or a GPU delegate.
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
    float_ops: tuple = ()
    float_from: str = None
    float_layers: tuple = ()
    min_scores: dict = dataclasses.field(default_factory=dict)
    probe: tuple = None
    probe_limits: dict = dataclasses.field(default_factory=dict)
    litert: Description = None
    layouts: dict = dataclasses.field(default_factory=dict)
    task: "TaskCheck" = None

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
    reads by their metadata names, a network without the post-processing a GPU delegate cannot run, or a
    translator's encoder and one decoder step without the search loop.

    `fn(inputs)` computes it from inputs of `spec` (default: the serving's fixed spec); `prepare(sample)` turns a
    parity sample into such inputs; `back(outputs)` turns its outputs into the main signature's (running on the
    host what the layout leaves out), so the file is checked against Keras like every other format; `litert`
    describes it. A file of several signatures has `signatures` {key: (fn, spec)} instead of `fn`, and `runner`:
    `runner(interpreter)` is a callable `(**sample) -> outputs` of the main signature that drives them from the
    host (a beam search over `encode` and `decode_step`), and `usage` the Python for the model card that does so
    ("{file}" stands for the file's name).
    """

    fn: callable
    back: callable
    litert: Description
    spec: dict = None
    prepare: callable = None
    signatures: dict = None
    runner: callable = None
    usage: str = ""


def image_specs(size, name="images"):
    """(dynamic_spec, fixed_spec) of a uint8 RGB image input: any batch and size for the SavedModel, one
    `size` x `size` image for TFLite."""
    return ({name: tf.TensorSpec([None, None, None, 3], tf.uint8)},
            {name: tf.TensorSpec([1, size, size, 3], tf.uint8)})


def image_input(size, name="images"):
    """The metadata entry describing that input."""
    return {"name": name, "dtype": "uint8", "layout": "NHWC", "channels": "RGB",
            "saved_model_shape": [None, None, None, 3], "tflite_shape": [1, size, size, 3]}


def image_samples(images, count=None):
    """Batch-1 samples `{"images": uint8 (1, H, W, 3)}` of the first `count` images."""
    return [{"images": image[None].astype("uint8")} for image in list(images)[:count]]
