"""Helpers on collections of parameters (PyTorch's `torch.nn.utils` names).

vec = nn.utils.parameters_to_vector(model.parameters())    # (P,) Tensor, differentiable
nn.utils.vector_to_parameters(vec, model.parameters())     # writes the values back
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

import autodiff as ad
from autodiff import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def _as_list(parameters: Any, op: str) -> list[Tensor]:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    params = list(parameters)
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(
                f"{op}: expected Parameters (Tensors), got a {type(p).__name__} at position {i}"
            )
    return params


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """The parameters flattened (row-major) and concatenated in order: a (P,) Tensor, P the
    total number of elements.  It is recorded like any computation, so gradients flow back
    to the parameters.  All parameters must share one dtype."""
    params = _as_list(parameters, "parameters_to_vector")
    if not params:
        raise ValueError("parameters_to_vector: got no parameters")
    dtypes = sorted({str(p.dtype) for p in params})
    if len(dtypes) > 1:
        raise TypeError(
            f"parameters_to_vector: parameters have different dtypes {dtypes}; "
            f"cast the model with .to() first"
        )
    return ad.concatenate([ad.reshape(p, (p.size,)) for p in params], axis=0)


def vector_to_parameters(vec: Any, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of the 1-d `vec` (P,) into the parameters, in order, each
    reshaped to its parameter's shape and cast to its dtype (the inverse of
    parameters_to_vector).  `vec`'s length must equal the parameters' total size.  The
    parameters' arrays are replaced, not written in place, so a graph that saved the old
    values is unaffected; gradients are kept."""
    params = _as_list(parameters, "vector_to_parameters")
    values = np.asarray(vec.data if isinstance(vec, Tensor) else vec)
    if values.ndim != 1:
        raise ValueError(f"vector_to_parameters: vec must be 1-d, got shape {values.shape}")
    if not (np.issubdtype(values.dtype, np.floating) or np.issubdtype(values.dtype, np.integer)):
        raise TypeError(
            f"vector_to_parameters: vec must hold real numbers, got dtype {values.dtype}"
        )
    total = sum(p.size for p in params)
    if values.shape[0] != total:
        raise ValueError(
            f"vector_to_parameters: vec has {values.shape[0]} elements but the "
            f"{len(params)} parameters have {total} in all"
        )
    start = 0
    for p in params:
        p.data = np.array(values[start : start + p.size].reshape(p.shape), dtype=p.dtype)
        start += p.size
