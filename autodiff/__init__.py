"""autodiff: a from-scratch automatic-differentiation engine on numpy.

    import numpy as np, autodiff as ad
    x = ad.tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = (ad.sin(x) * x).sum()
    y.backward()
    x.grad                                  # d y / d x

    ad.grad(lambda w: ad.sum(ad.tanh(w) ** 2))(np.ones(3))
    ad.jvp(ad.sin, (np.ones(3),), (np.ones(3),))

Layout: tensor.py (the Tensor type), tape.py (recording and the backward pass),
dispatch.py (`Primitive`: the custom-op API every primitive is defined with), ops/ (the primitive
set and its derivative rules), transforms.py (grad, jvp, vjp, jacobian, hessian, ...),
testing/ (property-based derivative checks).
"""
from .tensor import Tensor, tensor
from .dispatch import Primitive, primitive
from .tape import enable_grad, is_grad_enabled, no_grad
from .ops import *  # noqa: F401,F403  (the primitive set)
from .ops import __all__ as _ops_all
from .transforms import (grad, hessian, hvp, jacobian, jvp, linearize, value_and_grad, vjp)
from .tree import flatten as tree_flatten, tree_map, unflatten as tree_unflatten

__version__ = "0.1.0"

__all__ = ["Tensor", "tensor", "Primitive", "primitive", "no_grad", "enable_grad",
           "is_grad_enabled", "grad", "value_and_grad", "vjp", "jvp", "linearize", "jacobian",
           "hessian", "hvp", "tree_flatten", "tree_unflatten", "tree_map"] + list(_ops_all)
