"""The primitive set, grouped by kind.  Everything here works on Tensors (recorded) and
on plain ndarrays (plain numpy)."""
from ..dispatch import identity
from .elementwise import (abs, add, astype, clip, copy, cos, divide, erf, exp, expm1, leaky_relu, log,
                          log1p, maximum, minimum, multiply, negative, power, relu, sigmoid,
                          sign, sin, softplus, sqrt, square, subtract, tan, tanh, where)
from .reductions import (cumsum, log_softmax, logsumexp, max, mean, min, softmax, std, sum,
                         var)
from .shape_ops import (broadcast_to, concatenate, expand_dims, flatten, flip, getitem,
                        index_add, moveaxis, pad, reshape, split, squeeze, stack, swapaxes,
                        take, transpose)
from .linalg import dot, einsum, matmul, outer
from .conv import avg_pool2d, col2im, conv2d, im2col, max_pool2d
from .neural import linear, softmax_cross_entropy

__all__ = [
    "identity", "abs", "add", "astype", "clip", "copy", "cos", "divide", "erf", "exp", "expm1", "leaky_relu",
    "log", "log1p", "maximum", "minimum", "multiply", "negative", "power", "relu", "sigmoid",
    "sign", "sin", "softplus", "sqrt", "square", "subtract", "tan", "tanh", "where", "cumsum",
    "log_softmax", "logsumexp", "max", "mean", "min", "softmax", "std", "sum", "var",
    "broadcast_to", "concatenate", "expand_dims", "flatten", "flip", "getitem", "index_add",
    "moveaxis",
    "pad", "reshape", "split", "squeeze", "stack", "swapaxes", "take", "transpose", "dot",
    "einsum", "matmul", "outer", "avg_pool2d", "col2im", "conv2d", "im2col", "max_pool2d",
    "linear", "softmax_cross_entropy",
]
