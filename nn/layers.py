"""Layers and containers.  Each forward is a call into `nn.functional`.

Layers with parameters take `dtype` (float32 by default) and `rng` (Generator, seed, or
None for the package-wide generator) for their default initialisation, which is
PyTorch's (see `nn.init`).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from autodiff import Tensor, replayed

from . import functional as F
from . import init
from .module import Module, Parameter
from .rng import RngLike, resolve_rng


# ------------------------------------------------------------------ layers
class Linear(Module):
    """y = x @ weight.T + bias.  x (..., in_features) -> (..., out_features).

    weight (out_features, in_features) and bias (out_features,) start from
    U(-1/sqrt(in_features), 1/sqrt(in_features))."""

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        *,
        dtype: Any = np.float32,
        rng: RngLike = None,
    ):
        super().__init__()
        self.in_features = F._count(in_features, "Linear: in_features")
        self.out_features = F._count(out_features, "Linear: out_features")
        self.weight = Parameter(np.zeros((out_features, in_features), dtype))
        self.register_parameter("bias", Parameter(np.zeros(out_features, dtype)) if bias else None)
        self.reset_parameters(rng)

    def reset_parameters(self, rng: RngLike = None) -> None:
        init.default_init_(self.weight, self.bias, rng)

    def forward(self, x: Any) -> Any:
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class Conv2d(Module):
    """2-D convolution (cross-correlation) over (N, C, H, W) inputs -> (N, O, OH, OW).

    padding: int, pair, 'valid' (0) or 'same' (stride 1, odd kernel).  weight
    (out_channels, in_channels, kh, kw) and bias (out_channels,) start from
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = in_channels * kh * kw."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        bias: bool = True,
        dilation: Any = 1,
        *,
        dtype: Any = np.float32,
        rng: RngLike = None,
    ):
        super().__init__()
        self.in_channels = F._count(in_channels, "Conv2d: in_channels")
        self.out_channels = F._count(out_channels, "Conv2d: out_channels")
        self.kernel_size = F._pair(kernel_size, "Conv2d: kernel_size")
        self.stride = F._pair(stride, "Conv2d: stride")
        self.dilation = F._pair(dilation, "Conv2d: dilation")
        self.padding = (
            padding if isinstance(padding, str) else F._pair(padding, "Conv2d: padding", 0)
        )
        if self.padding == "same" and self.stride != (1, 1):
            raise ValueError(f"Conv2d: padding='same' requires stride 1, got {self.stride}")
        F._conv_padding(self.padding, self.kernel_size, self.dilation)  # validates strings
        self.weight = Parameter(np.zeros((out_channels, in_channels) + self.kernel_size, dtype))
        self.register_parameter("bias", Parameter(np.zeros(out_channels, dtype)) if bias else None)
        self.reset_parameters(rng)

    def reset_parameters(self, rng: RngLike = None) -> None:
        init.default_init_(self.weight, self.bias, rng)

    def forward(self, x: Any) -> Any:
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation)

    def extra_repr(self) -> str:
        s = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}, padding={self.padding!r}"
        )
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        return s + ("" if self.bias is not None else ", bias=False")


class _Pool2d(Module):
    _fn: Any = None

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0):
        super().__init__()
        name = type(self).__name__
        self.kernel_size = F._pair(kernel_size, f"{name}: kernel_size")
        self.stride = self.kernel_size if stride is None else F._pair(stride, f"{name}: stride")
        self.padding = F._pair(padding, f"{name}: padding", 0)
        if any(2 * p > k for p, k in zip(self.padding, self.kernel_size, strict=False)):
            raise ValueError(
                f"{name}: padding {self.padding} must be at most half the kernel {self.kernel_size}"
            )

    def forward(self, x: Any) -> Any:
        return type(self)._fn(x, self.kernel_size, self.stride, self.padding)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_Pool2d):
    """Maximum over windows: (N, C, H, W) -> (N, C, OH, OW); stride defaults to the kernel."""

    _fn = staticmethod(F.max_pool2d)


class AvgPool2d(_Pool2d):
    """Mean over windows (zero padding counted): (N, C, H, W) -> (N, C, OH, OW)."""

    _fn = staticmethod(F.avg_pool2d)


class Flatten(Module):
    """Merge dimensions start_dim..end_dim: (N, C, H, W) -> (N, C*H*W) by default."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, x: Any) -> Any:
        return F.flatten(x, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class _Dropout(Module):
    """Shared code of Dropout and Dropout2d: the drop probability p, checked, and the
    masks' generator; `_drop` is the functional form (x, p, training, rng) -> output."""

    _drop: Callable[..., Any]

    def __init__(self, p: float = 0.5, *, rng: RngLike = None):
        super().__init__()
        name = type(self).__name__
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"{name}: p must be a probability in [0, 1], got {p}")
        self.p = float(p)
        self.rng = None if rng is None else resolve_rng(rng, name)

    def forward(self, x: Any) -> Any:
        return self._drop(x, self.p, self.training, self.rng)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Dropout(_Dropout):
    """Inverted dropout with drop probability p while training; the identity in eval mode.

    Masks come from `rng` (Generator or seed: a private generator, so a seeded model
    reproduces its masks; None: the package-wide generator)."""

    _drop = staticmethod(F.dropout)


class Dropout2d(_Dropout):
    """Channel dropout of images (N, C, H, W) -> (N, C, H, W) while training: each whole
    channel x[n, c] is zeroed with probability p, the others scaled by 1 / (1 - p); the
    identity in eval mode.  `rng` as for Dropout."""

    _drop = staticmethod(F.dropout2d)


@replayed  # in place, and again at every ad.jit replay
def _count_batch(num_batches_tracked: np.ndarray) -> None:
    num_batches_tracked += 1


class _BatchNorm(Module):
    """Shared code of BatchNorm1d/2d: normalise each channel (axis 1) by batch statistics
    while training, by running statistics in eval mode (PyTorch's behaviour).

    weight (C,) starts at 1 and bias (C,) at 0 (affine=True).  The running statistics
    `running_mean` (zeros), `running_var` (ones) and `num_batches_tracked` are buffers,
    not Parameters: optimizers never see them, `state_dict()` and `to()` do."""

    _input_ndims: tuple = ()

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        *,
        dtype: Any = np.float32,
    ):
        super().__init__()
        if num_features <= 0:
            raise ValueError(
                f"{type(self).__name__}: num_features must be positive, got {num_features}"
            )
        if not eps > 0:
            raise ValueError(f"{type(self).__name__}: eps must be positive, got {eps}")
        if momentum is not None and not 0.0 <= momentum <= 1.0:
            raise ValueError(
                f"{type(self).__name__}: momentum must lie in [0, 1] or be None, got {momentum}"
            )
        self.num_features = int(num_features)
        self.eps = float(eps)
        self.momentum = None if momentum is None else float(momentum)
        self.affine = bool(affine)
        self.track_running_stats = bool(track_running_stats)
        self.register_parameter(
            "weight", Parameter(np.ones(num_features, dtype)) if affine else None
        )
        self.register_parameter(
            "bias", Parameter(np.zeros(num_features, dtype)) if affine else None
        )
        self.reset_running_stats(dtype)

    def reset_running_stats(self, dtype: Any = None) -> None:
        """running_mean = 0, running_var = 1, num_batches_tracked = 0 (or None when the
        layer does not track running statistics)."""
        if not self.track_running_stats:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)
            return
        dtype = dtype or self.running_mean.dtype
        self.register_buffer("running_mean", np.zeros(self.num_features, dtype))
        self.register_buffer("running_var", np.ones(self.num_features, dtype))
        self.register_buffer("num_batches_tracked", np.zeros((), np.int64))

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            init.zeros_(self.bias)

    def forward(self, x: Any) -> Any:
        shape = F._shape(x)
        if len(shape) not in self._input_ndims:
            raise ValueError(
                f"{type(self).__name__}: expected an input with "
                f"{' or '.join(map(str, self._input_ndims))} dimensions, got "
                f"shape {tuple(shape)}"
            )
        use_batch = self.training or not self.track_running_stats
        if self.training and self.track_running_stats:
            _count_batch(self.num_batches_tracked)
        return F.batch_norm(
            x,
            self.running_mean if self.track_running_stats else None,
            self.running_var if self.track_running_stats else None,
            self.weight,
            self.bias,
            use_batch,
            self.momentum,
            self.eps,
            self.num_batches_tracked,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) inputs over N (and L), per channel C."""

    _input_ndims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of images (N, C, H, W) over N, H and W, per channel C."""

    _input_ndims = (4,)


class LayerNorm(Module):
    """Layer normalisation over the trailing `normalized_shape` dimensions of each sample:
    x (..., *normalized_shape) -> same shape, (x - mean) / sqrt(var + eps) * weight + bias
    (biased variance; the same in training and eval mode, no running statistics).

    normalized_shape: an int (the last dimension) or a tuple.  With elementwise_affine,
    weight (normalized_shape) starts at 1 and bias at 0 (bias=False drops the bias)."""

    def __init__(
        self,
        normalized_shape: int | tuple[int, ...],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        *,
        dtype: Any = np.float32,
    ):
        super().__init__()
        self.normalized_shape = F._normalized_shape(normalized_shape, "LayerNorm")
        if not eps > 0:
            raise ValueError(f"LayerNorm: eps must be positive, got {eps}")
        self.eps = float(eps)
        self.elementwise_affine = bool(elementwise_affine)
        self.register_parameter(
            "weight",
            Parameter(np.ones(self.normalized_shape, dtype)) if elementwise_affine else None,
        )
        self.register_parameter(
            "bias",
            Parameter(np.zeros(self.normalized_shape, dtype))
            if elementwise_affine and bias
            else None,
        )

    def reset_parameters(self) -> None:
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, x: Any) -> Any:
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
        )


class Embedding(Module):
    """A lookup table: integer indices of any shape (values in [0, num_embeddings)) ->
    (*indices.shape, embedding_dim) rows of weight (num_embeddings, embedding_dim).

    weight starts from N(0, 1) (PyTorch's default), with the row padding_idx (if given;
    negative counts from the end) set to zero; that row receives no gradient.  Gradients
    of rows picked several times in one batch accumulate."""

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        *,
        dtype: Any = np.float32,
        rng: RngLike = None,
    ):
        super().__init__()
        self.num_embeddings = F._count(num_embeddings, "Embedding: num_embeddings")
        self.embedding_dim = F._count(embedding_dim, "Embedding: embedding_dim")
        self.padding_idx = (
            None
            if padding_idx is None
            else F._padding_index(padding_idx, self.num_embeddings, "Embedding")
        )
        self.weight = Parameter(np.zeros((self.num_embeddings, self.embedding_dim), dtype))
        self.reset_parameters(rng)

    @classmethod
    def from_pretrained(
        cls, embeddings: Any, freeze: bool = True, padding_idx: int | None = None
    ) -> Embedding:
        """An Embedding holding a copy of `embeddings` (num_embeddings, embedding_dim), in
        its dtype; frozen (requires_grad False) unless freeze=False."""
        array = np.asarray(embeddings.data if isinstance(embeddings, Tensor) else embeddings)
        if array.ndim != 2:
            raise ValueError(
                f"Embedding.from_pretrained: embeddings must have shape "
                f"(num_embeddings, embedding_dim), got {array.shape}"
            )
        if not np.issubdtype(array.dtype, np.floating):
            raise TypeError(
                f"Embedding.from_pretrained: embeddings must be floating point, "
                f"got dtype {array.dtype}"
            )
        layer = cls(array.shape[0], array.shape[1], padding_idx, dtype=array.dtype, rng=0)
        layer.weight.data = array.copy()
        layer.weight.requires_grad = not freeze
        return layer

    def reset_parameters(self, rng: RngLike = None) -> None:
        init.normal_(self.weight, rng=rng)
        if self.padding_idx is not None:
            data = self.weight.data.copy()
            data[self.padding_idx] = 0
            self.weight.data = data

    def forward(self, input: Any) -> Any:
        return F.embedding(input, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        return s + (f", padding_idx={self.padding_idx}" if self.padding_idx is not None else "")


# ------------------------------------------------------------- activations
class ReLU(Module):
    """max(x, 0), elementwise."""

    def forward(self, x: Any) -> Any:
        return F.relu(x)


class Tanh(Module):
    def forward(self, x: Any) -> Any:
        return F.tanh(x)


class Sigmoid(Module):
    def forward(self, x: Any) -> Any:
        return F.sigmoid(x)


class Identity(Module):
    """The linear activation (and a placeholder layer): returns its input."""

    def forward(self, x: Any) -> Any:
        return F.identity(x)


class LeakyReLU(Module):
    """x if x > 0 else negative_slope * x."""

    def __init__(self, negative_slope: float = 0.01):
        super().__init__()
        self.negative_slope = float(negative_slope)

    def forward(self, x: Any) -> Any:
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Softplus(Module):
    """log(1 + exp(beta x)) / beta."""

    def __init__(self, beta: float = 1.0):
        super().__init__()
        self.beta = float(beta)

    def forward(self, x: Any) -> Any:
        return F.softplus(x, self.beta)

    def extra_repr(self) -> str:
        return f"beta={self.beta}"


class Quadratic(Module):
    """g(z) = z^2 (the quadratic activation of 001_3660cf4441769652.txt, question 3)."""

    def forward(self, x: Any) -> Any:
        return F.quadratic(x)


class GELU(Module):
    """x * Phi(x), the Gaussian error linear unit: exact (approximate='none', through erf)
    or its tanh approximation (approximate='tanh')."""

    def __init__(self, approximate: str = "none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x: Any) -> Any:
        return F.gelu(x, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """x * sigmoid(x) (swish), elementwise."""

    def forward(self, x: Any) -> Any:
        return F.silu(x)


class _SoftmaxBase(Module):
    _fn: Any = None

    def __init__(self, dim: int | None = None):
        super().__init__()
        if dim is not None and (isinstance(dim, bool) or not isinstance(dim, (int, np.integer))):
            raise TypeError(f"{type(self).__name__}: dim must be an int or None, got {dim!r}")
        self.dim = None if dim is None else int(dim)

    def forward(self, x: Any) -> Any:
        dim = self.dim
        if dim is None:
            ndim = len(F._shape(x))
            if ndim > 2:  # PyTorch's deprecated implicit choice would be 0 or 1 here
                raise ValueError(
                    f"{type(self).__name__}: dim=None is ambiguous for an input "
                    f"with {ndim} dimensions; pass dim="
                )
            dim = -1  # the choice PyTorch makes for 1-d and 2-d inputs
        return type(self)._fn(x, dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmax(_SoftmaxBase):
    """exp(x) / sum(exp(x)) along `dim` (stable); same shape as x.  dim=None: the last
    axis of 1-d and 2-d inputs (PyTorch's implicit choice), an error for others."""

    _fn = staticmethod(F.softmax)


class LogSoftmax(_SoftmaxBase):
    """log(softmax(x)) along `dim` (stable); same shape as x.  dim=None as for Softmax."""

    _fn = staticmethod(F.log_softmax)


# ---------------------------------------------------------------- containers
class Sequential(Module):
    """Modules applied in order: `Sequential(m0, m1, ...)` or `Sequential(OrderedDict(...))`;
    children are named "0", "1", ... (or by the dict's keys)."""

    def __init__(self, *modules: Any):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], (dict, OrderedDict)):
            for name, m in modules[0].items():
                self._add(str(name), m)
        else:
            for i, m in enumerate(modules):
                self._add(str(i), m)

    def _add(self, name: str, module: Any) -> None:
        if not isinstance(module, Module):
            raise TypeError(
                f"Sequential: entry {name} is a {type(module).__name__}, not an nn.Module"
            )
        self.add_module(name, module)

    def append(self, module: Module) -> Sequential:
        self._add(str(len(self._modules)), module)
        return self

    def forward(self, x: Any) -> Any:
        for m in self._modules.values():
            x = m(x)
        return x

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __getitem__(self, i: int | slice) -> Any:
        items = list(self._modules.items())
        if isinstance(i, slice):
            return Sequential(OrderedDict(items[i]))
        return items[i][1]


class ModuleList(Module):
    """A list of sub-modules, registered under "0", "1", ...; it has no forward."""

    def __init__(self, modules: Iterable[Module] = ()):
        super().__init__()
        for m in modules:
            self.append(m)

    def append(self, module: Module) -> ModuleList:
        if not isinstance(module, Module):
            raise TypeError(f"ModuleList: expected an nn.Module, got {type(module).__name__}")
        self.add_module(str(len(self._modules)), module)
        return self

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __getitem__(self, i: int) -> Module:
        return list(self._modules.values())[i]
