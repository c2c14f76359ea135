"""Reusable Keras layers, one concept per file."""

from keras_suite.layers.conv_block import ConvBlock
from keras_suite.layers.cross_attention import CrossAttention
from keras_suite.layers.down_block import DownBlock
from keras_suite.layers.up_block import UpBlock

__all__ = ["ConvBlock", "CrossAttention", "DownBlock", "UpBlock"]
