"""What an app is before it runs: its name, description, config schema and commands (`AppSpec`), and where its
implementation lives. Specs and configs import no TensorFlow, so `list` and `--help` answer at once; a command
imports the implementation (`AppSpec.load`) when it runs."""

import dataclasses
import importlib

from keras_suite.registry import Registry

APPS = Registry("app")

HINTS = {"run": "<run dir> (or run=latest)", "resume": "<run dir>", "image": "<path> (a file or a folder of images)",
         "out": "<folder>", "split": "val|test", "formats": "saved_model,tflite,...", "name": "<export folder name>",
         "overwrite": "true|false", "tflite": "<an exported .tflite file of the run>"}


@dataclasses.dataclass(frozen=True)
class Command:
    """What a command does (`help`) and the plain (undotted) arguments it takes: the `required` ones and the
    `optional` ones."""

    help: str
    required: tuple = ()
    optional: tuple = ()

    @property
    def arguments(self):
        return (*self.required, *self.optional)


TRAIN = Command("train a model on the configured data (the same train.run_name again resumes it)",
                optional=("resume",))
EVALUATE = Command("score a trained run on its test (or val) split", ("run",), ("split",))
PREDICT = Command("run a trained model on an image or a folder of images; write PNGs", ("run", "image"), ("out",))
EXPORT = Command("write a SavedModel and TFLite files, each checked against Keras", ("run",),
                 ("formats", "name", "overwrite"))
VISUALIZE = Command("feature visualization of a layer's channels (gradient ascent from noise) and the saliency of "
                    "an image (gradients, SmoothGrad, integrated gradients): labelled PNGs", ("run",),
                    ("image", "out", "layer", "channels", "top_k"))
VISUALIZE_ALIASES = {"layer": "visualize.layer", "channels": "visualize.channels", "top_k": "visualize.top_k"}
ATTACK = Command("adversarial examples (FGSM, PGD) on the app's own loss: its metric against the budget epsilon, a "
                 "table, a curve and example panels; tflite=<file>: the same images through an exported file",
                 ("run",), ("out", "epsilons", "norm", "tflite"))
ATTACK_ALIASES = {"epsilons": "attack.epsilons", "norm": "attack.norm"}
EXPORT_ALIASES = {"formats": "export.formats", "name": "export.name", "overwrite": "export.overwrite"}


@dataclasses.dataclass(frozen=True)
class AppSpec:
    """An app's name, one-line description, config schema, commands ({name: Command}), the short arguments that
    stand for config keys (`aliases`: formats=... -> export.formats=...), what required arguments hold (`hints`),
    and its implementation as "module:Class"."""

    name: str
    description: str
    config_cls: type
    commands: dict
    implementation: str
    aliases: dict = dataclasses.field(default_factory=dict)
    hints: dict = dataclasses.field(default_factory=dict)

    def load(self):
        """The App class (importing it imports TensorFlow)."""
        module, cls = self.implementation.split(":")
        return getattr(importlib.import_module(module), cls)

    def hint(self, argument):
        return self.hints.get(argument, HINTS.get(argument, "..."))
