import keras
import pytest

from keras_suite.training.schedules import TransformerSchedule


def test_transformer_schedule_values():
    schedule = TransformerSchedule(dim=512, warmup_steps=4000)
    for step in (0, 99, 3999, 9999):
        n = step + 1
        assert float(schedule(step)) == pytest.approx(512 ** -0.5 * min(n ** -0.5, n * 4000 ** -1.5), rel=1e-5)
    assert float(schedule(3999)) == pytest.approx(max(float(schedule(s)) for s in range(0, 20000, 500)), rel=1e-3)
    clone = TransformerSchedule.from_config(schedule.get_config())
    assert float(clone(123)) == float(schedule(123))
    optimizer = keras.optimizers.Adam(schedule)
    restored = keras.optimizers.deserialize(keras.optimizers.serialize(optimizer))
    assert isinstance(restored._learning_rate, TransformerSchedule)  # the schedule itself, not a constant
    assert restored._learning_rate.get_config() == schedule.get_config()
    for step in (0, 3999, 12345):
        assert float(restored._learning_rate(step)) == float(schedule(step))
    optimizer.iterations.assign(3999)
    restored.iterations.assign(3999)
    assert float(restored.learning_rate) == pytest.approx(float(schedule(3999)))  # the rate at the current step

