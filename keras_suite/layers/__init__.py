"""Reusable Keras layers, one concept per file."""

from keras_suite.layers.cached_multi_head_attention import CachedMultiHeadAttention
from keras_suite.layers.causal_transformer_block import CausalTransformerBlock
from keras_suite.layers.conv_block import ConvBlock
from keras_suite.layers.cross_attention import CrossAttention
from keras_suite.layers.csp_block import CSPBlock
from keras_suite.layers.down_block import DownBlock
from keras_suite.layers.gaussian_sampling import GaussianSampling
from keras_suite.layers.inception_resnet_block import InceptionResNetBlock
from keras_suite.layers.instance_normalization import InstanceNormalization
from keras_suite.layers.inverted_residual_block import InvertedResidualBlock
from keras_suite.layers.layer_normalization import LayerNormalization
from keras_suite.layers.learned_position_embedding import LearnedPositionEmbedding
from keras_suite.layers.nearest_upsampling import NearestUpsampling2D
from keras_suite.layers.resize_conv import ResizeConv2D
from keras_suite.layers.sinusoidal_position_encoding import SinusoidalPositionEncoding
from keras_suite.layers.sparsity_penalty import SparsityPenalty
from keras_suite.layers.token_and_position_embedding import TokenAndPositionEmbedding
from keras_suite.layers.transformer_decoder_block import TransformerDecoderBlock
from keras_suite.layers.transformer_encoder_block import TransformerEncoderBlock
from keras_suite.layers.up_block import UpBlock

__all__ = ["CachedMultiHeadAttention", "CausalTransformerBlock", "ConvBlock", "CrossAttention", "CSPBlock",
           "DownBlock", "GaussianSampling", "InceptionResNetBlock", "InstanceNormalization", "InvertedResidualBlock",
           "LayerNormalization", "LearnedPositionEmbedding", "NearestUpsampling2D", "ResizeConv2D",
           "SinusoidalPositionEncoding", "SparsityPenalty", "TokenAndPositionEmbedding", "TransformerDecoderBlock",
           "TransformerEncoderBlock", "UpBlock"]
