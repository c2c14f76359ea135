"""Export: a SavedModel and builtin-ops-only TFLite files, each checked against Keras on real samples before
the artifact lands (`export`). An app describes what to serve with a `Serving`."""

from keras_suite.export.artifact import check_target, export, recover
from keras_suite.export.compat import format_table as format_compat
from keras_suite.export.formats import EXPORTERS
from keras_suite.export.parity import ExportError, format_report, min_cosine
from keras_suite.export.serving import (
    Layout,
    Serving,
    TaskCheck,
    full_integer_layout,
    image_input,
    image_samples,
    image_specs,
)

__all__ = ["EXPORTERS", "ExportError", "Layout", "Serving", "TaskCheck", "check_target", "export", "format_compat",
           "format_report", "full_integer_layout", "image_input", "image_samples", "image_specs", "min_cosine",
           "recover"]
