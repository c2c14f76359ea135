"""The task-metric gate's limits: Keras' value less the allowed drop, per format or per format and metric."""

import pytest

from keras_suite.export.artifact import _task_limits
from keras_suite.export.serving import TaskCheck


def test_a_metric_of_a_format_can_have_its_own_drop():
    task = TaskCheck([], None, lower_is_better=("nats",))
    keras = {"map50": 0.9, "map": 0.7, "nats": 1.5, "none": None}
    drops = {"tflite": 0.01, "tflite_int8": 0.02, "tflite_int8.map": 0.08}
    assert _task_limits(task, keras, drops, "tflite_int8") == pytest.approx(
        {"map50": 0.88, "map": 0.62, "nats": 1.52, "none": None})
    # the integer-only file is held to int8's limits, the metric's own included
    assert _task_limits(task, keras, drops, "tflite_int8_full")["map"] == pytest.approx(0.62)
    # a format's own key comes before the limits it shares
    assert _task_limits(task, keras, {**drops, "tflite_int8_full": 0.01}, "tflite_int8_full")["map"] == pytest.approx(
        0.69)
    assert _task_limits(task, keras, drops, "tflite") == pytest.approx(
        {"map50": 0.89, "map": 0.69, "nats": 1.51, "none": None})
    assert _task_limits(task, keras, {}, "tflite") == dict.fromkeys(keras)  # nothing configured: no limit
    assert _task_limits(None, keras, drops, "tflite") == {}
