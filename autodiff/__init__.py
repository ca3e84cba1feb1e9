"""autodiff: a from-scratch automatic-differentiation engine on numpy.

    import numpy as np, autodiff as ad
    x = ad.tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = (ad.sin(x) * x).sum()
    y.backward()
    x.grad                                  # d y / d x

    ad.grad(lambda w: ad.sum(ad.tanh(w) ** 2))(np.ones(3))
    ad.jvp(ad.sin, (np.ones(3),), (np.ones(3),))

Layout, in import order (each module imports only those above it):
  state.py      the per-thread switches (no_grad, transform depth, mutation guard, disable_jit)
  guard.py      the mutation guard: arrays the tape saves are read-only
  tape.py       sequence numbers and freeing nodes after backward
  tensor.py     the Tensor type (data, attributes)
  batched.py    `Batched`: one example of a batch, as a function under vmap sees it
  creation.py   constructors: zeros, ones, arange, linspace, eye, rand, randn, ...
  dispatch.py   `Primitive`: the custom-op API every primitive is defined with; recording
  forward.py    forward mode: pushing tangents through primitives
  ops/          the primitive set, each forward beside its VJP and JVP rules
  backward.py   the reverse pass over the tape
  methods.py    Tensor's operators and methods (x + y, x.sum(), x.backward())
  interop.py    numpy functions on Tensors (np.exp(t), np.sum(t), ndarray + t)
  batching.py   vmap: primitives on Batched values run their batching rules
  transforms.py grad, vjp, jvp, linearize, jacobian, hessian, hvp
  graph.py      a read-only view of the recorded graph (nodes, to_dot)
  checkpoint.py recomputing a block in the backward pass instead of keeping it
  jit.py        ad.jit: trace a function once, replay its numpy work without the engine
  testing/      property-based derivative checks
  npyformat.py  .npy headers read without the data (numpy only; nn's and datasets' readers)
"""

from . import forward as _forward  # noqa: F401  (installs forward mode on Primitive)
from . import graph
from . import interop as _interop  # noqa: F401  (numpy functions on Tensors)
from . import methods as _methods  # noqa: F401  (attaches Tensor's operators and methods)
from .batched import Batched
from .batching import vmap
from .checkpoint import checkpoint
from .creation import *  # noqa: F401,F403  (zeros, ones, arange, rand, ...)
from .creation import __all__ as _creation_all
from .dispatch import Primitive, primitive, replayed
from .jit import jit
from .ops import *  # noqa: F401,F403  (the primitive set)
from .ops import __all__ as _ops_all
from .state import (
    disable_jit,
    enable_grad,
    is_grad_enabled,
    is_mutation_guard_enabled,
    mutation_guard,
    no_grad,
)
from .tensor import Tensor, from_numpy, tensor
from .transforms import (
    grad,
    hessian,
    hvp,
    jacfwd,
    jacobian,
    jacrev,
    jvp,
    linearize,
    stop_gradient,
    value_and_grad,
    vjp,
)
from .tree import flatten as tree_flatten
from .tree import tree_map
from .tree import unflatten as tree_unflatten

__version__ = "0.1.0"

__all__ = (
    [
        "Tensor",
        "tensor",
        "from_numpy",
        "Primitive",
        "primitive",
        "no_grad",
        "enable_grad",
        "is_grad_enabled",
        "mutation_guard",
        "is_mutation_guard_enabled",
        "graph",
        "grad",
        "value_and_grad",
        "vjp",
        "jvp",
        "linearize",
        "jacobian",
        "jacfwd",
        "vmap",
        "Batched",
        "jit",
        "disable_jit",
        "replayed",
        "jacrev",
        "hessian",
        "stop_gradient",
        "checkpoint",
        "hvp",
        "tree_flatten",
        "tree_unflatten",
        "tree_map",
    ]
    + list(_creation_all)
    + list(_ops_all)
)
