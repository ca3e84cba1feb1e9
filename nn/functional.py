"""Stateless forms of every layer, activation and loss (PyTorch's `torch.nn.functional`).

Shapes follow PyTorch: batches first, images as (N, C, H, W).  Inputs may be Tensors or
plain arrays; a plain-array input to `linear`/`conv2d` is converted to the weight's
dtype, while a Tensor of another dtype is an error (cast it, or the model with `to`).
"""
from __future__ import annotations

from typing import Any

import numpy as np

import autodiff as ad
from autodiff import Tensor
from autodiff.ops.conv import int_pair

from .losses import (binary_cross_entropy_with_logits, cross_entropy, half_mse_loss,
                     hinge_loss, mse_loss, nll_loss)
from .rng import RngLike, resolve_rng

__all__ = ["linear", "conv2d", "max_pool2d", "avg_pool2d", "flatten", "dropout",
           "batch_norm", "relu", "tanh", "sigmoid", "identity", "leaky_relu", "softplus",
           "quadratic", "softmax", "log_softmax", "mse_loss", "half_mse_loss", "cross_entropy",
           "nll_loss", "binary_cross_entropy_with_logits", "hinge_loss"]


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
    if isinstance(x, Tensor):
        if x.dtype != dtype:
            raise TypeError(f"{op}: input dtype {x.dtype} does not match weight dtype {dtype}; "
                            f"cast the input with .astype() or the module with .to()")
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
            raise ValueError(f"conv2d: padding='same' needs odd kernel sizes here (symmetric "
                             f"padding), got kernel {kernel}")
        return tuple(d * (k - 1) // 2 for k, d in zip(kernel, dil))
    raise ValueError(f"conv2d: padding must be an int, a pair, 'same' or 'valid', got "
                     f"{padding!r}")


def conv2d(x: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1) -> Any:
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
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for an "
                         f"input of shape {shape}")
    merged = int(np.prod(shape[start:end + 1], dtype=np.int64))
    return ad.reshape(x, shape[:start] + (merged,) + shape[end + 1:])


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
    keep = resolve_rng(rng, "dropout").random(_shape(x), dtype=np.float32) >= p
    return x * (keep.astype(dtype) * (1.0 / (1.0 - p)))


def batch_norm(x: Any, running_mean: np.ndarray | None, running_var: np.ndarray | None,
               weight: Any = None, bias: Any = None, training: bool = False,
               momentum: float | None = 0.1, eps: float = 1e-5,
               num_batches_tracked: np.ndarray | None = None) -> Any:
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
    for name, a in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if a is not None and tuple(_shape(a)) != (channels,):
            raise ValueError(f"batch_norm: {name} must have shape ({channels},) for an input "
                             f"with {channels} channels, got {tuple(_shape(a))}")
    if (running_mean is None) != (running_var is None):
        raise ValueError("batch_norm: give both running_mean and running_var, or neither")
    axes = (0,) + tuple(range(2, len(shape)))
    stat_shape = (1, channels) + (1,) * (len(shape) - 2)
    if training or running_mean is None:
        count = int(np.prod([shape[a] for a in axes]))
        if count < 2:
            raise ValueError(f"batch_norm: training needs more than one value per channel, "
                             f"got an input of shape {shape}")
        mean = ad.mean(x, axis=axes, keepdims=True)
        centred = x - mean
        var = ad.mean(centred * centred, axis=axes, keepdims=True)
        if running_mean is not None:
            if momentum is None:
                if num_batches_tracked is None:
                    raise ValueError("batch_norm: momentum=None (cumulative average) needs "
                                     "num_batches_tracked")
                factor = 1.0 / float(num_batches_tracked)
            else:
                factor = float(momentum)
            batch_mean = np.asarray(mean.data if isinstance(mean, Tensor) else mean)
            batch_var = np.asarray(var.data if isinstance(var, Tensor) else var)
            batch_mean, batch_var = batch_mean.reshape(channels), batch_var.reshape(channels)
            running_mean *= 1.0 - factor
            running_mean += factor * batch_mean
            running_var *= 1.0 - factor
            running_var += (factor * count / (count - 1)) * batch_var
    else:
        dtype = x.dtype if isinstance(x, (Tensor, np.ndarray)) else np.float64
        # copies: the running arrays are updated in place by later training steps
        centred = x - np.array(running_mean, dtype=dtype).reshape(stat_shape)
        var = np.array(running_var, dtype=dtype).reshape(stat_shape)
    scale = 1.0 / ad.sqrt(var + eps)
    if weight is not None:
        scale = scale * ad.reshape(weight, stat_shape)
    out = centred * scale
    if bias is not None:
        out = out + ad.reshape(bias, stat_shape)
    return out


# --------------------------------------------------------------- activations
relu = ad.relu
tanh = ad.tanh
sigmoid = ad.sigmoid
softmax = ad.softmax
log_softmax = ad.log_softmax


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
