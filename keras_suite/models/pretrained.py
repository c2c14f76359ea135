"""Loading keras.applications backbones with ImageNet weights when they can be had."""

import logging

log = logging.getLogger("keras_suite")


def load_application(factory, weights, **kwargs):
    """Call a keras.applications `factory` -> (model, the weights it got); with weights='imagenet' offline,
    warn and use weights=None.

    `weights` may also be a path to a weights file.
    """
    if weights != "imagenet":
        return factory(weights=weights, **kwargs), weights
    try:
        return factory(weights="imagenet", **kwargs), "imagenet"
    except Exception as e:  # noqa: BLE001 - any download failure (offline, proxy, corrupt cache)
        log.warning("could not load ImageNet weights for %s (%s); using random weights (weights=None)",
                    factory.__name__, str(e).splitlines()[0][:120])
        return factory(weights=None, **kwargs), None
