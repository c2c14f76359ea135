"""The end of every input pipeline: prefetching, without tf.data's autotuning thread.

tf.data's autotuning runs one optimization thread per iterator, asleep between rounds for a period that
doubles up to 60 s. Dropping the iterator cancels that thread, and the dropping thread waits for it to end.
On this stack (TF 2.21) the wake-up is lost often enough to matter: the cancellation callback notifies the
thread before the iterator is marked cancelled, the thread sees "not cancelled" and sleeps out its period.
Keras drops its iterators at the end of `fit` and between validations, so a training command sat for up to a
minute after its last epoch (seen in `make demo`, a native stack in `OptimizeLoop`). Without autotuning there is
no such thread; prefetch buffers still grow on demand, and parallel maps run one call per core.
"""

import tensorflow as tf


def steady(ds):
    """`ds` with tf.data's autotuning model off, so that dropping its iterators never waits."""
    options = tf.data.Options()
    options.autotune.enabled = False
    return ds.with_options(options)


def prefetched(ds):
    """`ds` prefetched, as the last step of a pipeline (see `steady`)."""
    return steady(ds.prefetch(tf.data.AUTOTUNE))
