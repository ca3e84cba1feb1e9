"""Stateless forms of every layer, activation and loss (PyTorch's `torch.nn.functional`).

Shapes follow PyTorch: batches first, images as (N, C, H, W).  Inputs may be Tensors or
plain arrays; a plain-array input to `linear`/`conv2d` is converted to the weight's
dtype, while a Tensor of another dtype is an error (cast it, or the model with `to`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import autodiff as ad
from autodiff import Tensor
from autodiff.ops.conv import int_pair

from .losses import (
    binary_cross_entropy_with_logits,
    cross_entropy,
    half_mse_loss,
    hinge_loss,
    huber_loss,
    mse_loss,
    nll_loss,
)
from .rng import RngLike, resolve_rng

__all__ = [
    "linear",
    "conv2d",
    "max_pool2d",
    "avg_pool2d",
    "flatten",
    "dropout",
    "dropout2d",
    "batch_norm",
    "layer_norm",
    "embedding",
    "relu",
    "tanh",
    "sigmoid",
    "identity",
    "leaky_relu",
    "softplus",
    "quadratic",
    "gelu",
    "silu",
    "softmax",
    "log_softmax",
    "mse_loss",
    "half_mse_loss",
    "cross_entropy",
    "nll_loss",
    "binary_cross_entropy_with_logits",
    "hinge_loss",
    "huber_loss",
]


def _shape(x: Any) -> tuple:
    return x.shape if isinstance(x, (Tensor, np.ndarray)) else np.shape(x)


def _pair(v: Any, name: str, minimum: int = 1) -> tuple[int, int]:
    """v (an int or a pair of ints, each >= minimum) as a pair of ints; `name` starts with
    the operation ("Conv2d: stride")."""
    op, _, parameter = name.partition(": ")
    return int_pair(v, parameter, op, minimum)


def _count(v: Any, name: str) -> int:
    """v as a positive int; `name` starts with the operation ("Linear: in_features")."""
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise TypeError(f"{name} must be a positive int, got {v!r}")
    if v < 1:
        raise ValueError(f"{name} must be a positive int, got {v!r}")
    return int(v)


def _match_input(x: Any, weight: Any, op: str) -> Any:
    """x in the weight's dtype: arrays are converted, a Tensor of another dtype is an error."""
    dtype = weight.dtype
    if isinstance(x, (Tensor, ad.Batched)):  # (Batched: one example under ad.vmap)
        if x.dtype != dtype:
            raise TypeError(
                f"{op}: input dtype {x.dtype} does not match weight dtype {dtype}; "
                f"cast the input with .astype() or the module with .to()"
            )
        return x
    return np.asarray(x, dtype=dtype)


# ------------------------------------------------------------------- layers
def linear(x: Any, weight: Any, bias: Any = None) -> Any:
    """x (..., in) @ weight.T + bias: weight (out, in), bias (out,) -> (..., out)."""
    x = _match_input(x, weight, "linear")
    return ad.linear(x, weight, bias)


def _conv_padding(padding: Any, kernel: tuple, dilation: Any) -> Any:
    if not isinstance(padding, str):
        return padding
    if padding == "valid":
        return 0
    if padding == "same":
        dil = _pair(dilation, "conv2d: dilation")
        if any(k % 2 == 0 for k in kernel):
            raise ValueError(
                f"conv2d: padding='same' needs odd kernel sizes here (symmetric "
                f"padding), got kernel {kernel}"
            )
        return tuple(d * (k - 1) // 2 for k, d in zip(kernel, dil, strict=False))
    raise ValueError(f"conv2d: padding must be an int, a pair, 'same' or 'valid', got {padding!r}")


def conv2d(
    x: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0, dilation: Any = 1
) -> Any:
    """2-D cross-correlation: x (N, C, H, W), weight (O, C, KH, KW), bias (O,) ->
    (N, O, OH, OW) with OH = (H + 2*padding - dilation*(KH-1) - 1) // stride + 1.
    padding may be 'same' (stride 1, odd kernels) or 'valid' (0)."""
    x = _match_input(x, weight, "conv2d")
    same = isinstance(padding, str) and padding == "same"
    if same and _pair(stride, "conv2d: stride") != (1, 1):
        raise ValueError(f"conv2d: padding='same' requires stride 1, got stride={stride}")
    padding = _conv_padding(padding, tuple(_shape(weight)[2:]), dilation)
    return ad.conv2d(x, weight, bias, stride, padding, dilation)


def max_pool2d(x: Any, kernel_size: Any, stride: Any = None, padding: Any = 0) -> Any:
    """Window maxima: (N, C, H, W) -> (N, C, OH, OW); stride defaults to kernel_size."""
    return ad.max_pool2d(x, kernel_size, stride, padding)


def avg_pool2d(x: Any, kernel_size: Any, stride: Any = None, padding: Any = 0) -> Any:
    """Window means (zero padding counted): (N, C, H, W) -> (N, C, OH, OW)."""
    return ad.avg_pool2d(x, kernel_size, stride, padding)


def flatten(x: Any, start_dim: int = 1, end_dim: int = -1) -> Any:
    """Merge dimensions start_dim..end_dim: (N, C, H, W) -> (N, C*H*W) by default."""
    shape = _shape(x)
    ndim = len(shape)
    if ndim == 0:
        return ad.reshape(x, (1,))
    start, end = start_dim % ndim, end_dim % ndim
    if start > end:
        raise ValueError(
            f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for an "
            f"input of shape {shape}"
        )
    merged = int(np.prod(shape[start : end + 1], dtype=np.int64))
    return ad.reshape(x, shape[:start] + (merged,) + shape[end + 1 :])


def dropout(x: Any, p: float = 0.5, training: bool = True, rng: RngLike = None) -> Any:
    """Inverted dropout: zero each element with probability p and scale the survivors by
    1 / (1 - p), so the expectation is unchanged; the identity when not training."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: p must be a probability in [0, 1], got {p}")
    if not training or p == 0.0:
        return x
    dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.float32
    if p == 1.0:
        return x * np.zeros(_shape(x), dtype)
    return x * ad.replayed(_dropout_mask)(resolve_rng(rng, "dropout"), _shape(x), p, dtype)


def _dropout_mask(rng: np.random.Generator, shape: tuple, p: float, dtype: Any) -> np.ndarray:
    """0 with probability p, else 1 / (1 - p): one draw of `shape` uniforms from rng (drawn
    again at every replay of an ad.jit-compiled step)."""
    keep = rng.random(shape, dtype=np.float32) >= p
    return keep.astype(dtype) * (1.0 / (1.0 - p))


def dropout2d(x: Any, p: float = 0.5, training: bool = True, rng: RngLike = None) -> Any:
    """Channel dropout of images x (N, C, H, W) -> (N, C, H, W): while training, zero each
    whole channel x[n, c] with probability p and scale the kept ones by 1 / (1 - p); the
    identity when not training.  One mask draw of shape (N, C) per call."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout2d: p must be a probability in [0, 1], got {p}")
    shape = _shape(x)
    if len(shape) != 4:
        raise ValueError(
            f"dropout2d: expected an input (N, C, H, W) with 4 dimensions, got shape {tuple(shape)}"
        )
    if not training or p == 0.0:
        return x
    dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.float32
    if p == 1.0:
        return x * np.zeros(shape[:2] + (1, 1), dtype)
    mask = ad.replayed(_dropout_mask)(resolve_rng(rng, "dropout2d"), tuple(shape[:2]), p, dtype)
    return x * ad.reshape(mask, tuple(shape[:2]) + (1, 1))


@ad.replayed  # ad.jit makes the update again at every replay, with that call's statistics
def _update_running(
    running_mean, running_var, batch_mean, batch_var, momentum, num_batches_tracked, count
) -> None:
    factor = 1.0 / float(num_batches_tracked) if momentum is None else float(momentum)
    channels = running_mean.shape[0]
    batch_mean = np.asarray(batch_mean).reshape(channels)
    batch_var = np.asarray(batch_var).reshape(channels)
    running_mean *= 1.0 - factor
    running_mean += factor * batch_mean
    running_var *= 1.0 - factor
    running_var += (factor * count / (count - 1)) * batch_var


@ad.replayed  # read at every replay: the running statistics change between calls
def _running_copy(running: np.ndarray, dtype: Any, shape: tuple) -> np.ndarray:
    return np.array(running, dtype=dtype).reshape(shape)


def batch_norm(
    x: Any,
    running_mean: np.ndarray | None,
    running_var: np.ndarray | None,
    weight: Any = None,
    bias: Any = None,
    training: bool = False,
    momentum: float | None = 0.1,
    eps: float = 1e-5,
    num_batches_tracked: np.ndarray | None = None,
) -> Any:
    """Batch normalisation over the channel axis 1 of x (N, C), (N, C, L) or (N, C, H, W).

    Training (or no running statistics given): normalise with the batch's mean and
    biased variance over every axis but 1, and, if the running arrays (C,) are given,
    update them in place, as PyTorch does:
        running = (1 - momentum) * running + momentum * batch_statistic
    with the unbiased batch variance for `running_var` (momentum None: the cumulative
    average over the `num_batches_tracked` batches seen, which must then be given).
    Evaluation: normalise with the running statistics.  Then y = x_hat * weight + bias
    with weight, bias (C,) broadcast over the other axes.  Differentiable to any order
    in x, weight and bias (built from engine primitives)."""
    shape = _shape(x)
    if len(shape) < 2:
        raise ValueError(f"batch_norm: expected an input (N, C, ...), got shape {shape}")
    channels = shape[1]
    for name, a in (
        ("running_mean", running_mean),
        ("running_var", running_var),
        ("weight", weight),
        ("bias", bias),
    ):
        if a is not None and tuple(_shape(a)) != (channels,):
            raise ValueError(
                f"batch_norm: {name} must have shape ({channels},) for an input "
                f"with {channels} channels, got {tuple(_shape(a))}"
            )
    if (running_mean is None) != (running_var is None):
        raise ValueError("batch_norm: give both running_mean and running_var, or neither")
    axes = (0,) + tuple(range(2, len(shape)))
    stat_shape = (1, channels) + (1,) * (len(shape) - 2)
    if training or running_mean is None:
        count = int(np.prod([shape[a] for a in axes]))
        if count < 2:
            raise ValueError(
                f"batch_norm: training needs more than one value per channel, "
                f"got an input of shape {shape}"
            )
        mean = ad.mean(x, axis=axes, keepdims=True)
        centred = x - mean
        var = ad.mean(centred * centred, axis=axes, keepdims=True)
        if running_mean is not None:
            if momentum is None and num_batches_tracked is None:
                raise ValueError(
                    "batch_norm: momentum=None (cumulative average) needs num_batches_tracked"
                )
            _update_running(
                running_mean,
                running_var,
                mean.data if isinstance(mean, Tensor) else mean,
                var.data if isinstance(var, Tensor) else var,
                momentum,
                num_batches_tracked,
                count,
            )
    else:
        dtype = x.dtype if isinstance(x, (Tensor, np.ndarray)) else np.float64
        # copies: the running arrays are updated in place by later training steps
        centred = x - _running_copy(running_mean, dtype, stat_shape)
        var = _running_copy(running_var, dtype, stat_shape)
    scale = 1.0 / ad.sqrt(var + eps)
    if weight is not None:
        scale = scale * ad.reshape(weight, stat_shape)
    out = centred * scale
    if bias is not None:
        out = out + ad.reshape(bias, stat_shape)
    return out


def _normalized_shape(normalized_shape: Any, op: str) -> tuple[int, ...]:
    """normalized_shape (an int or a sequence of positive ints) as a non-empty tuple."""
    items = (
        (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else normalized_shape
    )
    try:
        shape = tuple(items)
    except TypeError:
        shape = None
    if not shape or any(isinstance(d, bool) or not isinstance(d, (int, np.integer)) for d in shape):
        raise TypeError(
            f"{op}: normalized_shape must be a positive int or a non-empty tuple of "
            f"positive ints, got {normalized_shape!r}"
        )
    if any(d < 1 for d in shape):
        raise ValueError(
            f"{op}: normalized_shape must be a positive int or a non-empty tuple of "
            f"positive ints, got {normalized_shape!r}"
        )
    return tuple(int(d) for d in shape)


def layer_norm(
    x: Any, normalized_shape: Any, weight: Any = None, bias: Any = None, eps: float = 1e-5
) -> Any:
    """Layer normalisation over the trailing dimensions: x (..., *normalized_shape) ->
    the same shape, (x - mean) / sqrt(var + eps) * weight + bias, with the mean and the
    biased variance taken over the last len(normalized_shape) axes of each sample, and
    weight, bias (normalized_shape) or None.  A plain-array input is converted to the
    weight's dtype; a Tensor of another dtype is an error."""
    shape_n = _normalized_shape(normalized_shape, "layer_norm")
    if weight is not None:
        x = _match_input(x, weight, "layer_norm")
    elif not isinstance(x, Tensor):
        x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"layer_norm: input must be floating point, got dtype {x.dtype}")
    shape, k = tuple(x.shape), len(shape_n)
    if len(shape) < k or shape[len(shape) - k :] != shape_n:
        raise ValueError(
            f"layer_norm: input of shape {shape} does not end with normalized_shape {shape_n}"
        )
    for name, a in (("weight", weight), ("bias", bias)):
        if a is not None and tuple(_shape(a)) != shape_n:
            raise ValueError(
                f"layer_norm: {name} must have shape {shape_n} (normalized_shape), "
                f"got {tuple(_shape(a))}"
            )
    if not eps > 0:
        raise ValueError(f"layer_norm: eps must be positive, got {eps}")
    axes = tuple(range(len(shape) - k, len(shape)))
    centred = x - ad.mean(x, axis=axes, keepdims=True)
    var = ad.mean(centred * centred, axis=axes, keepdims=True)
    out = centred * (1.0 / ad.sqrt(var + eps))
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


@ad.replayed  # indices may be traced by ad.jit: checked again at every call
def _check_embedding_indices(index: np.ndarray, num: int, wshape: tuple) -> None:
    if index.size and (index.min() < 0 or index.max() >= num):
        bad = index[(index < 0) | (index >= num)]
        raise IndexError(
            f"embedding: index out of range: indices must lie in [0, {num}) for a "
            f"weight of shape {wshape}, found {bad[:5].tolist()}"
        )


@ad.replayed
def _padding_mask(index: np.ndarray, padding: int) -> np.ndarray:
    return (index == padding)[..., None]


def embedding(input: Any, weight: Any, padding_idx: int | None = None) -> Any:
    """Rows of weight (num_embeddings, embedding_dim) picked by the integer indices `input`
    (any shape, values in [0, num_embeddings)) -> (*input.shape, embedding_dim).

    The gradient of weight accumulates over repeated indices.  Entries equal to
    padding_idx (negative counts from the end) still return their row but send no
    gradient to it, as in PyTorch."""
    wshape = tuple(_shape(weight))
    if len(wshape) != 2:
        raise ValueError(
            f"embedding: weight must have shape (num_embeddings, embedding_dim), got {wshape}"
        )
    num = wshape[0]
    index = np.asarray(input.data if isinstance(input, Tensor) else input)
    if not (np.issubdtype(index.dtype, np.integer) and index.dtype != bool):
        raise TypeError(f"embedding: indices must be integers, got dtype {index.dtype}")
    _check_embedding_indices(index, num, wshape)
    out = ad.getitem(weight, index=index)
    if padding_idx is None:
        return out
    padding = _padding_index(padding_idx, num, "embedding")
    pad = _padding_mask(index, padding)  # (no shortcut when no index is padding: under
    # ad.jit the mask differs from call to call)
    constant = weight.detach() if isinstance(weight, Tensor) else weight
    return ad.where(pad, ad.getitem(constant, index=index), out)


def _padding_index(padding_idx: Any, num_embeddings: int, op: str) -> int:
    """padding_idx in [-num_embeddings, num_embeddings) as an index in [0, num_embeddings)."""
    if isinstance(padding_idx, bool) or not isinstance(padding_idx, (int, np.integer)):
        raise TypeError(f"{op}: padding_idx must be an int or None, got {padding_idx!r}")
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise ValueError(
            f"{op}: padding_idx must lie in [-{num_embeddings}, {num_embeddings}) "
            f"(num_embeddings={num_embeddings}), got {padding_idx}"
        )
    return int(padding_idx) % num_embeddings


# --------------------------------------------------------------- activations
relu = ad.relu
tanh = ad.tanh
sigmoid = ad.sigmoid


def _dim(dim: Any, axis: Any, op: str) -> int:
    if axis is not None:
        if dim is not None and dim != axis:
            raise TypeError(
                f"{op}: got both dim={dim} and axis={axis}; pass one (dim is "
                f"PyTorch's name, axis numpy's)"
            )
        return axis
    return -1 if dim is None else dim


def softmax(x: Any, dim: int | None = None, *, axis: int | None = None) -> Any:
    """exp(x) / sum(exp(x)) along `dim` (default the last axis; `axis` is an alias),
    computed stably; same shape as x."""
    return ad.softmax(x, axis=_dim(dim, axis, "softmax"))


def log_softmax(x: Any, dim: int | None = None, *, axis: int | None = None) -> Any:
    """x - logsumexp(x) along `dim` (default the last axis; `axis` is an alias), computed
    stably; same shape as x."""
    return ad.log_softmax(x, axis=_dim(dim, axis, "log_softmax"))


def identity(x: Any) -> Any:
    """The linear activation: returns x."""
    return x


def leaky_relu(x: Any, negative_slope: float = 0.01) -> Any:
    return ad.leaky_relu(x, negative_slope=negative_slope)


def softplus(x: Any, beta: float = 1.0) -> Any:
    """log(1 + exp(beta * x)) / beta, computed stably for any x."""
    if beta == 1.0:
        return ad.softplus(x)
    return ad.softplus(x * beta) * (1.0 / beta)


def quadratic(x: Any) -> Any:
    """g(z) = z^2."""
    return ad.square(x)


_SQRT_HALF = 1.0 / math.sqrt(2.0)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def gelu(x: Any, approximate: str = "none") -> Any:
    """Gaussian error linear unit, elementwise: x * Phi(x) = 0.5 x (1 + erf(x / sqrt(2)))
    (approximate='none', exact), or 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
    (approximate='tanh')."""
    if approximate == "none":
        return x * (0.5 * (1.0 + ad.erf(x * _SQRT_HALF)))
    if approximate == "tanh":
        return x * (0.5 * (1.0 + ad.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * (x * x * x)))))
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def silu(x: Any) -> Any:
    """Sigmoid linear unit (swish), elementwise: x * sigmoid(x)."""
    return x * ad.sigmoid(x)
