"""The fast convolution and pooling paths of autodiff/ops/conv.py: values against direct
references, derivatives of first and second order in both modes, memory layouts."""

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

import autodiff as ad
from autodiff.ops import conv
from autodiff.testing import check_grads

rng = np.random.default_rng(0)


def conv_reference(x, w, stride, padding, dilation):
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    kh, kw = w.shape[2:]
    windows = sliding_window_view(xp, ((kh - 1) * dh + 1, (kw - 1) * dw + 1), axis=(2, 3))
    windows = windows[:, :, ::sh, ::sw, ::dh, ::dw]
    return np.einsum("ncxyij,ocij->noxy", windows, w)


def pool_reference(x, kernel, stride, reduce):
    windows = sliding_window_view(x, kernel, axis=(2, 3))[:, :, :: stride[0], :: stride[1]]
    return reduce(windows, axis=(-2, -1))


GEOMETRIES = [
    ((1, 1), (0, 0), (1, 1)),
    ((1, 1), (1, 1), (1, 1)),
    ((2, 2), (1, 0), (1, 1)),
    ((2, 1), (1, 2), (2, 1)),
    ((3, 2), (0, 1), (1, 2)),
]


@pytest.mark.parametrize("stride, padding, dilation", GEOMETRIES)
def test_conv2d_values(stride, padding, dilation):
    x = rng.standard_normal((2, 3, 9, 8))
    w = rng.standard_normal((4, 3, 3, 2))
    b = rng.standard_normal(4)
    out = ad.conv2d(ad.tensor(x), w, b, stride, padding, dilation)
    expected = conv_reference(x, w, stride, padding, dilation) + b[:, None, None]
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("stride, padding, dilation", GEOMETRIES[1:4])
def test_conv2d_derivatives_to_second_order(stride, padding, dilation):
    x = rng.standard_normal((2, 2, 6, 5))
    w = rng.standard_normal((3, 2, 2, 3))
    b = rng.standard_normal(3)
    check_grads(lambda x, w, b: ad.conv2d(x, w, b, stride, padding, dilation), [x, w, b], order=2)


def test_unfold_and_fold_are_transposes():
    geometry = dict(kernel=(3, 2), stride=(2, 1), padding=(1, 1), dilation=(1, 2))
    x = rng.standard_normal((2, 3, 7, 6))
    cols = conv._unfold(x, **geometry)
    c = rng.standard_normal(cols.shape)
    folded = conv._fold(c, x_shape=x.shape, **geometry)
    assert np.isclose(np.sum(cols * c), np.sum(x * folded))


def test_conv2d_accepts_any_memory_layout():
    x = rng.standard_normal((3, 2, 6, 6))  # (C, N, H, W) memory
    w = rng.standard_normal((4, 3, 3, 3))
    view = x.transpose(1, 0, 2, 3)  # logical (N, C, H, W)
    np.testing.assert_allclose(
        ad.conv2d(ad.tensor(view), w).data,
        conv_reference(np.ascontiguousarray(view), w, (1, 1), (0, 0), (1, 1)),
        rtol=1e-12,
    )


def test_large_conv_split_across_threads_matches_reference():
    x = rng.standard_normal((4, 16, 34, 34)).astype(np.float32)  # unfold > 1M elements
    w = rng.standard_normal((8, 16, 3, 3)).astype(np.float32)
    xt = ad.tensor(x, requires_grad=True)
    out = ad.conv2d(xt, w, None, 1, 1)
    np.testing.assert_allclose(
        out.data, conv_reference(x, w, (1, 1), (1, 1), (1, 1)), rtol=1e-4, atol=1e-4
    )
    g = rng.standard_normal(out.shape).astype(np.float32)
    out.backward(g)
    # d/dx of <conv(x), g> is the full correlation of g with the flipped kernel
    expected = conv_reference(g, w.transpose(1, 0, 2, 3)[:, :, ::-1, ::-1], (1, 1), (1, 1), (1, 1))
    np.testing.assert_allclose(xt.grad, expected, rtol=1e-4, atol=1e-3)
    assert xt.grad.dtype == np.float32


@pytest.mark.parametrize("kernel", [(2, 2), (3, 2), (1, 1)])
def test_block_pooling_values_with_floor_cropping(kernel):
    x = rng.standard_normal((2, 3, 7, 9))
    np.testing.assert_array_equal(
        ad.max_pool2d(x, kernel), pool_reference(x, kernel, kernel, np.max)
    )
    np.testing.assert_allclose(
        ad.avg_pool2d(x, kernel), pool_reference(x, kernel, kernel, np.mean), rtol=1e-12
    )


@pytest.mark.parametrize(
    "kernel, stride, padding", [(2, None, 0), ((3, 2), None, 0), (3, 1, 1), (2, 1, 0)]
)
def test_pooling_derivatives_to_second_order(kernel, stride, padding):
    x = rng.standard_normal((2, 2, 5, 7))
    check_grads(lambda x: ad.max_pool2d(x, kernel, stride, padding), [x], order=2)
    check_grads(lambda x: ad.avg_pool2d(x, kernel, stride, padding), [x], order=2)


def test_max_pool_ties_share_the_gradient_on_both_paths():
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 0, 0] = 1.0
    xt = ad.tensor(x, requires_grad=True)
    ad.max_pool2d(xt, 2).sum().backward()  # non-overlapping: block path
    expected = np.full((4, 4), 0.25)
    expected[:2, :2] = [[1, 0], [0, 0]]
    np.testing.assert_array_equal(xt.grad[0, 0], expected)
    # overlapping windows take the im2col path, which shares ties the same way
    xt = ad.tensor(np.zeros((1, 1, 2, 3)), requires_grad=True)
    ad.max_pool2d(xt, 2, 1).sum().backward()
    np.testing.assert_allclose(xt.grad[0, 0], [[0.25, 0.5, 0.25], [0.25, 0.5, 0.25]])


def test_max_pool_gradient_follows_input_memory_layout():
    x = rng.standard_normal((3, 2, 6, 6)).transpose(1, 0, 2, 3)  # channel-major memory
    xt = ad.tensor(x, requires_grad=True)
    out = ad.max_pool2d(xt, 2)
    out.backward(np.ones(out.shape))
    assert xt.grad.shape == x.shape
    np.testing.assert_array_equal(xt.grad.sum(axis=(2, 3)), np.full((2, 3), 9.0))


def test_geometry_accepts_numpy_ints_and_lists():
    x, w = rng.standard_normal((1, 2, 6, 7)), rng.standard_normal((3, 2, 3, 2))
    expected = np.asarray(ad.conv2d(x, w, stride=(1, 2), padding=(1, 0), dilation=(2, 1)))
    got = ad.conv2d(x, w, stride=[np.int64(1), 2], padding=[1, np.int32(0)], dilation=[2, 1])
    np.testing.assert_array_equal(np.asarray(got), expected)
    np.testing.assert_array_equal(
        np.asarray(ad.max_pool2d(x, np.int64(2), [1, 2])), np.asarray(ad.max_pool2d(x, 2, (1, 2)))
    )


def test_pool_errors():
    with pytest.raises(ValueError, match="max_pool2d: expected an input of shape"):
        ad.max_pool2d(np.ones((2, 3, 4)), 2)
    with pytest.raises(ValueError, match="larger than the padded input"):
        ad.avg_pool2d(np.ones((1, 1, 2, 2)), 3)
