"""2-D convolution and pooling (NCHW), built from the im2col / col2im pair.

`im2col` gathers every sliding window of an (N, C, H, W) input into an array of shape
(N, OH, OW, C, KH, KW); `col2im` is its transpose (it adds each window back to where it
came from).  Each is the other's VJP, so conv2d = im2col then matmul, max_pool2d = max
over windows and avg_pool2d = mean over windows are ordinary compositions with
derivatives of every order.  max_pool2d shares the gradient equally among tied maxima.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..primitive import primitive
from ..tensor import Tensor
from .reductions import max as _max, mean as _mean
from .linalg import matmul
from .shape_ops import reshape, transpose


def _pair(v: Any, name: str, op: str) -> tuple[int, int]:
    pair = (v, v) if isinstance(v, (int, np.integer)) else tuple(v)
    if len(pair) != 2 or any(int(p) != p for p in pair):
        raise ValueError(f"{op}: {name} must be an int or a pair of ints, got {v!r}")
    return int(pair[0]), int(pair[1])


def _out_size(size, k, s, p, d):
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


@primitive
def im2col(x, *, kernel, stride, padding, dilation, pad_value=0.0):
    """(N, C, H, W) -> (N, OH, OW, C, KH, KW): every window of the padded input."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    if ph or pw:
        x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=pad_value)
    n, c, h, w = x.shape
    oh = (h - dh * (kh - 1) - 1) // sh + 1
    ow = (w - dw * (kw - 1) - 1) // sw + 1
    s0, s1, s2, s3 = x.strides
    return as_strided(x, (n, oh, ow, c, kh, kw),
                      (s0, s2 * sh, s3 * sw, s1, s2 * dh, s3 * dw), writeable=False)


@primitive
def col2im(cols, *, x_shape, kernel, stride, padding, dilation):
    """Transpose of im2col: (N, OH, OW, C, KH, KW) windows summed back into (N, C, H, W)."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    n, c, h, w = x_shape
    _, oh, ow = cols.shape[:3]
    out = np.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=cols.dtype)
    windows = cols.transpose(0, 3, 4, 5, 1, 2)  # (N, C, KH, KW, OH, OW)
    for i in range(kh):
        for j in range(kw):
            out[:, :, i * dh:i * dh + sh * (oh - 1) + 1:sh,
                j * dw:j * dw + sw * (ow - 1) + 1:sw] += windows[:, :, i, j]
    return out[:, :, ph:ph + h, pw:pw + w]


def _geometry(kw):
    return {k: kw[k] for k in ("kernel", "stride", "padding", "dilation")}


im2col.defvjp(lambda g, ans, x, **kw: col2im(g, x_shape=x.shape, **_geometry(kw)))
im2col.defjvp(lambda t, ans, x, **kw: im2col(t, **_geometry(kw)))  # tangents pad with 0
col2im.defvjp(lambda g, ans, cols, **kw: im2col(g, **_geometry(kw)))
col2im.defjvp(lambda t, ans, cols, **kw: col2im(t, **kw))


def _shape(x):
    return x.data.shape if isinstance(x, Tensor) else np.shape(x)


def conv2d(x: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1) -> Any:
    """Cross-correlation of x (N, C, H, W) with weight (O, C, KH, KW) -> (N, O, OH, OW),
    OH = (H + 2*padding - dilation*(KH - 1) - 1) // stride + 1 (likewise OW); bias (O,)."""
    xs, ws = _shape(x), _shape(weight)
    if len(xs) != 4 or len(ws) != 4:
        raise ValueError(f"conv2d: expected input (N, C, H, W) and weight (O, C, KH, KW), got "
                         f"shapes {xs} and {ws}")
    if xs[1] != ws[1]:
        raise ValueError(f"conv2d: input has {xs[1]} channels (shape {xs}) but the weight "
                         f"expects {ws[1]} (shape {ws})")
    geometry = dict(kernel=(ws[2], ws[3]), stride=_pair(stride, "stride", "conv2d"),
                    padding=_pair(padding, "padding", "conv2d"),
                    dilation=_pair(dilation, "dilation", "conv2d"))
    oh = _out_size(xs[2], ws[2], geometry["stride"][0], geometry["padding"][0],
                   geometry["dilation"][0])
    ow = _out_size(xs[3], ws[3], geometry["stride"][1], geometry["padding"][1],
                   geometry["dilation"][1])
    if oh <= 0 or ow <= 0:
        raise ValueError(f"conv2d: the {ws[2]}x{ws[3]} kernel (dilation {geometry['dilation']}) "
                         f"does not fit the padded input of shape {xs}")
    n, o = xs[0], ws[0]
    cols = reshape(im2col(x, **geometry), (n * oh * ow, -1))
    out = matmul(cols, transpose(reshape(weight, (o, -1))))
    if bias is not None:
        if _shape(bias) != (o,):
            raise ValueError(f"conv2d: bias must have shape ({o},), got {_shape(bias)}")
        out = out + bias
    return transpose(reshape(out, (n, oh, ow, o)), (0, 3, 1, 2))


def _pool(x, kernel_size, stride, padding, op, pad_value):
    xs = _shape(x)
    if len(xs) != 4:
        raise ValueError(f"{op}: expected an input of shape (N, C, H, W), got {xs}")
    kernel = _pair(kernel_size, "kernel_size", op)
    stride = kernel if stride is None else _pair(stride, "stride", op)
    padding = _pair(padding, "padding", op)
    if padding[0] * 2 > kernel[0] or padding[1] * 2 > kernel[1]:
        raise ValueError(f"{op}: padding {padding} must be at most half the kernel {kernel}")
    if xs[2] + 2 * padding[0] < kernel[0] or xs[3] + 2 * padding[1] < kernel[1]:
        raise ValueError(f"{op}: kernel {kernel} is larger than the padded input {xs}")
    cols = im2col(x, kernel=kernel, stride=stride, padding=padding, dilation=(1, 1),
                  pad_value=pad_value)
    return cols


def max_pool2d(x: Any, kernel_size: Any, stride: Any = None, padding: Any = 0) -> Any:
    """Max over each window of x (N, C, H, W) -> (N, C, OH, OW); stride defaults to the
    kernel size, padding counts as -inf."""
    cols = _pool(x, kernel_size, stride, padding, "max_pool2d", -np.inf)
    return transpose(_max(cols, axis=(4, 5)), (0, 3, 1, 2))


def avg_pool2d(x: Any, kernel_size: Any, stride: Any = None, padding: Any = 0) -> Any:
    """Mean over each window of x (N, C, H, W) -> (N, C, OH, OW); padding counts as 0 and is
    included in the average (PyTorch's default count_include_pad=True)."""
    cols = _pool(x, kernel_size, stride, padding, "avg_pool2d", 0.0)
    return transpose(_mean(cols, axis=(4, 5)), (0, 3, 1, 2))
