"""Paired image/mask augmentation with Keras preprocessing layers, which move masks with the image."""

import keras


def paired_augmenter(seed=0, flip=True, zoom=0.15, translate=0.1, brightness=0.2):
    """A layer stack applied to `{"images": float [0,255], "segmentation_masks": labels}` batches.

    Geometric layers transform the mask with nearest-neighbour sampling; brightness touches the
    image only.
    """
    layers = []
    if flip:
        layers.append(keras.layers.RandomFlip("horizontal", seed=seed))
    if zoom:
        layers.append(keras.layers.RandomZoom(zoom, fill_mode="reflect", seed=seed + 1))
    if translate:
        layers.append(keras.layers.RandomTranslation(translate, translate, fill_mode="reflect", seed=seed + 2))
    if brightness:
        layers.append(keras.layers.RandomBrightness(brightness, value_range=(0, 255), seed=seed + 3))
    return keras.Sequential(layers, name="augment")
