"""Image captioning: a CNN encoder gives a grid of features, a decoder with attention over the grid writes the
caption (Xu et al., 2015, "Show, Attend and Tell", https://arxiv.org/abs/1502.03044), and its incremental decoder
for search.

The decoder is the translation apps' own: the seq2seq decoder (an LSTM/GRU started from the mean of the grid
through a dense bridge, Bahdanau or Luong attention over the grid, Luong-style `tanh(W [h; c])` before the softmax)
or the transformer decoder (masked self-attention, cross-attention over the grid). Each grid cell carries a learned
position vector, so the context the decoder attends to says where it looked ("left of", "above").
"""

import keras
import tensorflow as tf

from keras_suite.choices import CAPTION_DECODERS, CAPTION_ENCODERS
from keras_suite.layers import (
    ConvBlock,
    CrossAttention,
    LayerNormalization,
    LearnedPositionEmbedding,
    TokenAndPositionEmbedding,
    TransformerDecoderBlock,
)
from keras_suite.models.pretrained import load_application
from keras_suite.models.seq2seq import CELLS, AttentionRNNDecoder
from keras_suite.models.transformer import CachedTransformerDecoder, decoder_blocks

STRIDES = {"conv": 8, "mobilenet_v2": 16}  # one grid cell per 8 x 8 pixels; MobileNetV2's stride-16 activations
MOBILENET_FEATURES = "block_13_expand_relu"


def _conv_features(x, width):
    x = keras.layers.Rescaling(1 / 255.0, name="scale")(x)
    for stage, filters in enumerate((width, 2 * width, 4 * width)):
        x = keras.layers.Conv2D(filters, 3, 2, padding="same", use_bias=False, name=f"stage{stage}_down")(x)
        x = keras.layers.BatchNormalization(name=f"stage{stage}_bn")(x)
        x = keras.layers.ReLU(name=f"stage{stage}_relu")(x)
        if stage:
            x = ConvBlock(filters, name=f"stage{stage}_block")(x)
    return x


def _mobilenet_features(x, image_size, weights):
    backbone, _ = load_application(keras.applications.MobileNetV2, weights, include_top=False,
                                   input_shape=(image_size, image_size, 3))
    features = keras.Model(backbone.input, backbone.get_layer(MOBILENET_FEATURES).output, name="mobilenet_v2")
    return features(keras.layers.Rescaling(1 / 127.5, offset=-1, name="scale")(x))


def build_image_encoder(image_size, dim, encoder="conv", width=32, weights="imagenet", name="image_encoder"):
    """(S, S, 3) pixels in [0, 255] -> memory (G * G, dim): the CNN's grid (stride 8 for "conv", 16 for
    "mobilenet_v2"), a 1x1 projection to `dim`, and a learned vector per cell added."""
    if encoder not in CAPTION_ENCODERS:
        raise ValueError(f"encoder must be one of {', '.join(CAPTION_ENCODERS)}, got '{encoder}'")
    stride = STRIDES[encoder]
    if image_size % stride:
        raise ValueError(f"image size {image_size} must be divisible by {stride} for the {encoder} encoder")
    inputs = keras.Input((image_size, image_size, 3), name="images")
    x = _conv_features(inputs, width) if encoder == "conv" else _mobilenet_features(inputs, image_size, weights)
    x = keras.layers.Conv2D(dim, 1, activation="relu", name="projection")(x)
    cells = (image_size // stride) ** 2
    x = keras.layers.Reshape((cells, dim), name="grid")(x)
    x = keras.layers.Add(name="memory")([x, LearnedPositionEmbedding(cells, name="cell_position")(x)])
    return keras.Model(inputs, x, name=name)


def build_captioner(image_size, vocab_size, decoder="rnn", encoder="conv", width=32, weights="imagenet",
                    embedding_dim=64, units=256, cell="lstm", attention="bahdanau", layers=2, heads=4, ff_dim=512,
                    dropout=0.0, max_length=32, name="captioner"):
    """Training model: (images (B, S, S, 3) in [0, 255], target_in ids (B, T)) -> logits (B, T, vocab_size); 0 pads.

    `decoder` "rnn" (`cell`, `embedding_dim`, `units`, `attention`) or "transformer" (`layers` blocks of width
    `units`, `heads`, `ff_dim`; `max_length` target positions).
    """
    if decoder not in CAPTION_DECODERS:
        raise ValueError(f"decoder must be one of {', '.join(CAPTION_DECODERS)}, got '{decoder}'")
    images = keras.Input((image_size, image_size, 3), name="images")
    target_in = keras.Input((None,), dtype="int32", name="target_in")
    memory = build_image_encoder(image_size, units, encoder, width, weights)(images)
    if decoder == "rnn":
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {', '.join(CELLS)}, got '{cell}'")
        summary = keras.layers.GlobalAveragePooling1D(name="summary")(memory)
        states = 2 if cell == "lstm" else 1
        initial = [keras.layers.Dense(units, activation="tanh", name=f"bridge_{i}")(summary) for i in range(states)]
        y = keras.layers.Embedding(vocab_size, embedding_dim, mask_zero=True, name="target_embedding")(target_in)
        decoded = CELLS[cell](units, return_sequences=True, dropout=dropout, name="decoder")(y, initial_state=initial)
        context, _ = CrossAttention(units, attention, name="attention")(decoded, memory)
        hidden = keras.layers.Dense(units, activation="tanh", name="attentional")(
            keras.layers.Concatenate()([decoded, context]))
    else:
        hidden = TokenAndPositionEmbedding(vocab_size, max_length, units, "learned", name="target_embedding")(target_in)
        hidden = keras.layers.Dropout(dropout)(hidden)
        for i in range(layers):
            hidden, _ = TransformerDecoderBlock(heads, ff_dim, dropout, True, name=f"decoder_{i}")(hidden, memory)
        hidden = LayerNormalization(epsilon=1e-6, name="decoder_norm")(hidden)
    logits = keras.layers.Dense(vocab_size, dtype="float32", name="logits")(hidden)
    return keras.Model([images, target_in], logits, name=name)


def decoder_kind(model):
    return "transformer" if decoder_blocks(model) else "rnn"


def attention_model(model):
    """The trained model with its attention over the grid (B, T, cells) as a second output: the RNN decoder's
    attention weights, or the transformer's last cross-attention averaged over its heads."""
    if decoder_kind(model) == "rnn":
        weights = model.get_layer("attention").output[1]
    else:
        weights = keras.ops.mean(decoder_blocks(model)[-1].output[1], axis=1)
    return keras.Model(model.inputs, [model.output, weights])


def _encode(encoder, images):
    return encoder(tf.cast(images, tf.float32))


class RNNCaptioner(AttentionRNNDecoder):
    """`encode(images) -> state` and `step(tokens, state) -> (logits, state)` of a trained RNN captioner."""

    def __init__(self, model):
        super().__init__(model)
        self.encoder = model.get_layer("image_encoder")

    def encode(self, images):
        memory = _encode(self.encoder, images)
        return self.start(memory, None, [tf.reduce_mean(memory, axis=1)] * len(self.bridges))


class TransformerCaptioner(CachedTransformerDecoder):
    """`encode(images) -> state` and `step(tokens, state) -> (logits, state)` of a trained transformer captioner;
    searches write at most `max_length` tokens."""

    def __init__(self, model, max_length):
        super().__init__(model, max_length)
        self.encoder = model.get_layer("image_encoder")

    def encode(self, images):
        return self.start(_encode(self.encoder, images), None)


def incremental(model, max_length):
    """The search-time decoder of a trained captioner, whichever its decoder."""
    return RNNCaptioner(model) if decoder_kind(model) == "rnn" else TransformerCaptioner(model, max_length)
