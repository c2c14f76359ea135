import numpy as np
import pytest

from keras_suite.layers import ConvBlock, CSPBlock, DownBlock, InceptionResNetBlock, InvertedResidualBlock, UpBlock
from keras_suite.testing import run_layer_test


def test_csp_block(tmp_path):
    # main, side, fuse and one bottleneck (2 convs) of conv + BN (3 trainable, 2 non-trainable each)
    run_layer_test(CSPBlock, {"filters": 16, "depth": 1}, (2, 8, 8, 12), (2, 8, 8, 16), 5 * 3,
                   expected_non_trainable_weights=5 * 2, directory=tmp_path)


def test_inverted_residual_block(tmp_path):
    # expand conv + BN (3: kernel, gamma, beta), depthwise + BN (3), project + BN (3)
    run_layer_test(InvertedResidualBlock, {"filters": 8, "strides": 1}, (2, 8, 8, 8), (2, 8, 8, 8), 9,
                   expected_non_trainable_weights=6, directory=tmp_path)
    run_layer_test(InvertedResidualBlock, {"filters": 12, "strides": 2, "expansion": 1}, (2, 9, 9, 8),
                   (2, 5, 5, 12), 6, expected_non_trainable_weights=4)


def test_inverted_residual_block_adds_its_input_only_when_shapes_match():
    x = np.random.default_rng(0).normal(size=(1, 6, 6, 4)).astype("float32")
    block = InvertedResidualBlock(4)
    block(x)
    for w in block.stack[-1].weights:  # zero the last BN's gamma: the branch outputs its beta (0)
        w.assign(np.zeros(w.shape))
    np.testing.assert_allclose(block(x), x, atol=1e-6)


def test_inception_resnet_block(tmp_path):
    # 6 conv+BN branches (3 weights each) and the projection (kernel, bias)
    layer = run_layer_test(InceptionResNetBlock, {"branch_filters": 4, "scale": 0.2}, (2, 8, 8, 16),
                           (2, 8, 8, 16), 6 * 3 + 2, expected_non_trainable_weights=12, directory=tmp_path)
    x = np.abs(np.random.default_rng(0).normal(size=(1, 4, 4, 16))).astype("float32")
    layer.project.kernel.assign(np.zeros(layer.project.kernel.shape))  # zero residual: relu(x) = x
    np.testing.assert_allclose(layer(x), x, atol=1e-6)


@pytest.mark.parametrize("batch_norm, trainable, non_trainable", [(True, 6, 4), (False, 4, 0)])
def test_conv_block(tmp_path, batch_norm, trainable, non_trainable):
    run_layer_test(ConvBlock, {"filters": 8, "batch_norm": batch_norm, "dropout": 0.1}, (2, 16, 16, 3),
                   (2, 16, 16, 8), trainable, non_trainable, directory=tmp_path)


def test_down_block(tmp_path):
    run_layer_test(DownBlock, {"filters": 8}, (2, 16, 16, 3), [(2, 16, 16, 8), (2, 8, 8, 8)], 6, 4,
                   directory=tmp_path)


def test_up_block(tmp_path):
    run_layer_test(UpBlock, {"filters": 4, "batch_norm": False}, [(2, 8, 8, 16), (2, 16, 16, 8)],
                   (2, 16, 16, 4), 6, 0, directory=tmp_path)

