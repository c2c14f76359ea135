"""Learning-rate schedules the Keras set lacks."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_suite")
class TransformerSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """lr(step) = scale * d^-0.5 * min(step^-0.5, step * warmup^-1.5): linear warmup, then 1/sqrt decay.

    Vaswani et al., 2017, "Attention Is All You Need", https://arxiv.org/abs/1706.03762, eq. 3
    (scale 1). Steps count from 1, so the first update uses a small positive rate.

    Args:
        dim: model size d.
        warmup_steps: steps of linear warmup (4000 in the paper).
        scale: multiplies the whole schedule.
    """

    def __init__(self, dim, warmup_steps=4000, scale=1.0):
        self.dim, self.warmup_steps, self.scale = dim, warmup_steps, scale

    def __call__(self, step):
        step = ops.cast(step, "float32") + 1.0
        warmup = ops.cast(self.warmup_steps, "float32")
        return self.scale * self.dim ** -0.5 * ops.minimum(ops.rsqrt(step), step * warmup ** -1.5)

    def get_config(self):
        return {"dim": self.dim, "warmup_steps": self.warmup_steps, "scale": self.scale}


@keras.saving.register_keras_serializable(package="keras_suite")
class ResizableCosineDecay(keras.optimizers.schedules.CosineDecay):
    """Keras' CosineDecay (with its optional linear warmup) whose decay length can change while training.

    Loshchilov & Hutter, 2017, "SGDR: Stochastic Gradient Descent with Warm Restarts",
    https://arxiv.org/abs/1608.03983 (the cosine, without restarts). The decay length lives in a variable that
    the traced training step reads, so `resize` takes effect at the next step: a wall-clock budget sizes the
    schedule to the steps that fit once it has measured them.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.decay_steps = keras.Variable(float(self.decay_steps), trainable=False, name="decay_steps")

    def resize(self, decay_steps):
        self.decay_steps.assign(float(max(1, decay_steps)))

    def get_config(self):
        return {**super().get_config(), "decay_steps": int(self.decay_steps.numpy())}
