"""2-D convolution and pooling (NCHW), built from sliding-window gathers and their transposes.

`im2col` gathers every sliding window of an (N, C, H, W) input into an array of shape
(N, OH, OW, C, KH, KW); `col2im` is its transpose (it adds each window back to where it
came from).  Each is the other's VJP, so max_pool2d = max over windows and avg_pool2d =
mean over windows are ordinary compositions with derivatives of every order.
max_pool2d shares the gradient equally among tied maxima.

Fast paths (same results, same derivative semantics):

* conv2d uses `_unfold` / `_fold`, a pair with the batch innermost: windows become a
  contiguous (C*KH*KW, OH*OW*N) matrix in one copy, the convolution is the single matmul
  weight(O, C*KH*KW) @ cols, and the result (O, OH, OW, N) is returned as a transposed
  view.  Activations therefore live in memory as (C, H, W, N); the next layer's unfold
  and the backward fold then move runs of OW*N contiguous numbers (instead of OW), and
  gradients come back in the same layout, so no pass ever transposes a large array.
* Pooling with non-overlapping windows (stride == kernel, no padding), the usual case,
  works on a (N, C, OH, KH, OW, KW) view of the input (`_block_*`): a running maximum
  over the KH*KW offsets forward, one masked write backward, no im2col copy.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..dispatch import primitive, replayed
from ..tensor import Tensor
from .batch_rules import merged_batch
from .linalg import matmul
from .reductions import max as _max
from .reductions import mean as _mean
from .shape_ops import moveaxis, repeat_example, reshape, transpose


def int_pair(v: Any, name: str, op: str, minimum: int = 1) -> tuple[int, int]:
    """v (an int or a pair of ints, each >= minimum) as a pair of Python ints; the error
    names the operation `op` and the parameter `name` (also used by nn's layers)."""
    pair = (v, v) if isinstance(v, (int, np.integer)) else v
    if (
        not isinstance(pair, (tuple, list))
        or len(pair) != 2
        or not all(isinstance(p, (int, np.integer)) and not isinstance(p, bool) for p in pair)
    ):
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {v!r}")
    if pair[0] < minimum or pair[1] < minimum:
        raise ValueError(
            f"{op}: {name} must be {'positive' if minimum else 'non-negative'}, got {v!r}"
        )
    return int(pair[0]), int(pair[1])


def _check_geometry(op: str, kernel: Any, stride: Any, padding: Any, dilation: Any) -> tuple:
    """The four window parameters of im2col/col2im as validated pairs."""
    return (
        int_pair(kernel, "kernel", op),
        int_pair(stride, "stride", op),
        int_pair(padding, "padding", op, 0),
        int_pair(dilation, "dilation", op),
    )


def _fit_error(op: str, size: tuple, kernel: tuple, padding: tuple, dilation: tuple) -> str:
    """The message for a (dilated) kernel that spans more than the padded input."""
    span = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation, strict=False))
    padded = tuple(s + 2 * p for s, p in zip(size, padding, strict=False))
    return (
        f"{op}: the {kernel[0]}x{kernel[1]} kernel with dilation {dilation} spans "
        f"{span[0]}x{span[1]}, larger than the padded input {padded[0]}x{padded[1]} "
        f"(input {size[0]}x{size[1]}, padding {padding}); expected a span of at most "
        f"the padded input size"
    )


def _out_size(size, k, s, p, d):
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


@primitive
def im2col(x, *, kernel, stride, padding, dilation, pad_value=0.0):
    """(N, C, H, W) -> (N, OH, OW, C, KH, KW): every window of the padded input."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = _check_geometry(
        "im2col", kernel, stride, padding, dilation
    )
    if x.ndim != 4:
        raise ValueError(f"im2col: expected an input of shape (N, C, H, W), got {x.shape}")
    size = x.shape[2:]
    if ph or pw:
        x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=pad_value)
    n, c, h, w = x.shape
    oh = (h - dh * (kh - 1) - 1) // sh + 1
    ow = (w - dw * (kw - 1) - 1) // sw + 1
    if oh < 1 or ow < 1:
        raise ValueError(_fit_error("im2col", size, (kh, kw), (ph, pw), (dh, dw)))
    s0, s1, s2, s3 = x.strides
    return as_strided(
        x, (n, oh, ow, c, kh, kw), (s0, s2 * sh, s3 * sw, s1, s2 * dh, s3 * dw), writeable=False
    )


@primitive
def col2im(cols, *, x_shape, kernel, stride, padding, dilation):
    """Transpose of im2col: (N, OH, OW, C, KH, KW) windows summed back into (N, C, H, W)."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = _check_geometry(
        "col2im", kernel, stride, padding, dilation
    )
    if len(x_shape) != 4:
        raise ValueError(f"col2im: x_shape must be (N, C, H, W), got {x_shape}")
    n, c, h, w = x_shape
    oh = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    ow = (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    if oh < 1 or ow < 1:
        raise ValueError(_fit_error("col2im", (h, w), (kh, kw), (ph, pw), (dh, dw)))
    if cols.shape != (n, oh, ow, c, kh, kw):
        raise ValueError(
            f"col2im: windows of shape {cols.shape} do not match x_shape "
            f"{tuple(x_shape)} and this geometry; expected {(n, oh, ow, c, kh, kw)}"
        )
    out = np.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=cols.dtype)
    windows = cols.transpose(0, 3, 4, 5, 1, 2)  # (N, C, KH, KW, OH, OW)
    for i in range(kh):
        for j in range(kw):
            out[
                :,
                :,
                i * dh : i * dh + sh * (oh - 1) + 1 : sh,
                j * dw : j * dw + sw * (ow - 1) + 1 : sw,
            ] += windows[:, :, i, j]
    return out[:, :, ph : ph + h, pw : pw + w]


def _geometry(kw):
    return {k: kw[k] for k in ("kernel", "stride", "padding", "dilation")}


im2col.defvjp(lambda g, ans, x, **kw: col2im(g, x_shape=x.shape, **_geometry(kw)))
im2col.defjvp(lambda t, ans, x, **kw: im2col(t, **_geometry(kw)))  # tangents pad with 0
col2im.defvjp(lambda g, ans, cols, **kw: im2col(g, **_geometry(kw)))
col2im.defjvp(lambda t, ans, cols, **kw: col2im(t, **kw))

# Under vmap the batch B and the images' own batch N are merged into B*N images.
im2col.defbatch(merged_batch(im2col))


def _merged_shape(size, x_shape):
    return (size * x_shape[0],) + tuple(x_shape[1:])


def _col2im_batch(args, axes, *, x_shape, **kw):
    out = merged_batch(col2im)(
        args, axes, x_shape=_merged_shape(_shape(args[0])[0], x_shape), **kw
    )[0]
    return out, 0


col2im.defbatch(_col2im_batch)


def _shape(x):
    return x._data.shape if isinstance(x, Tensor) else np.shape(x)


def _raw(x):
    return x._data if isinstance(x, Tensor) else np.asarray(x)


# ------------------------------------------------------- batch-innermost unfold / fold
# The window copies and sums are many short strided numpy loops: they run at a fraction of
# memory speed, and numpy releases the GIL in them, so large ones are split by channel
# across threads (the BLAS calls between them use all cores anyway).
_THREADS = max(
    1,
    min(
        4,
        len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1),
    ),
)
_MIN_SPLIT = 1 << 20  # elements; below this a thread hand-off costs more than it saves
_executor = None
_executor_pid = None


def _split_channels(work, channels, size):
    """Run work(lo, hi) over the channel range [0, channels), in parallel when it is large."""
    global _executor, _executor_pid
    parts = min(_THREADS, channels)
    if parts < 2 or size < _MIN_SPLIT:
        work(0, channels)
        return
    if _executor is None or _executor_pid != os.getpid():  # a forked child needs its own
        _executor = ThreadPoolExecutor(_THREADS - 1, thread_name_prefix="autodiff-conv")
        _executor_pid = os.getpid()
    bounds = [channels * k // parts for k in range(parts + 1)]
    futures = [
        _executor.submit(work, lo, hi) for lo, hi in zip(bounds[1:-1], bounds[2:], strict=False)
    ]
    work(bounds[0], bounds[1])
    for f in futures:
        f.result()


@primitive
def _unfold(x, *, kernel, stride, padding, dilation):
    """(N, C, H, W) -> contiguous (C*KH*KW, OH*OW*N): row (c, i, j), column (oh, ow, n) holds
    x_padded[n, c, oh*sh + i*dh, ow*sw + j*dw]."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    n, c, h, w = x.shape
    xt = x.transpose(1, 2, 3, 0)  # (C, H, W, N): free when x is a conv output
    if ph or pw:
        padded = np.zeros((c, h + 2 * ph, w + 2 * pw, n), x.dtype)
        padded[:, ph : ph + h, pw : pw + w] = xt
        xt = padded
    oh = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    ow = (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    s_c, s_h, s_w, s_n = xt.strides
    windows = as_strided(
        xt,
        (c, kh, kw, oh, ow, n),
        (s_c, s_h * dh, s_w * dw, s_h * sh, s_w * sw, s_n),
        writeable=False,
    )
    cols = np.empty((c, kh, kw, oh, ow, n), x.dtype)
    _split_channels(lambda lo, hi: np.copyto(cols[lo:hi], windows[lo:hi]), c, cols.size)
    return cols.reshape(c * kh * kw, oh * ow * n)


@primitive
def _fold(cols, *, x_shape, kernel, stride, padding, dilation):
    """Transpose of _unfold: each column's window added back into an (N, C, H, W) array
    (returned as a view of (C, H, W, N) memory)."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    n, c, h, w = x_shape
    oh = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    ow = (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    windows = cols.reshape(c, kh, kw, oh, ow, n)
    out = np.zeros((c, h + 2 * ph, w + 2 * pw, n), cols.dtype)

    def add_windows(lo, hi):
        for i in range(kh):
            for j in range(kw):
                out[
                    lo:hi,
                    i * dh : i * dh + sh * (oh - 1) + 1 : sh,
                    j * dw : j * dw + sw * (ow - 1) + 1 : sw,
                ] += windows[lo:hi, i, j]

    _split_channels(add_windows, c, cols.size)
    return out[:, ph : ph + h, pw : pw + w].transpose(3, 0, 1, 2)


_unfold.defvjp(lambda g, ans, x, **kw: _fold(g, x_shape=x.shape, **kw))
_unfold.defjvp(lambda t, ans, x, **kw: _unfold(t, **kw))
_fold.defvjp(lambda g, ans, cols, x_shape, **kw: _unfold(g, **kw))
_fold.defjvp(lambda t, ans, cols, **kw: _fold(t, **kw))


def _unfold_batch(args, axes, **kw):
    # B*N images unfold to columns ordered (oh, ow, b, n); the batch moves to the front
    x = args[0]
    size, n = _shape(x)[:2]
    cols = _unfold(reshape(x, _merged_shape(size, _shape(x)[1:])), **kw)
    rows = _shape(cols)[0]
    cols = transpose(reshape(cols, (rows, -1, size, n)), (2, 0, 1, 3))
    return reshape(cols, (size, rows, -1)), 0


def _fold_batch(args, axes, *, x_shape, **kw):
    cols = args[0]
    size, rows = _shape(cols)[:2]
    n = x_shape[0]
    cols = reshape(transpose(reshape(cols, (size, rows, -1, n)), (1, 2, 0, 3)), (rows, -1))
    out = _fold(cols, x_shape=_merged_shape(size, x_shape), **kw)
    return reshape(out, (size,) + tuple(x_shape)), 0


_unfold.defbatch(_unfold_batch)
_fold.defbatch(_fold_batch)


def conv2d(
    x: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0, dilation: Any = 1
) -> Any:
    """Cross-correlation of x (N, C, H, W) with weight (O, C, KH, KW) -> (N, O, OH, OW),
    OH = (H + 2*padding - dilation*(KH - 1) - 1) // stride + 1 (likewise OW); bias (O,)."""
    xs, ws = _shape(x), _shape(weight)
    if len(xs) != 4 or len(ws) != 4:
        raise ValueError(
            f"conv2d: expected input (N, C, H, W) and weight (O, C, KH, KW), got "
            f"shapes {xs} and {ws}"
        )
    if xs[1] != ws[1]:
        raise ValueError(
            f"conv2d: input has {xs[1]} channels (shape {xs}) but the weight "
            f"expects {ws[1]} (shape {ws})"
        )
    if ws[2] < 1 or ws[3] < 1:
        raise ValueError(
            f"conv2d: the weight (O, C, KH, KW) must have a kernel of at least 1x1, got shape {ws}"
        )
    kernel = (ws[2], ws[3])
    stride = int_pair(stride, "stride", "conv2d")
    padding = int_pair(padding, "padding", "conv2d", 0)
    dilation = int_pair(dilation, "dilation", "conv2d")
    oh = _out_size(xs[2], kernel[0], stride[0], padding[0], dilation[0])
    ow = _out_size(xs[3], kernel[1], stride[1], padding[1], dilation[1])
    if oh <= 0 or ow <= 0:
        raise ValueError(_fit_error("conv2d", xs[2:], kernel, padding, dilation))
    n, o = xs[0], ws[0]
    if bias is not None and _shape(bias) != (o,):
        raise ValueError(f"conv2d: bias must have shape ({o},), got {_shape(bias)}")
    geometry = dict(kernel=kernel, stride=stride, padding=padding, dilation=dilation)
    cols = _unfold(x, **geometry)  # (C*KH*KW, OH*OW*N)
    out = reshape(matmul(reshape(weight, (o, -1)), cols), (o, oh, ow, n))
    if bias is not None:
        out = out + reshape(bias, (o, 1, 1, 1))
    return transpose(out, (3, 0, 1, 2))


# ------------------------------------------------------------------------------ pooling
def _blocks(a, kernel):
    """(N, C, H, W) -> view (N, C, OH, KH, OW, KW) of its non-overlapping windows (rows and
    columns beyond OH*KH, OW*KW are left out)."""
    (kh, kw), (n, c, h, w) = kernel, a.shape
    s0, s1, s2, s3 = a.strides
    return as_strided(
        a,
        (n, c, h // kh, kh, w // kw, kw),
        (s0, s1, s2 * kh, s2, s3 * kw, s3),
        writeable=a.flags.writeable,
    )


def _slabs(a, kernel):
    """The KH*KW strided views a[:, :, i::KH, j::KW], each (N, C, OH, OW): slab k = (i, j)
    holds offset (i, j) of every window."""
    b = _blocks(a, kernel)
    return [b[:, :, :, i, :, j] for i in range(kernel[0]) for j in range(kernel[1])]


def _empty_in_layout(shape, dtype, order, lead=()):
    """An empty array of `lead + shape` whose trailing axes are laid out in memory in the
    axis order `order` (so elementwise work with an array of that layout runs contiguously)."""
    physical = np.empty(tuple(lead) + tuple(shape[a] for a in order), dtype)
    n = len(lead)
    return physical.transpose(tuple(range(n)) + tuple(n + int(a) for a in np.argsort(order)))


def _memory_order(a):
    """The axis permutation listing a's axes from the largest stride to the smallest."""
    return tuple(int(i) for i in np.argsort([-s for s in a.strides], kind="stable"))


@primitive
def _block_max(x, *, kernel):
    """Maximum of each non-overlapping window: (N, C, H, W) -> (N, C, H//KH, W//KW)."""
    slabs = _slabs(x, kernel)
    out = slabs[0].copy(order="K")
    for s in slabs[1:]:
        np.maximum(out, s, out=out)
    return out


@primitive
def _block_gather(x, weights, *, kernel):
    """sum over window offsets k of slab_k(x) * weights[k] -> (N, C, OH, OW); weights has
    shape (KH*KW, N, C, OH, OW), or is None for all ones (window sums)."""
    out = None
    for k, s in enumerate(_slabs(x, kernel)):
        term = s if weights is None else np.multiply(s, weights[k], dtype=s.dtype)
        out = term.copy(order="K") if out is None else np.add(out, term, out=out)
    return out


@primitive
def _block_spread(g, weights, *, kernel, x_shape, order):
    """Transpose of _block_gather: an (N, C, H, W) array whose slab k is g * weights[k]
    (zero in rows/columns no window covers), laid out in memory in axis order `order`."""
    covered = x_shape[2] % kernel[0] == 0 and x_shape[3] % kernel[1] == 0
    out = _empty_in_layout(x_shape, np.result_type(g), order)
    if not covered:
        out[...] = 0
    if weights is not None and weights.dtype == bool:
        weights = weights.view(np.uint8)  # uint8 * float multiplies much faster than bool * float
    for k, s in enumerate(_slabs(out, kernel)):
        if weights is None:
            np.copyto(s, g)
        else:
            np.multiply(g, weights[k], out=s)
    return out


_block_gather.defvjp(
    lambda g, ans, x, weights, kernel: _block_spread(
        g, weights, kernel=kernel, x_shape=x.shape, order=tuple(range(x.ndim))
    ),
    None,
)
_block_gather.defjvp(
    lambda t, ans, x, weights, kernel: _block_gather(t, weights, kernel=kernel), None
)
_block_spread.defvjp(
    lambda g, ans, gp, weights, kernel, **kw: _block_gather(g, weights, kernel=kernel), None
)
_block_spread.defjvp(lambda t, ans, gp, weights, **kw: _block_spread(t, weights, **kw), None)


def _merged_block_operands(args, axes):
    """(images (B*N, ...), window weights (KH*KW, B*N, C, OH, OW) or None, B) from the
    batched operands of _block_gather / _block_spread: (x or g, weights)."""
    a, weights = args
    size = _shape(a if axes[0] is not None else weights)[0]
    if axes[0] is None:
        a = repeat_example(a, size)
    a = reshape(a, _merged_shape(size, _shape(a)[1:]))
    if weights is not None:
        weights = moveaxis(
            weights if axes[1] is not None else repeat_example(weights, size), 0, 1
        )  # (KH*KW, B, N, ...)
        shape = _shape(weights)
        weights = reshape(weights, (shape[0], shape[1] * shape[2]) + shape[3:])
    return a, weights, size


def _block_gather_batch(args, axes, *, kernel):
    x, weights, size = _merged_block_operands(args, axes)
    out = _block_gather(x, weights, kernel=kernel)
    n = _shape(out)[0] // size if size else 0
    return reshape(out, (size, n) + _shape(out)[1:]), 0


def _block_spread_batch(args, axes, *, kernel, x_shape, order):
    g, weights, size = _merged_block_operands(args, axes)
    out = _block_spread(
        g, weights, kernel=kernel, x_shape=_merged_shape(size, x_shape), order=order
    )
    return reshape(out, (size,) + tuple(x_shape)), 0


_block_gather.defbatch(_block_gather_batch)
_block_spread.defbatch(_block_spread_batch)


@replayed
def _max_hits(x, ans, kernel):
    """(hits (KH*KW, N, C, OH, OW): where each window offset attains the window maximum,
    number of tied maxima per window)."""
    x, ans = _raw(x), _raw(ans)
    slabs = _slabs(x, kernel)
    hits = _empty_in_layout(ans.shape, bool, _memory_order(ans), lead=(len(slabs),))
    for k, s in enumerate(slabs):
        np.equal(s, ans, out=hits[k])
    ints = hits.view(np.uint8) if len(slabs) < 256 else hits.astype(np.int32)
    count = ints[0].copy(order="K")
    for k in range(1, len(slabs)):
        count += ints[k]
    return hits, count


def _block_max_vjp(g, ans, x, kernel):
    hits, count = _max_hits(x, ans, kernel)
    return _block_spread(
        g / count, hits, kernel=kernel, x_shape=x.shape, order=_memory_order(_raw(x))
    )


def _block_max_jvp(t, ans, x, kernel):
    hits, count = _max_hits(x, ans, kernel)
    return _block_gather(t, hits, kernel=kernel) / count


_block_max.defvjp(_block_max_vjp)
_block_max.defjvp(_block_max_jvp)
_block_max.defbatch(merged_batch(_block_max))


def _pool(x, kernel_size, stride, padding, op, pad_value):
    """Validated geometry, and the im2col windows unless the fast block path applies."""
    xs = _shape(x)
    if len(xs) != 4:
        raise ValueError(f"{op}: expected an input of shape (N, C, H, W), got {xs}")
    kernel = int_pair(kernel_size, "kernel_size", op)
    stride = kernel if stride is None else int_pair(stride, "stride", op)
    padding = int_pair(padding, "padding", op, 0)
    if padding[0] * 2 > kernel[0] or padding[1] * 2 > kernel[1]:
        raise ValueError(f"{op}: padding {padding} must be at most half the kernel {kernel}")
    if xs[2] + 2 * padding[0] < kernel[0] or xs[3] + 2 * padding[1] < kernel[1]:
        raise ValueError(
            f"{op}: kernel {kernel} is larger than the padded input "
            f"{(xs[2] + 2 * padding[0], xs[3] + 2 * padding[1])} (input shape "
            f"{xs}, padding {padding}); expected a kernel of at most that size"
        )
    if stride == kernel and padding == (0, 0):
        return kernel, None
    return kernel, im2col(
        x, kernel=kernel, stride=stride, padding=padding, dilation=(1, 1), pad_value=pad_value
    )


def max_pool2d(x: Any, kernel_size: Any, stride: Any = None, padding: Any = 0) -> Any:
    """Max over each window of x (N, C, H, W) -> (N, C, OH, OW); stride defaults to the
    kernel size, padding counts as -inf."""
    kernel, cols = _pool(x, kernel_size, stride, padding, "max_pool2d", -np.inf)
    if cols is None:
        return _block_max(x, kernel=kernel)
    return transpose(_max(cols, axis=(4, 5)), (0, 3, 1, 2))


def avg_pool2d(x: Any, kernel_size: Any, stride: Any = None, padding: Any = 0) -> Any:
    """Mean over each window of x (N, C, H, W) -> (N, C, OH, OW); padding counts as 0 and is
    included in the average (PyTorch's default count_include_pad=True)."""
    kernel, cols = _pool(x, kernel_size, stride, padding, "avg_pool2d", 0.0)
    if cols is None:
        return _block_gather(x, None, kernel=kernel) * (1.0 / (kernel[0] * kernel[1]))
    return transpose(_mean(cols, axis=(4, 5)), (0, 3, 1, 2))
