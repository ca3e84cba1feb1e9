"""Catalogue of bad inputs: each must raise a clear error, never give a silent wrong answer.

One case per line: (id, a call making the bad call, the exception type, a regex that must
match the message: the operation's name and the offending value or shapes); a constructor
given one bad argument is the case `_rejected(id, factory, its keyword arguments, exception,
regex)`.  Append new cases to the section they belong to; helpers for cases that need a few
steps of set-up come first.
"""

import gzip
import struct
import tempfile
from pathlib import Path

import numpy as np
import pytest

import autodiff as ad
import datasets
import nn
import nn.functional as F
import optim
from datasets.formats import (
    parse_cifar_records,
    parse_idx,
    read_idx,
    read_index_file,
    read_npz_array,
)

NAN, INF = float("nan"), float("inf")
X4 = np.ones((1, 1, 4, 4))  # a 4x4 single-channel image
W3 = np.ones((1, 1, 3, 3))  # a 3x3 single-channel kernel
GEOMETRY = dict(kernel=(2, 2), stride=(1, 1), padding=(0, 0), dilation=(1, 1))
SCORES = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
LABELS = np.array([1, 0, 1])


# -------------------------------------------------------------------------- helpers
def _param(shape=(2,)):
    return nn.Parameter(np.zeros(shape))


def _sgd(**kw):
    return optim.SGD([_param()], **{"lr": 0.1, **kw})


def _adam(**kw):
    return optim.Adam([_param()], **kw)


def _optimizer(cls):
    """A factory of optimizers of class cls over one fresh parameter."""
    return lambda **kw: cls([_param()], **kw)


def _schedule(cls):
    """A factory of schedules of class cls over a fresh SGD optimizer."""
    return lambda **kw: cls(_sgd(), **kw)


def _rejected(case_id, make, kwargs, error, message):
    """The case in which make(**kwargs), a constructor given one bad argument, raises error."""
    return (case_id, lambda: make(**kwargs), error, message)


def _stepped(opt):
    """opt after one step with gradient ones on every parameter."""
    for group in opt.param_groups:
        for p in group["params"]:
            p.grad = np.ones(p.shape)
    opt.step()
    return opt


def _load_edited(make, edit):
    """Load into a fresh optimizer from `make` the state of a stepped one, edited by edit."""
    state = _stepped(make()).state_dict()
    edit(state)
    make().load_state_dict(state)


def _step_with_grad(grad):
    opt = _sgd()
    opt.param_groups[0]["params"][0].grad = grad
    opt.step()


def _clip_infinite_gradient():
    p = _param()
    p.grad = np.array([INF, 0.0])
    optim.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)


def _schedule_steps(scheduler, steps):
    for _ in range(steps):
        scheduler.step()


def _backward_twice():
    x = ad.tensor(2.0, requires_grad=True)
    y = x * x * x
    y.backward()
    y.backward()


def _write_saved_array():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    _ = (x * x).sum()
    x.data[...] = 0


def _vjp_wrong_cotangent():
    _, vjp_fn = ad.vjp(lambda a: a * 2.0, np.ones(2))
    vjp_fn(np.ones(3))


def _jvp_without_rule():
    only_vjp = ad.primitive(lambda x: x * 2.0)
    only_vjp.defvjp(lambda g, ans, x: g * 2.0)
    ad.jvp(only_vjp, (np.ones(2),), (np.ones(2),))


class _Unregistered(nn.Module):
    def __init__(self):
        self.w = nn.Parameter(np.zeros(2))


def _set_attr(obj, name, value):
    setattr(obj, name, value)


def _load_module_edited(edit):
    model = nn.Sequential(nn.Linear(3, 2))
    state = model.state_dict()
    edit(state)
    model.load_state_dict(state)


def _idx(array, magic_type=0x08):
    """IDX bytes of a uint8 array (type code magic_type)."""
    return (
        bytes([0, 0, magic_type, array.ndim])
        + struct.pack(f">{array.ndim}I", *array.shape)
        + array.astype(np.uint8).tobytes()
    )


def _with_file(name, data, read):
    """read(path) of a temporary file `name` holding `data` (bytes, or a callable writing it)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        data(path) if callable(data) else path.write_bytes(data)
        return read(path)


def _x():
    return ad.tensor([1.0, 2.0], requires_grad=True)


def _write_handed_out(hand_out):
    h = ad.exp(_x())
    _ = ad.sum(h * h)
    hand_out(h)[...] = 0


def _write_constant():
    c = np.array([3.0, 3.0])
    _ = ad.sum(_x() * c)
    c[:] = 0


def _write_labels():
    labels = np.array([0, 1])
    _ = ad.softmax_cross_entropy(ad.tensor(np.zeros((2, 3)), requires_grad=True), labels)
    labels[:] = 2


def _write_index():
    idx = np.array([0, 0, 1])
    _ = ad.sum(_x()[idx])
    idx[:] = 1


def _write_base_of_shared():
    base = np.array([1.0, 2.0, 3.0])
    x = ad.from_numpy(base[:2], requires_grad=True)
    _ = ad.sum(x * x)
    base[0] = 5


def _write_detached_before_use():
    h = ad.exp(_x())
    d = h.detach()
    _ = ad.sum(h * h)
    d.data[0] = 0


def _replace_saved(values):
    x = _x()
    _ = ad.sum(x * x)
    x.data = values


def _replace_computed():
    ad.exp(_x()).data = np.zeros(2)


def _grad_after_replacing():
    x = _x()
    ad.sum(x * x).backward()
    x.data = np.ones(3)
    ad.sum(x * x).backward()


def _with_rules(vjp=None, jvp=None, name="custom"):
    """y = 3 x with the given rules (the right ones where None)."""
    prim = ad.Primitive(lambda x: 3.0 * x, name)
    prim.defvjp(vjp or (lambda g, ans, x: 3.0 * g))
    prim.defjvp(jvp or (lambda t, ans, x: 3.0 * t))
    return prim


def _backward_through(prim):
    ad.sum(prim(ad.tensor(np.ones(3), requires_grad=True))).backward()


def _two_operands(define):
    prim = ad.Primitive(lambda x, y: x * y, "times")
    define(prim)
    return prim


def _joint_too_few():
    prim = ad.Primitive(lambda x, y: x * y, "times")
    prim.defvjp_joint(lambda needs, g, ans, x, y: (g * y,))
    ad.grad(lambda a, b: ad.sum(prim(a, b)), argnums=(0, 1))(np.ones(2), np.ones(2))


def _has_aux_not_pair():
    ad.grad(lambda x: ad.sum(x), has_aux=True)(np.ones(2))


# ---------------------------------------------------------------------------- cases
CASES = [
    # ---- engine ----
    (
        "matmul-shapes",
        lambda: ad.tensor(np.ones((3, 4))) @ ad.tensor(np.ones((5, 6))),
        ValueError,
        r"matmul.*\(3, 4\).*\(5, 6\)",
    ),
    (
        "add-broadcast",
        lambda: ad.tensor(np.ones((2, 3))) + np.ones(4),
        ValueError,
        r"add.*\(2,3\).*\(4,\)",
    ),
    (
        "reshape-size",
        lambda: ad.reshape(ad.tensor(np.ones((2, 3))), (4,)),
        ValueError,
        r"reshape.*\(2, 3\).*\(4,\)",
    ),
    (
        "sum-axis",
        lambda: ad.sum(ad.tensor(np.ones(3)), axis=2),
        ValueError,
        r"sum: axis 2 is out of bounds",
    ),
    (
        "max-empty",
        lambda: ad.max(ad.tensor(np.ones((0,)))),
        ValueError,
        r"max: cannot reduce an empty array",
    ),
    (
        "int-requires-grad",
        lambda: ad.tensor([1, 2, 3], requires_grad=True),
        TypeError,
        "floating-point",
    ),
    (
        "bool-requires-grad",
        lambda: _set_attr(ad.tensor([True, False]), "requires_grad", True),
        TypeError,
        "dtype bool",
    ),
    (
        "grad-of-int-input",
        lambda: ad.grad(lambda v: ad.sum(v * 1.0))(np.array([1, 2])),
        TypeError,
        "floating point",
    ),
    ("grad-of-non-scalar", lambda: ad.grad(lambda x: x * 2)(np.ones(3)), TypeError, "scalar"),
    (
        "backward-non-scalar",
        lambda: (ad.tensor(np.ones(3), requires_grad=True) * 2).backward(),
        RuntimeError,
        r"scalar output.*\(3,\)",
    ),
    (
        "backward-gradient-shape",
        lambda: (ad.tensor(np.ones(3), requires_grad=True) * 2).backward(np.ones(2)),
        ValueError,
        "gradient has shape",
    ),
    (
        "backward-without-grad",
        lambda: ad.tensor(1.0).backward(),
        RuntimeError,
        "does not require grad",
    ),
    ("backward-twice", _backward_twice, RuntimeError, "retain_graph=True"),
    ("write-saved-array", _write_saved_array, ValueError, "read-only"),
    ("vjp-cotangent-shape", _vjp_wrong_cotangent, ValueError, "cotangent of shape"),
    (
        "jvp-tangent-shape",
        lambda: ad.jvp(ad.sin, (np.ones(2),), (np.ones(3),)),
        ValueError,
        "tangent of shape",
    ),
    ("jvp-without-rule", _jvp_without_rule, NotImplementedError, "no JVP rule.*forward mode"),
    # the mutation guard: every write to an array the tape saves raises
    (
        "write-numpy-of-computed",
        lambda: _write_handed_out(lambda h: h.numpy()),
        ValueError,
        "read-only",
    ),
    ("write-asarray-of-computed", lambda: _write_handed_out(np.asarray), ValueError, "read-only"),
    (
        "write-data-of-computed",
        lambda: _write_handed_out(lambda h: h.data),
        ValueError,
        "read-only",
    ),
    ("write-detached-before-use", _write_detached_before_use, ValueError, "read-only"),
    ("write-constant-operand", _write_constant, ValueError, "read-only"),
    ("write-cross-entropy-labels", _write_labels, ValueError, "read-only"),
    ("write-index-array", _write_index, ValueError, "read-only"),
    ("write-base-of-shared-array", _write_base_of_shared, ValueError, "read-only"),
    (
        "data-setter-shape-while-saved",
        lambda: _replace_saved(np.ones(4)),
        RuntimeError,
        r"Tensor\.data: cannot replace this \(2,\) float64 array by a \(4,\) float64 one while the tape saves it for the backward pass of multiply",
    ),
    (
        "data-setter-dtype-while-saved",
        lambda: _replace_saved(np.ones(2, np.float32)),
        RuntimeError,
        r"by a \(2,\) float32 one .* multiply",
    ),
    (
        "data-setter-int-on-grad-tensor",
        lambda: _replace_saved(np.array([1, 2])),
        TypeError,
        "Tensor.data: .*real floating-point data, got dtype int64",
    ),
    (
        "data-setter-computed-tensor",
        _replace_computed,
        RuntimeError,
        "Tensor.data: cannot replace the values of a tensor computed by exp",
    ),
    (
        "grad-no-longer-fits",
        _grad_after_replacing,
        RuntimeError,
        r"\.grad has shape \(2,\) but the tensor now has shape \(3,\)",
    ),
    (
        "from-numpy-of-list",
        lambda: ad.from_numpy([1.0]),
        TypeError,
        "from_numpy: expected an ndarray, got list",
    ),
    (
        "complex-requires-grad",
        lambda: ad.tensor([1 + 1j], requires_grad=True),
        TypeError,
        "only real floating-point tensors.*complex128",
    ),
    (
        "grad-of-complex-input",
        lambda: ad.grad(ad.sum)(np.array([1 + 1j])),
        TypeError,
        "grad: .*real floating point, got dtype complex128",
    ),
    (
        "requires-grad-off-computed",
        lambda: _set_attr(ad.exp(_x()), "requires_grad", False),
        RuntimeError,
        "cannot turn off gradient tracking",
    ),
    # derivative rules are checked where they are used
    (
        "vjp-rule-extra-axis",
        lambda: _backward_through(_with_rules(vjp=lambda g, ans, x: np.ones((3, 3)), name="r33")),
        ValueError,
        r"r33: the VJP rule for argument 0 returned a cotangent of shape \(3, 3\), which does not sum back to the argument's shape \(3,\)",
    ),
    (
        "vjp-rule-wrong-length",
        lambda: _backward_through(_with_rules(vjp=lambda g, ans, x: np.ones(7), name="r7")),
        ValueError,
        r"r7: the VJP rule for argument 0 returned a cotangent of shape \(7,\)",
    ),
    (
        "vjp-rule-python-float",
        lambda: _backward_through(_with_rules(vjp=lambda g, ans, x: 2.0, name="rf")),
        ValueError,
        r"rf: the VJP rule for argument 0 returned a cotangent of shape \(\)",
    ),
    (
        "vjp-rule-short-list",
        lambda: _backward_through(_with_rules(vjp=lambda g, ans, x: [1.0], name="rl")),
        ValueError,
        r"rl: the VJP rule for argument 0 returned a cotangent of shape \(1,\)",
    ),
    (
        "vjp-rule-returns-str",
        lambda: _backward_through(_with_rules(vjp=lambda g, ans, x: "no", name="rs")),
        TypeError,
        "rs: the VJP rule for argument 0 returned str",
    ),
    (
        "vjp-rule-ragged-list",
        lambda: _backward_through(_with_rules(vjp=lambda g, ans, x: [1.0, [2.0]], name="rr")),
        TypeError,
        "rr: the VJP rule for argument 0 returned list that is not an array",
    ),
    (
        "jvp-rule-wrong-length",
        lambda: ad.jvp(
            _with_rules(jvp=lambda t, ans, x: np.ones(7), name="t7"), (np.ones(3),), (np.ones(3),)
        ),
        ValueError,
        r"t7: the JVP rule for argument 0 returned a tangent of shape \(7,\), which does not broadcast to the output's shape \(3,\)",
    ),
    (
        "jvp-rule-in-linearize",
        lambda: ad.linearize(_with_rules(jvp=lambda t, ans, x: np.ones(7), name="l7"), np.ones(3))[
            1
        ](np.ones(3)),
        ValueError,
        r"l7: the JVP rule for argument 0 returned a tangent of shape \(7,\)",
    ),
    (
        "fewer-vjp-rules",
        lambda: ad.grad(
            lambda a, b: ad.sum(
                _two_operands(lambda p: p.defvjp(lambda g, ans, x, y: g * y))(a, b)
            ),
            argnums=1,
        )(np.ones(2), np.ones(2)),
        NotImplementedError,
        "times: no VJP rule is defined for argument 1",
    ),
    (
        "fewer-jvp-rules",
        lambda: ad.jvp(
            _two_operands(lambda p: p.defjvp(lambda t, ans, x, y: t * y)),
            (np.ones(2), np.ones(2)),
            (np.ones(2), np.ones(2)),
        ),
        NotImplementedError,
        "times: no JVP rule is defined for argument 1",
    ),
    (
        "joint-rule-too-few",
        _joint_too_few,
        ValueError,
        "times: the joint VJP rule returned 1 cotangents for 2 operands",
    ),
    # transforms and graph view
    (
        "grad-argnums-range",
        lambda: ad.grad(lambda x: ad.sum(x), argnums=3)(np.ones(2)),
        ValueError,
        "grad: argnums 3 refers to argument 3",
    ),
    (
        "grad-has-aux-not-pair",
        _has_aux_not_pair,
        TypeError,
        r"grad: with has_aux=True, f must return a pair",
    ),
    (
        "jacobian-mode",
        lambda: ad.jacobian(ad.sin, mode="both"),
        ValueError,
        "jacobian: mode must be 'rev' or 'fwd', got 'both'",
    ),
    (
        "jvp-primals-not-tuple",
        lambda: ad.jvp(ad.sin, np.ones(2), np.ones(2)),
        TypeError,
        "jvp: primals and tangents must be tuples",
    ),
    (
        "linearize-tangent-count",
        lambda: ad.linearize(lambda a, b: a * b, np.ones(2), np.ones(2))[1](np.ones(2)),
        ValueError,
        "linearize: expected 2 tangents, got 1",
    ),
    (
        "graph-nodes-of-array",
        lambda: ad.graph.nodes(np.ones(2)),
        TypeError,
        "graph.nodes: expected Tensors, got ndarray",
    ),
    (
        "graph-operands-of-array",
        lambda: ad.graph.operands(np.ones(2)),
        TypeError,
        "graph.operands: expected a Tensor, got ndarray",
    ),
    (
        "cross-entropy-label-range",
        lambda: ad.softmax_cross_entropy(ad.tensor(np.zeros((2, 3))), np.array([0, 3])),
        ValueError,
        r"softmax_cross_entropy: labels must lie in \[0, 3\)",
    ),
    (
        "linear-shapes",
        lambda: ad.linear(ad.tensor(np.ones((2, 3))), np.ones((4, 5))),
        ValueError,
        r"linear: .*\(2, 3\).*\(4, 5\)",
    ),
    (
        "broadcast-to-shape",
        lambda: ad.broadcast_to(ad.tensor(np.ones(3)), (2, 4)),
        ValueError,
        r"broadcast_to: cannot broadcast an operand of shape \(3,\) to shape \(2, 4\)",
    ),
    (
        "getitem-out-of-range",
        lambda: ad.tensor(np.ones(3))[5],
        IndexError,
        r"getitem: index 5 is invalid for an operand of shape \(3,\)",
    ),
    # ---- conv / pooling (autodiff.ops.conv) ----
    (
        "conv2d-stride-0",
        lambda: ad.conv2d(X4, W3, stride=0),
        ValueError,
        r"conv2d: stride must be positive, got 0",
    ),
    (
        "conv2d-stride-negative",
        lambda: ad.conv2d(X4, W3, stride=(1, -1)),
        ValueError,
        r"conv2d: stride must be positive, got \(1, -1\)",
    ),
    (
        "conv2d-stride-float",
        lambda: ad.conv2d(X4, W3, stride=1.5),
        TypeError,
        r"conv2d: stride must be an int or a pair of ints, got 1.5",
    ),
    (
        "conv2d-stride-none",
        lambda: ad.conv2d(X4, W3, stride=None),
        TypeError,
        r"conv2d: stride must be an int or a pair of ints, got None",
    ),
    (
        "conv2d-stride-triple",
        lambda: ad.conv2d(X4, W3, stride=(1, 1, 1)),
        TypeError,
        r"conv2d: stride must be .*pair.*\(1, 1, 1\)",
    ),
    (
        "conv2d-stride-bool",
        lambda: ad.conv2d(X4, W3, stride=True),
        TypeError,
        r"conv2d: stride must be an int .*True",
    ),
    (
        "conv2d-dilation-0",
        lambda: ad.conv2d(X4, W3, dilation=0),
        ValueError,
        r"conv2d: dilation must be positive, got 0",
    ),
    (
        "conv2d-padding-negative",
        lambda: ad.conv2d(X4, W3, padding=-1),
        ValueError,
        r"conv2d: padding must be non-negative, got -1",
    ),
    (
        "conv2d-padding-string",
        lambda: ad.conv2d(X4, W3, padding="same"),
        TypeError,
        r"conv2d: padding must be an int or a pair of ints, got 'same'",
    ),
    (
        "conv2d-kernel-too-large",
        lambda: ad.conv2d(X4, np.ones((1, 1, 5, 5))),
        ValueError,
        r"conv2d: the 5x5 kernel .*spans 5x5, larger than the padded input 4x4",
    ),
    (
        "conv2d-dilated-too-large",
        lambda: ad.conv2d(X4, W3, dilation=2),
        ValueError,
        r"conv2d: the 3x3 kernel with dilation \(2, 2\) spans 5x5, larger than the padded input 4x4",
    ),
    (
        "conv2d-empty-kernel",
        lambda: ad.conv2d(X4, np.ones((1, 1, 0, 3))),
        ValueError,
        r"conv2d: .*kernel of at least 1x1, got shape \(1, 1, 0, 3\)",
    ),
    (
        "conv2d-channels",
        lambda: ad.conv2d(np.ones((1, 3, 5, 5)), np.ones((2, 4, 3, 3))),
        ValueError,
        r"conv2d: input has 3 channels.*expects 4",
    ),
    (
        "conv2d-input-rank",
        lambda: ad.conv2d(np.ones((1, 4, 4)), W3),
        ValueError,
        r"conv2d: expected input \(N, C, H, W\).*\(1, 4, 4\)",
    ),
    (
        "conv2d-bias-shape",
        lambda: ad.conv2d(X4, W3, np.ones(2)),
        ValueError,
        r"conv2d: bias must have shape \(1,\), got \(2,\)",
    ),
    (
        "im2col-stride-0",
        lambda: ad.im2col(X4, **dict(GEOMETRY, stride=(0, 1))),
        ValueError,
        r"im2col: stride must be positive, got \(0, 1\)",
    ),
    (
        "im2col-dilation-0",
        lambda: ad.im2col(X4, **dict(GEOMETRY, dilation=0)),
        ValueError,
        r"im2col: dilation must be positive, got 0",
    ),
    (
        "im2col-padding-negative",
        lambda: ad.im2col(X4, **dict(GEOMETRY, padding=(-1, 0))),
        ValueError,
        r"im2col: padding must be non-negative",
    ),
    (
        "im2col-kernel-too-large",
        lambda: ad.im2col(X4, **dict(GEOMETRY, kernel=(5, 1))),
        ValueError,
        r"im2col: the 5x1 kernel .*larger than the padded input 4x4",
    ),
    (
        "im2col-input-rank",
        lambda: ad.im2col(np.ones((4, 4)), **GEOMETRY),
        ValueError,
        r"im2col: expected an input of shape \(N, C, H, W\), got \(4, 4\)",
    ),
    (
        "col2im-windows-shape",
        lambda: ad.col2im(np.ones((1, 2, 2, 1, 2, 2)), x_shape=(1, 1, 4, 4), **GEOMETRY),
        ValueError,
        r"col2im: windows of shape \(1, 2, 2, 1, 2, 2\).*expected \(1, 3, 3, 1, 2, 2\)",
    ),
    (
        "col2im-stride-0",
        lambda: ad.col2im(
            np.ones((1, 3, 3, 1, 2, 2)), x_shape=(1, 1, 4, 4), **dict(GEOMETRY, stride=0)
        ),
        ValueError,
        r"col2im: stride must be positive",
    ),
    (
        "col2im-x-shape",
        lambda: ad.col2im(np.ones((1, 3, 3, 1, 2, 2)), x_shape=(4, 4), **GEOMETRY),
        ValueError,
        r"col2im: x_shape must be \(N, C, H, W\), got \(4, 4\)",
    ),
    (
        "max_pool2d-stride-0",
        lambda: ad.max_pool2d(X4, 2, stride=0),
        ValueError,
        r"max_pool2d: stride must be positive, got 0",
    ),
    (
        "max_pool2d-kernel-0",
        lambda: ad.max_pool2d(X4, 0),
        ValueError,
        r"max_pool2d: kernel_size must be positive, got 0",
    ),
    (
        "max_pool2d-kernel-float",
        lambda: ad.max_pool2d(X4, 2.0),
        TypeError,
        r"max_pool2d: kernel_size must be an int or a pair of ints, got 2.0",
    ),
    (
        "max_pool2d-padding-negative",
        lambda: ad.max_pool2d(X4, 2, padding=-1),
        ValueError,
        r"max_pool2d: padding must be non-negative, got -1",
    ),
    (
        "max_pool2d-padding-over-half",
        lambda: ad.max_pool2d(X4, 2, padding=2),
        ValueError,
        r"max_pool2d: padding \(2, 2\) must be at most half the kernel \(2, 2\)",
    ),
    (
        "max_pool2d-kernel-too-large",
        lambda: ad.max_pool2d(X4, 5),
        ValueError,
        r"max_pool2d: kernel \(5, 5\) is larger than the padded input \(4, 4\)",
    ),
    (
        "max_pool2d-input-rank",
        lambda: ad.max_pool2d(np.ones((2, 3, 4)), 2),
        ValueError,
        r"max_pool2d: expected an input of shape \(N, C, H, W\), got \(2, 3, 4\)",
    ),
    (
        "avg_pool2d-stride-negative",
        lambda: ad.avg_pool2d(X4, 2, stride=-2),
        ValueError,
        r"avg_pool2d: stride must be positive, got -2",
    ),
    (
        "avg_pool2d-kernel-too-large",
        lambda: ad.avg_pool2d(np.ones((1, 1, 2, 2)), 3),
        ValueError,
        r"avg_pool2d: kernel \(3, 3\) is larger than the padded input \(2, 2\)",
    ),
    (
        "avg_pool2d-padding-pair",
        lambda: ad.avg_pool2d(X4, 2, padding=(0, -1)),
        ValueError,
        r"avg_pool2d: padding must be non-negative, got \(0, -1\)",
    ),
    (
        "avg_pool2d-stride-string",
        lambda: ad.avg_pool2d(X4, 2, stride="2"),
        TypeError,
        r"avg_pool2d: stride must be an int or a pair of ints, got '2'",
    ),
    # ---- nn: conv / pooling layers and functional forms ----
    (
        "Conv2d-stride-0",
        lambda: nn.Conv2d(1, 1, 3, stride=0),
        ValueError,
        r"Conv2d: stride must be positive, got 0",
    ),
    (
        "Conv2d-stride-float",
        lambda: nn.Conv2d(1, 1, 3, stride=1.5),
        TypeError,
        r"Conv2d: stride must be an int or a pair of ints, got 1.5",
    ),
    (
        "Conv2d-dilation-0",
        lambda: nn.Conv2d(1, 1, 3, dilation=0),
        ValueError,
        r"Conv2d: dilation must be positive, got 0",
    ),
    (
        "Conv2d-padding-negative",
        lambda: nn.Conv2d(1, 1, 3, padding=-1),
        ValueError,
        r"Conv2d: padding must be non-negative, got -1",
    ),
    (
        "Conv2d-padding-string",
        lambda: nn.Conv2d(1, 1, 3, padding="full"),
        ValueError,
        r"conv2d: padding must be an int, a pair, 'same' or 'valid', got 'full'",
    ),
    (
        "Conv2d-kernel-0",
        lambda: nn.Conv2d(1, 1, (3, 0)),
        ValueError,
        r"Conv2d: kernel_size must be positive, got \(3, 0\)",
    ),
    (
        "Conv2d-in-channels-0",
        lambda: nn.Conv2d(0, 1, 3),
        ValueError,
        r"Conv2d: in_channels must be a positive int, got 0",
    ),
    (
        "Conv2d-out-channels-float",
        lambda: nn.Conv2d(1, 2.5, 3),
        TypeError,
        r"Conv2d: out_channels must be a positive int, got 2.5",
    ),
    (
        "Conv2d-same-even-kernel",
        lambda: nn.Conv2d(3, 2, 2, padding="same"),
        ValueError,
        r"conv2d: padding='same' needs odd kernel.*\(2, 2\)",
    ),
    (
        "Conv2d-same-stride-2",
        lambda: nn.Conv2d(3, 2, 3, stride=2, padding="same"),
        ValueError,
        r"Conv2d: padding='same' requires stride 1, got \(2, 2\)",
    ),
    (
        "Conv2d-channels-forward",
        lambda: nn.Conv2d(3, 2, 3)(np.ones((1, 4, 5, 5))),
        ValueError,
        r"conv2d: input has 4 channels",
    ),
    (
        "Conv2d-kernel-too-large-forward",
        lambda: nn.Conv2d(1, 1, 3)(np.ones((1, 1, 2, 2))),
        ValueError,
        r"conv2d: the 3x3 kernel .*larger than the padded input 2x2",
    ),
    (
        "Conv2d-dtype-forward",
        lambda: nn.Conv2d(1, 1, 3)(ad.tensor(X4)),
        TypeError,
        r"conv2d: input dtype float64 does not match weight dtype float32",
    ),
    (
        "F.conv2d-same-stride-2",
        lambda: F.conv2d(X4, W3, stride=2, padding="same"),
        ValueError,
        r"conv2d: padding='same' requires stride 1, got stride=2",
    ),
    (
        "F.conv2d-same-dilation-0",
        lambda: F.conv2d(X4, W3, padding="same", dilation=0),
        ValueError,
        r"conv2d: dilation must be positive, got 0",
    ),
    (
        "F.conv2d-dilation-0",
        lambda: F.conv2d(X4, W3, dilation=0),
        ValueError,
        r"conv2d: dilation must be positive, got 0",
    ),
    (
        "F.conv2d-stride-0",
        lambda: F.conv2d(X4, W3, stride=(0, 0)),
        ValueError,
        r"conv2d: stride must be positive, got \(0, 0\)",
    ),
    (
        "F.max_pool2d-stride-0",
        lambda: F.max_pool2d(X4, 2, stride=0),
        ValueError,
        r"max_pool2d: stride must be positive, got 0",
    ),
    (
        "F.avg_pool2d-kernel-0",
        lambda: F.avg_pool2d(X4, 0),
        ValueError,
        r"avg_pool2d: kernel_size must be positive, got 0",
    ),
    (
        "MaxPool2d-kernel-0",
        lambda: nn.MaxPool2d(0),
        ValueError,
        r"MaxPool2d: kernel_size must be positive, got 0",
    ),
    (
        "MaxPool2d-stride-0",
        lambda: nn.MaxPool2d(2, stride=0),
        ValueError,
        r"MaxPool2d: stride must be positive, got 0",
    ),
    (
        "MaxPool2d-kernel-float",
        lambda: nn.MaxPool2d(2.5),
        TypeError,
        r"MaxPool2d: kernel_size must be an int or a pair of ints, got 2.5",
    ),
    (
        "MaxPool2d-padding-negative",
        lambda: nn.MaxPool2d(2, padding=-1),
        ValueError,
        r"MaxPool2d: padding must be non-negative, got -1",
    ),
    (
        "AvgPool2d-padding-over-half",
        lambda: nn.AvgPool2d(2, padding=2),
        ValueError,
        r"AvgPool2d: padding \(2, 2\) must be at most half the kernel \(2, 2\)",
    ),
    (
        "AvgPool2d-kernel-too-large-forward",
        lambda: nn.AvgPool2d(3)(np.ones((1, 1, 2, 2))),
        ValueError,
        r"avg_pool2d: kernel \(3, 3\) is larger than the padded input",
    ),
    # ---- nn: other layers, functional, losses, metrics, init ----
    (
        "Linear-in-features-0",
        lambda: nn.Linear(0, 2),
        ValueError,
        r"Linear: in_features must be a positive int, got 0",
    ),
    (
        "Linear-out-features-float",
        lambda: nn.Linear(2, 1.5),
        TypeError,
        r"Linear: out_features must be a positive int, got 1.5",
    ),
    (
        "linear-input-shape",
        lambda: nn.Linear(5, 2)(np.ones((4, 3))),
        ValueError,
        r"linear: input of shape \(4, 3\) does not match weight of shape \(2, 5\)",
    ),
    (
        "linear-input-dtype",
        lambda: nn.Linear(2, 3)(ad.tensor(np.ones((1, 2)))),
        TypeError,
        r"linear: input dtype float64 does not match weight dtype float32",
    ),
    (
        "Dropout-p",
        lambda: nn.Dropout(1.5),
        ValueError,
        r"Dropout: p must be a probability in \[0, 1\], got 1.5",
    ),
    (
        "dropout-p",
        lambda: F.dropout(np.ones(3), -0.1),
        ValueError,
        r"dropout: p must be a probability in \[0, 1\], got -0.1",
    ),
    (
        "flatten-dims",
        lambda: F.flatten(np.ones((2, 3, 4)), 2, 1),
        ValueError,
        r"flatten: start_dim 2 comes after end_dim 1.*\(2, 3, 4\)",
    ),
    (
        "BatchNorm2d-rank",
        lambda: nn.BatchNorm2d(3)(np.ones((2, 3))),
        ValueError,
        r"BatchNorm2d: expected an input with 4 dimensions, got shape \(2, 3\)",
    ),
    (
        "BatchNorm1d-rank",
        lambda: nn.BatchNorm1d(3)(np.ones((2, 3, 1, 1))),
        ValueError,
        r"BatchNorm1d: expected an input with 2 or 3 dimensions",
    ),
    (
        "BatchNorm2d-channels",
        lambda: nn.BatchNorm2d(4)(np.ones((2, 3, 2, 2), np.float32)),
        ValueError,
        r"batch_norm: running_mean must have shape \(3,\) for an input with 3 channels, got \(4,\)",
    ),
    (
        "BatchNorm1d-one-value",
        lambda: nn.BatchNorm1d(3)(np.ones((1, 3))),
        ValueError,
        r"batch_norm: training needs more than one value per channel",
    ),
    (
        "BatchNorm2d-features-0",
        lambda: nn.BatchNorm2d(0),
        ValueError,
        r"BatchNorm2d: num_features must be positive, got 0",
    ),
    (
        "BatchNorm2d-momentum",
        lambda: nn.BatchNorm2d(3, momentum=1.5),
        ValueError,
        r"BatchNorm2d: momentum must lie in \[0, 1\] or be None, got 1.5",
    ),
    (
        "BatchNorm2d-eps",
        lambda: nn.BatchNorm2d(3, eps=0),
        ValueError,
        r"BatchNorm2d: eps must be positive, got 0",
    ),
    (
        "batch_norm-running-pair",
        lambda: F.batch_norm(np.ones((2, 3)), np.zeros(3), None),
        ValueError,
        r"batch_norm: give both running_mean and running_var",
    ),
    (
        "Sequential-non-module",
        lambda: nn.Sequential(nn.ReLU(), "relu"),
        TypeError,
        r"Sequential: entry 1 is a str, not an nn.Module",
    ),
    (
        "ModuleList-non-module",
        lambda: nn.ModuleList([nn.ReLU(), 3]),
        TypeError,
        r"ModuleList: expected an nn.Module, got int",
    ),
    (
        "Parameter-int",
        lambda: nn.Parameter(np.arange(3)),
        TypeError,
        r"Parameter: data must be floating point",
    ),
    (
        "Module-tensor-as-parameter",
        lambda: _set_attr(nn.Linear(2, 2), "weight", ad.tensor(np.zeros((2, 2)))),
        TypeError,
        r"'weight'.*nn.Parameter or None expected",
    ),
    ("Module-assign-before-init", _Unregistered, AttributeError, r"'w' before Module.__init__"),
    (
        "Module-missing-attribute",
        lambda: nn.Sequential().fc2,
        AttributeError,
        r"'Sequential' object has no attribute 'fc2'",
    ),
    (
        "Module-to-int",
        lambda: nn.Linear(2, 2).to(np.int32),
        TypeError,
        r"Module.to: parameters must stay floating point",
    ),
    (
        "Module-load-missing-key",
        lambda: _load_module_edited(lambda s: s.pop("0.bias")),
        ValueError,
        r"load_state_dict: cannot load into Sequential: missing keys: \['0.bias'\]",
    ),
    (
        "Module-load-unexpected-key",
        lambda: _load_module_edited(lambda s: s.update(extra=np.zeros(1))),
        ValueError,
        r"load_state_dict: .*unexpected keys: \['extra'\]",
    ),
    (
        "Module-load-shape",
        lambda: _load_module_edited(lambda s: s.update({"0.weight": np.zeros((3, 2))})),
        ValueError,
        r"load_state_dict: .*shape mismatch for '0.weight': the model has \(2, 3\), the state dict has \(3, 2\)",
    ),
    (
        "Module-load-dtype",
        lambda: _load_module_edited(lambda s: s.update({"0.bias": np.array(["a", "b"])})),
        ValueError,
        r"load_state_dict: .*'0.bias' has dtype <U1, not a real number type",
    ),
    (
        "Module-load-not-mapping",
        lambda: nn.Linear(2, 2).load_state_dict([1, 2]),
        TypeError,
        r"load_state_dict: expected a mapping of names to arrays, got list",
    ),
    (
        "Module-load-file-missing",
        lambda: nn.Linear(2, 2).load("/nonexistent/nope.npz"),
        FileNotFoundError,
        r"nope.npz",
    ),
    (
        "BatchNorm-load-missing",
        lambda: nn.BatchNorm2d(3).load_state_dict({"weight": np.ones(3), "bias": np.zeros(3)}),
        ValueError,
        r"load_state_dict: cannot load into BatchNorm2d: missing keys",
    ),
    (
        "Module-load-list",
        lambda: _load_module_edited(lambda s: s.update({"0.bias": [0.0, 0.0]})),
        ValueError,
        r"load_state_dict: .*'0.bias' is a list, expected a numpy array or Tensor",
    ),
    (
        "Module-load-nan",
        lambda: _load_module_edited(lambda s: s["0.bias"].__setitem__(0, NAN)),
        ValueError,
        r"load_state_dict: .*'0.bias' holds 1 non-finite value\(s\) \(NaN or inf\); pass check_finite=False",
    ),
    (
        "cross_entropy-class-range",
        lambda: F.cross_entropy(SCORES, np.array([0, 1, 2])),
        ValueError,
        r"cross_entropy: class indices must lie in \[0, 2\) for input \(3, 2\), found \[2\]",
    ),
    (
        "cross_entropy-negative-class",
        lambda: F.cross_entropy(SCORES, np.array([0, -1, 1])),
        ValueError,
        r"cross_entropy: .*found \[-1\]",
    ),
    (
        "cross_entropy-input-rank",
        lambda: F.cross_entropy(SCORES[0], np.array([0])),
        ValueError,
        r"cross_entropy: expected input of shape \(N, C\).*got shape \(2,\)",
    ),
    (
        "cross_entropy-float-target",
        lambda: F.cross_entropy(SCORES, LABELS.astype(float)),
        TypeError,
        r"cross_entropy: target must hold integer class indices",
    ),
    (
        "cross_entropy-target-shape",
        lambda: F.cross_entropy(SCORES, LABELS[:2]),
        ValueError,
        r"cross_entropy: target must have shape \(3,\)",
    ),
    (
        "nll_loss-reduction",
        lambda: F.nll_loss(SCORES, LABELS, reduction="avg"),
        ValueError,
        r"nll_loss: reduction must be 'mean', 'sum' or 'none', got 'avg'",
    ),
    (
        "mse_loss-shapes",
        lambda: F.mse_loss(SCORES, SCORES[:, :1]),
        ValueError,
        r"mse_loss: input shape \(3, 2\) and target shape \(3, 1\) differ",
    ),
    (
        "mse_loss-int-input",
        lambda: F.mse_loss(np.arange(3), np.arange(3)),
        TypeError,
        r"mse_loss: input must be floating point",
    ),
    (
        "hinge_loss-labels",
        lambda: F.hinge_loss(SCORES[:, 0], np.array([0, 1, -1])),
        ValueError,
        r"hinge_loss: labels must be -1 or \+1",
    ),
    (
        "bce-targets",
        lambda: F.binary_cross_entropy_with_logits(SCORES, SCORES * 3),
        ValueError,
        r"binary_cross_entropy_with_logits: targets must lie in \[0, 1\]",
    ),
    (
        "accuracy-shapes",
        lambda: nn.accuracy(SCORES, np.array([1, 0])),
        ValueError,
        r"accuracy: predictions of shape \(3,\).*do not match",
    ),
    (
        "misclassification-shapes",
        lambda: nn.misclassification_error(np.ones((3, 1)), np.ones(3)),
        ValueError,
        r"misclassification_error: output shape \(3, 1\) and target shape \(3,\) differ",
    ),
    (
        "xavier-1d",
        lambda: nn.init.xavier_uniform_(np.zeros(3)),
        ValueError,
        r"at least 2 dimensions",
    ),
    (
        "kaiming-mode",
        lambda: nn.init.kaiming_normal_(np.zeros((2, 2)), mode="fan"),
        ValueError,
        r"kaiming_normal_: mode must be 'fan_in' or 'fan_out', got 'fan'",
    ),
    (
        "init-rng",
        lambda: nn.init.normal_(np.zeros(2), rng="seed"),
        TypeError,
        r"normal_: rng must be a numpy.random.Generator, an int seed or None, got",
    ),
    (
        "init-std",
        lambda: nn.init.normal_(np.zeros(2), std=-1.0),
        ValueError,
        r"normal_: std must be non-negative, got -1.0",
    ),
    (
        "init-uniform-bounds",
        lambda: nn.init.uniform_(np.zeros(2), a=1.0, b=0.0),
        ValueError,
        r"uniform_: need a <= b, got a=1.0, b=0.0",
    ),
    (
        "init-gain",
        lambda: nn.init.calculate_gain("swish"),
        ValueError,
        r"calculate_gain: unsupported nonlinearity 'swish'",
    ),
    (
        "LayerNorm-shape-mismatch",
        lambda: nn.LayerNorm(4)(np.ones((2, 3), np.float32)),
        ValueError,
        r"layer_norm: input of shape \(2, 3\) does not end with normalized_shape \(4,\)",
    ),
    (
        "LayerNorm-tuple-shape-mismatch",
        lambda: nn.LayerNorm((3, 4))(np.ones((2, 4, 3), np.float32)),
        ValueError,
        r"layer_norm: input of shape \(2, 4, 3\) does not end with normalized_shape \(3, 4\)",
    ),
    (
        "LayerNorm-shape-0",
        lambda: nn.LayerNorm(0),
        ValueError,
        r"LayerNorm: normalized_shape must be a positive int or a non-empty tuple of positive ints, got 0",
    ),
    (
        "LayerNorm-shape-float",
        lambda: nn.LayerNorm(2.5),
        TypeError,
        r"LayerNorm: normalized_shape must be a positive int .*got 2.5",
    ),
    (
        "LayerNorm-shape-empty",
        lambda: nn.LayerNorm(()),
        TypeError,
        r"LayerNorm: normalized_shape must be .*non-empty tuple.*got \(\)",
    ),
    (
        "LayerNorm-eps",
        lambda: nn.LayerNorm(3, eps=0),
        ValueError,
        r"LayerNorm: eps must be positive, got 0",
    ),
    (
        "LayerNorm-dtype",
        lambda: nn.LayerNorm(3)(ad.tensor(np.ones((2, 3)))),
        TypeError,
        r"layer_norm: input dtype float64 does not match weight dtype float32",
    ),
    (
        "layer_norm-int-input",
        lambda: F.layer_norm(np.arange(4), 4),
        TypeError,
        r"layer_norm: input must be floating point, got dtype int64",
    ),
    (
        "layer_norm-weight-shape",
        lambda: F.layer_norm(np.ones((2, 4)), 4, weight=np.ones(3)),
        ValueError,
        r"layer_norm: weight must have shape \(4,\) \(normalized_shape\), got \(3,\)",
    ),
    (
        "Embedding-index-too-large",
        lambda: nn.Embedding(10, 3)(np.array([1, 10])),
        IndexError,
        r"embedding: index out of range: indices must lie in \[0, 10\) for a weight of shape \(10, 3\), found \[10\]",
    ),
    (
        "Embedding-index-negative",
        lambda: nn.Embedding(10, 3)(np.array([[-1, 2]])),
        IndexError,
        r"embedding: index out of range: .*found \[-1\]",
    ),
    (
        "Embedding-index-float",
        lambda: nn.Embedding(10, 3)(np.array([1.0, 2.0])),
        TypeError,
        r"embedding: indices must be integers, got dtype float64",
    ),
    (
        "Embedding-index-bool",
        lambda: nn.Embedding(10, 3)(np.array([True])),
        TypeError,
        r"embedding: indices must be integers, got dtype bool",
    ),
    (
        "Embedding-num-0",
        lambda: nn.Embedding(0, 3),
        ValueError,
        r"Embedding: num_embeddings must be a positive int, got 0",
    ),
    (
        "Embedding-dim-float",
        lambda: nn.Embedding(5, 2.5),
        TypeError,
        r"Embedding: embedding_dim must be a positive int, got 2.5",
    ),
    (
        "Embedding-padding-idx-range",
        lambda: nn.Embedding(5, 2, padding_idx=5),
        ValueError,
        r"Embedding: padding_idx must lie in \[-5, 5\) \(num_embeddings=5\), got 5",
    ),
    (
        "embedding-weight-1d",
        lambda: F.embedding(np.array([0]), np.ones(4)),
        ValueError,
        r"embedding: weight must have shape \(num_embeddings, embedding_dim\), got \(4,\)",
    ),
    (
        "Embedding-pretrained-1d",
        lambda: nn.Embedding.from_pretrained(np.ones(4)),
        ValueError,
        r"Embedding.from_pretrained: embeddings must have shape \(num_embeddings, embedding_dim\), got \(4,\)",
    ),
    (
        "GELU-approximate",
        lambda: nn.GELU(approximate="fast"),
        ValueError,
        r"GELU: approximate must be 'none' or 'tanh', got 'fast'",
    ),
    (
        "gelu-approximate",
        lambda: F.gelu(np.ones(2), approximate="erf"),
        ValueError,
        r"gelu: approximate must be 'none' or 'tanh', got 'erf'",
    ),
    (
        "Softmax-implicit-dim-3d",
        lambda: nn.Softmax()(np.ones((2, 3, 4))),
        ValueError,
        r"Softmax: dim=None is ambiguous for an input with 3 dimensions; pass dim=",
    ),
    (
        "LogSoftmax-dim-float",
        lambda: nn.LogSoftmax(dim=1.0),
        TypeError,
        r"LogSoftmax: dim must be an int or None, got 1.0",
    ),
    (
        "softmax-dim-and-axis",
        lambda: F.softmax(np.ones((2, 3)), dim=0, axis=1),
        TypeError,
        r"softmax: got both dim=0 and axis=1",
    ),
    (
        "Dropout2d-p",
        lambda: nn.Dropout2d(-0.5),
        ValueError,
        r"Dropout2d: p must be a probability in \[0, 1\], got -0.5",
    ),
    (
        "dropout2d-rank",
        lambda: F.dropout2d(np.ones((3, 4, 4)), 0.5),
        ValueError,
        r"dropout2d: expected an input \(N, C, H, W\) with 4 dimensions, got shape \(3, 4, 4\)",
    ),
    (
        "Module-to-cuda",
        lambda: nn.Linear(2, 2).to("cuda"),
        ValueError,
        r"Module.to: device 'cuda' is not available: .*no GPU backend yet",
    ),
    (
        "Module-to-dtype-string",
        lambda: nn.Linear(2, 2).to("float64"),
        ValueError,
        r"Module.to: device 'float64' is not available: .*pass np.float32 or np.float64, not a string",
    ),
    (
        "Module-to-not-a-dtype",
        lambda: nn.Linear(2, 2).to(object()),
        TypeError,
        r"Module.to: expected a dtype \(np.float32, np.float64\), a device string or a tensor, got <object object",
    ),
    (
        "Module-apply-not-callable",
        lambda: nn.Linear(2, 2).apply(3),
        TypeError,
        r"Module.apply: fn must be callable, got int",
    ),
    (
        "Module-requires-grad-not-bool",
        lambda: nn.Linear(2, 2).requires_grad_("no"),
        TypeError,
        r"Module.requires_grad_: requires_grad must be True or False, got 'no'",
    ),
    (
        "parameters_to_vector-dtypes",
        lambda: nn.utils.parameters_to_vector([_param(), nn.Parameter(np.zeros(2, np.float32))]),
        TypeError,
        r"parameters_to_vector: parameters have different dtypes \['float32', 'float64'\]",
    ),
    (
        "parameters_to_vector-array",
        lambda: nn.utils.parameters_to_vector([np.zeros(2)]),
        TypeError,
        r"parameters_to_vector: expected Parameters \(Tensors\), got a ndarray at position 0",
    ),
    (
        "vector_to_parameters-length",
        lambda: nn.utils.vector_to_parameters(np.zeros(5), nn.Linear(2, 2).parameters()),
        ValueError,
        r"vector_to_parameters: vec has 5 elements but the 2 parameters have 6 in all",
    ),
    (
        "vector_to_parameters-2d",
        lambda: nn.utils.vector_to_parameters(np.zeros((2, 3)), nn.Linear(2, 2).parameters()),
        ValueError,
        r"vector_to_parameters: vec must be 1-d, got shape \(2, 3\)",
    ),
    (
        "cross_entropy-weight-shape",
        lambda: F.cross_entropy(SCORES, LABELS, weight=np.ones(3)),
        ValueError,
        r"cross_entropy: weight must have shape \(2,\), one weight per class of input \(3, 2\), got \(3,\)",
    ),
    (
        "cross_entropy-reduction-positional",
        lambda: F.cross_entropy(SCORES, LABELS, "sum"),
        TypeError,
        r"cross_entropy: weight must be an array of numbers, got the string 'sum' \(pass reduction= by keyword\)",
    ),
    (
        "cross_entropy-label-smoothing",
        lambda: F.cross_entropy(SCORES, LABELS, label_smoothing=1.5),
        ValueError,
        r"cross_entropy: label_smoothing must be a number in \[0, 1\], got 1.5",
    ),
    (
        "CrossEntropyLoss-label-smoothing",
        lambda: nn.CrossEntropyLoss(label_smoothing=-0.1),
        ValueError,
        r"CrossEntropyLoss: label_smoothing must be a number in \[0, 1\], got -0.1",
    ),
    (
        "CrossEntropyLoss-weight-strings",
        lambda: nn.CrossEntropyLoss(np.array(["a", "b"])),
        TypeError,
        r"CrossEntropyLoss: weight must hold real numbers, got dtype <U1",
    ),
    (
        "nll_loss-weight-shape",
        lambda: F.nll_loss(SCORES, LABELS, weight=np.ones((2, 1))),
        ValueError,
        r"nll_loss: weight must have shape \(2,\), one weight per class of input \(3, 2\), got \(2, 1\)",
    ),
    (
        "bce-pos-weight-shape",
        lambda: F.binary_cross_entropy_with_logits(SCORES, SCORES * 0, pos_weight=np.ones(3)),
        ValueError,
        r"binary_cross_entropy_with_logits: pos_weight of shape \(3,\) does not broadcast to the input's shape \(3, 2\)",
    ),
    (
        "bce-weight-shape",
        lambda: F.binary_cross_entropy_with_logits(SCORES, SCORES * 0, weight=np.ones((3, 2, 1))),
        ValueError,
        r"binary_cross_entropy_with_logits: weight of shape \(3, 2, 1\) does not broadcast to the input's shape \(3, 2\)",
    ),
    (
        "huber_loss-delta",
        lambda: F.huber_loss(SCORES, SCORES, delta=0.0),
        ValueError,
        r"huber_loss: delta must be a positive finite number, got 0.0",
    ),
    (
        "huber_loss-shapes",
        lambda: F.huber_loss(SCORES, SCORES[:, :1]),
        ValueError,
        r"huber_loss: input shape \(3, 2\) and target shape \(3, 1\) differ",
    ),
    (
        "HuberLoss-delta",
        lambda: nn.HuberLoss(delta=-1),
        ValueError,
        r"HuberLoss: delta must be a positive finite number, got -1",
    ),
    # ---- optim: optimizers ----
    _rejected(
        "SGD-lr-negative",
        _sgd,
        {"lr": -1},
        ValueError,
        r"SGD: lr must be non-negative and finite, got -1",
    ),
    _rejected(
        "SGD-lr-nan",
        _sgd,
        {"lr": NAN},
        ValueError,
        r"SGD: lr must be non-negative and finite, got nan",
    ),
    _rejected(
        "SGD-lr-inf",
        _sgd,
        {"lr": INF},
        ValueError,
        r"SGD: lr must be non-negative and finite, got inf",
    ),
    _rejected(
        "SGD-lr-none",
        _sgd,
        {"lr": None},
        TypeError,
        r"SGD: lr must be non-negative and finite, got None",
    ),
    _rejected(
        "SGD-lr-string",
        _sgd,
        {"lr": "0.1"},
        TypeError,
        r"SGD: lr must be non-negative and finite, got '0.1'",
    ),
    _rejected(
        "SGD-momentum-negative",
        _sgd,
        {"momentum": -0.1},
        ValueError,
        r"SGD: momentum must be a number in \[0, 1\), got -0.1",
    ),
    _rejected(
        "SGD-momentum-one",
        _sgd,
        {"momentum": 1.0},
        ValueError,
        r"SGD: momentum must be a number in \[0, 1\), got 1.0",
    ),
    _rejected(
        "SGD-momentum-nan",
        _sgd,
        {"momentum": NAN},
        ValueError,
        r"SGD: momentum must be a number in \[0, 1\), got nan",
    ),
    _rejected(
        "SGD-weight-decay-negative",
        _sgd,
        {"weight_decay": -1e-4},
        ValueError,
        r"SGD: weight_decay must be non-negative and finite, got -0.0001",
    ),
    _rejected(
        "SGD-weight-decay-inf",
        _sgd,
        {"weight_decay": INF},
        ValueError,
        r"SGD: weight_decay must be non-negative and finite, got inf",
    ),
    _rejected(
        "SGD-decay-nan",
        _sgd,
        {"decay": NAN},
        ValueError,
        r"SGD: decay must be non-negative and finite, got nan",
    ),
    _rejected(
        "SGD-nesterov-no-momentum",
        _sgd,
        {"nesterov": True},
        ValueError,
        r"SGD: nesterov=True requires momentum > 0",
    ),
    _rejected(
        "SGD-nesterov-not-bool",
        _sgd,
        {"momentum": 0.9, "nesterov": "yes"},
        TypeError,
        r"SGD: nesterov must be True or False, got 'yes'",
    ),
    (
        "SGD-group-lr-nan",
        lambda: optim.SGD([{"params": [_param()], "lr": NAN}], lr=0.1),
        ValueError,
        r"SGD: lr must be non-negative and finite, got nan",
    ),
    (
        "SGD-group-unknown",
        lambda: optim.SGD([{"params": [_param()], "betas": (0.9, 0.9)}], lr=0.1),
        ValueError,
        r"SGD: unknown hyper-parameter\(s\) \['betas'\]",
    ),
    (
        "SGD-group-no-params",
        lambda: optim.SGD([{"lr": 0.1}], lr=0.1),
        TypeError,
        r"SGD: a parameter group must be a dict with a 'params' entry",
    ),
    (
        "SGD-single-tensor",
        lambda: optim.SGD(_param(), lr=0.1),
        TypeError,
        r"SGD: params must be an iterable of Tensors.*single Tensor of shape \(2,\)",
    ),
    ("SGD-empty", lambda: optim.SGD([], lr=0.1), ValueError, r"SGD: got an empty parameter list"),
    (
        "SGD-duplicate",
        lambda: optim.SGD([_param()] * 2, lr=0.1),
        ValueError,
        r"SGD: a parameter of shape \(2,\) appears more than once",
    ),
    (
        "SGD-integer-param",
        lambda: optim.SGD([ad.tensor([1, 2])], lr=0.1),
        TypeError,
        r"SGD: a parameter of shape \(2,\) has dtype int\d+; only real floating-point tensors",
    ),
    (
        "SGD-not-leaf",
        lambda: optim.SGD([_param() * 2], lr=0.1),
        ValueError,
        r"SGD: can only optimise leaf tensors",
    ),
    (
        "SGD-not-tensor",
        lambda: optim.SGD([np.zeros(2)], lr=0.1),
        TypeError,
        r"SGD: parameters must be Tensors, got ndarray",
    ),
    (
        "SGD-step-grad-shape",
        lambda: _step_with_grad(np.ones(3)),
        ValueError,
        r"SGD.step: gradient shape \(3,\) does not match parameter shape \(2,\)",
    ),
    _rejected(
        "Adam-lr-negative",
        _adam,
        {"lr": -1e-3},
        ValueError,
        r"Adam: lr must be non-negative and finite, got -0.001",
    ),
    _rejected(
        "Adam-lr-nan",
        _adam,
        {"lr": NAN},
        ValueError,
        r"Adam: lr must be non-negative and finite, got nan",
    ),
    _rejected(
        "Adam-beta-one",
        _adam,
        {"betas": (0.9, 1.0)},
        ValueError,
        r"Adam: betas must be two numbers in \[0, 1\), got \(0.9, 1.0\)",
    ),
    _rejected(
        "Adam-beta-negative",
        _adam,
        {"betas": (-0.1, 0.999)},
        ValueError,
        r"Adam: betas must be two numbers in \[0, 1\), got \(-0.1, 0.999\)",
    ),
    _rejected(
        "Adam-beta-nan",
        _adam,
        {"betas": (NAN, 0.999)},
        ValueError,
        r"Adam: betas must be two numbers in \[0, 1\), got \(nan, 0.999\)",
    ),
    _rejected(
        "Adam-betas-scalar",
        _adam,
        {"betas": 0.9},
        ValueError,
        r"Adam: betas must be two numbers in \[0, 1\), got 0.9",
    ),
    _rejected(
        "Adam-betas-three",
        _adam,
        {"betas": (0.9, 0.99, 0.999)},
        ValueError,
        r"Adam: betas must be two numbers in \[0, 1\), got \(0.9, 0.99, 0.999\)",
    ),
    _rejected(
        "Adam-eps-zero",
        _adam,
        {"eps": 0.0},
        ValueError,
        r"Adam: eps must be positive and finite, got 0.0",
    ),
    _rejected(
        "Adam-eps-negative",
        _adam,
        {"eps": -1e-8},
        ValueError,
        r"Adam: eps must be positive and finite, got -1e-08",
    ),
    _rejected(
        "Adam-eps-inf",
        _adam,
        {"eps": INF},
        ValueError,
        r"Adam: eps must be positive and finite, got inf",
    ),
    _rejected(
        "Adam-weight-decay-negative",
        _adam,
        {"weight_decay": -0.1},
        ValueError,
        r"Adam: weight_decay must be non-negative and finite, got -0.1",
    ),
    _rejected(
        "Adam-weight-decay-nan",
        _adam,
        {"weight_decay": NAN},
        ValueError,
        r"Adam: weight_decay must be non-negative and finite, got nan",
    ),
    _rejected(
        "SGD-dampening-negative",
        _sgd,
        {"momentum": 0.9, "dampening": -0.1},
        ValueError,
        r"SGD: dampening must be a number in \[0, 1\], got -0.1",
    ),
    _rejected(
        "SGD-dampening-nan",
        _sgd,
        {"momentum": 0.9, "dampening": NAN},
        ValueError,
        r"SGD: dampening must be a number in \[0, 1\], got nan",
    ),
    _rejected(
        "SGD-nesterov-dampening",
        _sgd,
        {"momentum": 0.9, "nesterov": True, "dampening": 0.1},
        ValueError,
        r"SGD: nesterov=True requires dampening = 0, got 0.1",
    ),
    _rejected(
        "Adam-amsgrad-not-bool",
        _adam,
        {"amsgrad": 1},
        TypeError,
        r"Adam: amsgrad must be True or False, got 1",
    ),
    _rejected(
        "AdamW-lr-negative",
        _optimizer(optim.AdamW),
        {"lr": -1e-3},
        ValueError,
        r"AdamW: lr must be non-negative and finite, got -0.001",
    ),
    _rejected(
        "AdamW-weight-decay-negative",
        _optimizer(optim.AdamW),
        {"weight_decay": -0.01},
        ValueError,
        r"AdamW: weight_decay must be non-negative and finite, got -0.01",
    ),
    _rejected(
        "AdamW-weight-decay-nan",
        _optimizer(optim.AdamW),
        {"weight_decay": NAN},
        ValueError,
        r"AdamW: weight_decay must be non-negative and finite, got nan",
    ),
    _rejected(
        "AdamW-beta-one",
        _optimizer(optim.AdamW),
        {"betas": (1.0, 0.999)},
        ValueError,
        r"AdamW: betas must be two numbers in \[0, 1\), got \(1.0, 0.999\)",
    ),
    _rejected(
        "AdamW-eps-zero",
        _optimizer(optim.AdamW),
        {"eps": 0.0},
        ValueError,
        r"AdamW: eps must be positive and finite, got 0.0",
    ),
    _rejected(
        "AdamW-amsgrad-not-bool",
        _optimizer(optim.AdamW),
        {"amsgrad": "yes"},
        TypeError,
        r"AdamW: amsgrad must be True or False, got 'yes'",
    ),
    _rejected(
        "RMSprop-lr-negative",
        _optimizer(optim.RMSprop),
        {"lr": -0.01},
        ValueError,
        r"RMSprop: lr must be non-negative and finite, got -0.01",
    ),
    _rejected(
        "RMSprop-alpha-above-one",
        _optimizer(optim.RMSprop),
        {"alpha": 1.5},
        ValueError,
        r"RMSprop: alpha must be a number in \[0, 1\], got 1.5",
    ),
    _rejected(
        "RMSprop-alpha-nan",
        _optimizer(optim.RMSprop),
        {"alpha": NAN},
        ValueError,
        r"RMSprop: alpha must be a number in \[0, 1\], got nan",
    ),
    _rejected(
        "RMSprop-eps-zero",
        _optimizer(optim.RMSprop),
        {"eps": 0},
        ValueError,
        r"RMSprop: eps must be positive and finite, got 0",
    ),
    _rejected(
        "RMSprop-momentum-one",
        _optimizer(optim.RMSprop),
        {"momentum": 1.0},
        ValueError,
        r"RMSprop: momentum must be a number in \[0, 1\), got 1.0",
    ),
    _rejected(
        "RMSprop-weight-decay-inf",
        _optimizer(optim.RMSprop),
        {"weight_decay": INF},
        ValueError,
        r"RMSprop: weight_decay must be non-negative and finite, got inf",
    ),
    _rejected(
        "RMSprop-centered-not-bool",
        _optimizer(optim.RMSprop),
        {"centered": None},
        TypeError,
        r"RMSprop: centered must be True or False, got None",
    ),
    _rejected(
        "Adagrad-lr-negative",
        _optimizer(optim.Adagrad),
        {"lr": -0.1},
        ValueError,
        r"Adagrad: lr must be non-negative and finite, got -0.1",
    ),
    _rejected(
        "Adagrad-lr-decay-negative",
        _optimizer(optim.Adagrad),
        {"lr_decay": -0.1},
        ValueError,
        r"Adagrad: lr_decay must be non-negative and finite, got -0.1",
    ),
    _rejected(
        "Adagrad-weight-decay-nan",
        _optimizer(optim.Adagrad),
        {"weight_decay": NAN},
        ValueError,
        r"Adagrad: weight_decay must be non-negative and finite, got nan",
    ),
    _rejected(
        "Adagrad-initial-accumulator-negative",
        _optimizer(optim.Adagrad),
        {"initial_accumulator_value": -1.0},
        ValueError,
        r"Adagrad: initial_accumulator_value must be non-negative and finite, got -1.0",
    ),
    _rejected(
        "Adagrad-eps-zero",
        _optimizer(optim.Adagrad),
        {"eps": 0.0},
        ValueError,
        r"Adagrad: eps must be positive and finite, got 0.0",
    ),
    _rejected(
        "Adagrad-lr-string",
        _optimizer(optim.Adagrad),
        {"lr": "0.1"},
        TypeError,
        r"Adagrad: lr must be non-negative and finite, got '0.1'",
    ),
    (
        "zero_grad-set-to-none-not-bool",
        lambda: _sgd().zero_grad(set_to_none=0),
        TypeError,
        r"SGD.zero_grad: set_to_none must be True or False, got 0",
    ),
    # ---- optim: load_state_dict ----
    (
        "load-not-a-state",
        lambda: _sgd().load_state_dict({"param_groups": []}),
        ValueError,
        r"SGD.load_state_dict: expected a dict with 'state' \(a dict\) and 'param_groups' \(a list\)",
    ),
    (
        "load-group-count",
        lambda: _load_edited(_sgd, lambda s: s["param_groups"].append({"params": []})),
        ValueError,
        r"SGD.load_state_dict: the state has 2 parameter groups, this optimizer 1",
    ),
    (
        "load-param-count",
        lambda: _load_edited(
            lambda: optim.SGD([_param(), _param()], lr=0.1),
            lambda s: s["param_groups"][0]["params"].pop(),
        ),
        ValueError,
        r"SGD.load_state_dict: group 0 has 1 parameters in the state, 2 here",
    ),
    (
        "load-group-not-dict",
        lambda: _load_edited(_sgd, lambda s: s["param_groups"].__setitem__(0, [0])),
        ValueError,
        r"SGD.load_state_dict: parameter group 0 must be a dict with a 'params' list",
    ),
    (
        "load-duplicate-index",
        lambda: _load_edited(
            lambda: optim.SGD([_param(), _param()], lr=0.1),
            lambda s: s["param_groups"][0].update(params=[0, 0]),
        ),
        ValueError,
        r"SGD.load_state_dict: parameter index 0 appears more than once",
    ),
    (
        "load-unknown-parameter",
        lambda: _load_edited(_adam, lambda s: s["state"].update({5: {}})),
        ValueError,
        r"Adam.load_state_dict: state for unknown parameter 5",
    ),
    (
        "load-missing-exp_avg",
        lambda: _load_edited(_adam, lambda s: s["state"][0].pop("exp_avg")),
        ValueError,
        r"Adam.load_state_dict: the state of parameter 0 has entries \['exp_avg_sq', 'step'\]; .*missing \['exp_avg'\]",
    ),
    (
        "load-unexpected-entry",
        lambda: _load_edited(
            lambda: _sgd(momentum=0.9), lambda s: s["state"][0].update(buffer=np.zeros(2))
        ),
        ValueError,
        r"SGD.load_state_dict: the state of parameter 0 .*unexpected \['buffer'\]",
    ),
    (
        "load-state-shape",
        lambda: _load_edited(
            lambda: _sgd(momentum=0.9), lambda s: s["state"][0].update(velocity=np.zeros(5))
        ),
        ValueError,
        r"SGD.load_state_dict: state 'velocity' of parameter 0 has shape \(5,\), the parameter \(2,\)",
    ),
    (
        "load-state-dtype",
        lambda: _load_edited(_adam, lambda s: s["state"][0].update(exp_avg=np.zeros(2, complex))),
        ValueError,
        r"Adam.load_state_dict: state 'exp_avg' of parameter 0 has dtype complex128",
    ),
    (
        "load-state-not-array",
        lambda: _load_edited(_adam, lambda s: s["state"][0].update(exp_avg_sq=[0.0, 0.0])),
        ValueError,
        r"Adam.load_state_dict: state 'exp_avg_sq' of parameter 0 must be an array of shape \(2,\), got list",
    ),
    (
        "load-state-step",
        lambda: _load_edited(_adam, lambda s: s["state"][0].update(step=-1)),
        ValueError,
        r"Adam.load_state_dict: state 'step' of parameter 0 must be an int >= 0, got -1",
    ),
    (
        "load-state-step-float",
        lambda: _load_edited(_adam, lambda s: s["state"][0].update(step=1.5)),
        TypeError,
        r"Adam.load_state_dict: state 'step' of parameter 0 must be an int >= 0, got 1.5",
    ),
    (
        "load-state-not-dict",
        lambda: _load_edited(_adam, lambda s: s["state"].update({0: [1]})),
        ValueError,
        r"Adam.load_state_dict: the state of parameter 0 must be a dict, got list",
    ),
    (
        "load-lr-nan",
        lambda: _load_edited(_sgd, lambda s: s["param_groups"][0].update(lr=NAN)),
        ValueError,
        r"SGD.load_state_dict: parameter group 0: SGD: lr must be non-negative and finite, got nan",
    ),
    (
        "load-momentum",
        lambda: _load_edited(_sgd, lambda s: s["param_groups"][0].update(momentum=2.0)),
        ValueError,
        r"SGD.load_state_dict: parameter group 0: SGD: momentum must be a number in \[0, 1\), got 2.0",
    ),
    (
        "load-betas",
        lambda: _load_edited(_adam, lambda s: s["param_groups"][0].update(betas=(0.9, 1.5))),
        ValueError,
        r"Adam.load_state_dict: parameter group 0: Adam: betas must be two numbers in \[0, 1\)",
    ),
    (
        "load-unknown-hyperparameter",
        lambda: _load_edited(_adam, lambda s: s["param_groups"][0].update(nesterov=True)),
        ValueError,
        r"Adam.load_state_dict: parameter group 0: unknown hyper-parameter\(s\) \['nesterov'\]",
    ),
    (
        "load-initial-lr",
        lambda: _load_edited(_sgd, lambda s: s["param_groups"][0].update(initial_lr=-1.0)),
        ValueError,
        r"SGD.load_state_dict: parameter group 0: SGD: initial_lr must be non-negative and finite, got -1.0",
    ),
    (
        "load-iterations",
        lambda: _load_edited(_sgd, lambda s: s.update(iterations=-3)),
        ValueError,
        r"SGD.load_state_dict: iterations must be an int >= 0, got -3",
    ),
    (
        "load-amsgrad-missing-max",
        lambda: _load_edited(
            lambda: _adam(amsgrad=True), lambda s: s["state"][0].pop("max_exp_avg_sq")
        ),
        ValueError,
        r"Adam.load_state_dict: the state of parameter 0 .*missing \['max_exp_avg_sq'\]",
    ),
    (
        "load-RMSprop-missing-momentum-buffer",
        lambda: _load_edited(
            lambda: optim.RMSprop([_param()], momentum=0.9),
            lambda s: s["state"][0].pop("momentum_buffer"),
        ),
        ValueError,
        r"RMSprop.load_state_dict: the state of parameter 0 .*missing \['momentum_buffer'\]",
    ),
    (
        "load-RMSprop-alpha",
        lambda: _load_edited(
            lambda: optim.RMSprop([_param()]), lambda s: s["param_groups"][0].update(alpha=-0.5)
        ),
        ValueError,
        r"RMSprop.load_state_dict: parameter group 0: RMSprop: alpha must be a number in \[0, 1\], got -0.5",
    ),
    (
        "load-Adagrad-sum-shape",
        lambda: _load_edited(
            lambda: optim.Adagrad([_param()]), lambda s: s["state"][0].update(sum=np.zeros(3))
        ),
        ValueError,
        r"Adagrad.load_state_dict: state 'sum' of parameter 0 has shape \(3,\), the parameter \(2,\)",
    ),
    (
        "load-AdamW-amsgrad",
        lambda: _load_edited(
            lambda: optim.AdamW([_param()]), lambda s: s["param_groups"][0].update(amsgrad="no")
        ),
        TypeError,
        r"AdamW.load_state_dict: parameter group 0: AdamW: amsgrad must be True or False, got 'no'",
    ),
    # ---- optim: clip_grad_norm_ ----
    (
        "clip-max-norm-nan",
        lambda: optim.clip_grad_norm_([_param()], NAN),
        ValueError,
        r"clip_grad_norm_: max_norm must be a non-negative number.*got nan",
    ),
    (
        "clip-max-norm-negative",
        lambda: optim.clip_grad_norm_([_param()], -1.0),
        ValueError,
        r"clip_grad_norm_: max_norm must be a non-negative number.*got -1.0",
    ),
    (
        "clip-max-norm-none",
        lambda: optim.clip_grad_norm_([_param()], None),
        TypeError,
        r"clip_grad_norm_: max_norm must be a non-negative number, got None",
    ),
    (
        "clip-norm-type-nan",
        lambda: optim.clip_grad_norm_([_param()], 1.0, norm_type=NAN),
        ValueError,
        r"clip_grad_norm_: norm_type must be a positive number or inf, got nan",
    ),
    (
        "clip-norm-type-zero",
        lambda: optim.clip_grad_norm_([_param()], 1.0, norm_type=0),
        ValueError,
        r"clip_grad_norm_: norm_type must be a positive number or inf, got 0",
    ),
    (
        "clip-norm-type-minus-inf",
        lambda: optim.clip_grad_norm_([_param()], 1.0, norm_type=-INF),
        ValueError,
        r"clip_grad_norm_: norm_type must be a positive number or inf, got -inf",
    ),
    (
        "clip-norm-type-string",
        lambda: optim.clip_grad_norm_([_param()], 1.0, norm_type="fro"),
        TypeError,
        r"clip_grad_norm_: norm_type must be a positive number or inf, got 'fro'",
    ),
    (
        "clip-not-tensor",
        lambda: optim.clip_grad_norm_([np.ones(2)], 1.0),
        TypeError,
        r"clip_grad_norm_: parameters must be Tensors, got ndarray",
    ),
    (
        "clip-nonfinite-norm",
        _clip_infinite_gradient,
        RuntimeError,
        r"clip_grad_norm_: the total 2.0-norm of the gradients is inf",
    ),
    # ---- optim: schedules ----
    (
        "scheduler-not-optimizer",
        lambda: optim.ExponentialLR("sgd", gamma=0.9),
        TypeError,
        r"ExponentialLR: expected an optim.Optimizer, got str",
    ),
    _rejected(
        "scheduler-last-epoch",
        _schedule(optim.ExponentialLR),
        {"gamma": 0.9, "last_epoch": -2},
        ValueError,
        r"ExponentialLR: last_epoch must be an int >= -1, got -2",
    ),
    _rejected(
        "ExponentialLR-gamma-0",
        _schedule(optim.ExponentialLR),
        {"gamma": 0.0},
        ValueError,
        r"ExponentialLR: gamma must be positive and finite, got 0.0",
    ),
    _rejected(
        "ExponentialLR-gamma-nan",
        _schedule(optim.ExponentialLR),
        {"gamma": NAN},
        ValueError,
        r"ExponentialLR: gamma must be positive and finite, got nan",
    ),
    _rejected(
        "ExponentialLR-gamma-inf",
        _schedule(optim.ExponentialLR),
        {"gamma": INF},
        ValueError,
        r"ExponentialLR: gamma must be positive and finite, got inf",
    ),
    _rejected(
        "StepLR-step-size-0",
        _schedule(optim.StepLR),
        {"step_size": 0},
        ValueError,
        r"StepLR: step_size must be an int >= 1, got 0",
    ),
    _rejected(
        "StepLR-step-size-float",
        _schedule(optim.StepLR),
        {"step_size": 2.5},
        TypeError,
        r"StepLR: step_size must be an int >= 1, got 2.5",
    ),
    _rejected(
        "StepLR-gamma-negative",
        _schedule(optim.StepLR),
        {"step_size": 2, "gamma": -0.5},
        ValueError,
        r"StepLR: gamma must be positive and finite, got -0.5",
    ),
    _rejected(
        "ConstantLR-factor-0",
        _schedule(optim.ConstantLR),
        {"factor": 0.0},
        ValueError,
        r"ConstantLR: factor must be positive and finite, got 0.0",
    ),
    _rejected(
        "ConstantLR-factor-inf",
        _schedule(optim.ConstantLR),
        {"factor": INF},
        ValueError,
        r"ConstantLR: factor must be positive and finite, got inf",
    ),
    _rejected(
        "ConstantLR-total-iters",
        _schedule(optim.ConstantLR),
        {"total_iters": -1},
        ValueError,
        r"ConstantLR: total_iters must be an int >= 0, got -1",
    ),
    _rejected(
        "CosineAnnealingLR-T_max-0",
        _schedule(optim.CosineAnnealingLR),
        {"T_max": 0},
        ValueError,
        r"CosineAnnealingLR: T_max must be an int >= 1, got 0",
    ),
    _rejected(
        "CosineAnnealingLR-eta_min-negative",
        _schedule(optim.CosineAnnealingLR),
        {"T_max": 5, "eta_min": -0.1},
        ValueError,
        r"CosineAnnealingLR: eta_min must be non-negative and finite, got -0.1",
    ),
    _rejected(
        "CosineAnnealingLR-eta_min-nan",
        _schedule(optim.CosineAnnealingLR),
        {"T_max": 5, "eta_min": NAN},
        ValueError,
        r"CosineAnnealingLR: eta_min must be non-negative and finite, got nan",
    ),
    _rejected(
        "WarmupDecayLR-warmup-total",
        _schedule(optim.WarmupDecayLR),
        {"warmup_steps": 5, "total_steps": 5},
        ValueError,
        r"WarmupDecayLR: need 0 <= warmup_steps < total_steps, got 5 and 5",
    ),
    _rejected(
        "WarmupDecayLR-warmup-negative",
        _schedule(optim.WarmupDecayLR),
        {"warmup_steps": -1, "total_steps": 5},
        ValueError,
        r"WarmupDecayLR: warmup_steps must be an int >= 0, got -1",
    ),
    (
        "WarmupDecayLR-decay",
        lambda: optim.WarmupDecayLR(_sgd(), 1, 5, decay="exp"),
        ValueError,
        r"WarmupDecayLR: decay must be 'linear' or 'cosine', got 'exp'",
    ),
    (
        "WarmupDecayLR-min-lr",
        lambda: optim.WarmupDecayLR(_sgd(), 1, 5, min_lr=-0.1),
        ValueError,
        r"WarmupDecayLR: min_lr must be non-negative and finite, got -0.1",
    ),
    (
        "WarmupDecayLR-start-factor",
        lambda: optim.WarmupDecayLR(_sgd(), 1, 5, start_factor=2.0),
        ValueError,
        r"WarmupDecayLR: start_factor must be a number in \[0, 1\], got 2.0",
    ),
    _rejected(
        "OneCycleLR-pct-start",
        _schedule(optim.OneCycleLR),
        {"max_lr": 1.0, "total_steps": 10, "pct_start": 1.5},
        ValueError,
        r"OneCycleLR: pct_start must be a number in \(0, 1\), got 1.5",
    ),
    _rejected(
        "OneCycleLR-total-steps",
        _schedule(optim.OneCycleLR),
        {"max_lr": 1.0, "total_steps": 1},
        ValueError,
        r"OneCycleLR: total_steps must be an int >= 2, got 1",
    ),
    _rejected(
        "OneCycleLR-max-lr-nan",
        _schedule(optim.OneCycleLR),
        {"max_lr": NAN, "total_steps": 10},
        ValueError,
        r"OneCycleLR: max_lr must be positive and finite, got nan",
    ),
    _rejected(
        "OneCycleLR-max-lr-count",
        _schedule(optim.OneCycleLR),
        {"max_lr": [1.0, 2.0], "total_steps": 10},
        ValueError,
        r"OneCycleLR: 2 max_lr values for 1 parameter groups",
    ),
    _rejected(
        "OneCycleLR-div-factor",
        _schedule(optim.OneCycleLR),
        {"max_lr": 1.0, "total_steps": 10, "div_factor": 0},
        ValueError,
        r"OneCycleLR: div_factor must be positive and finite, got 0",
    ),
    _rejected(
        "OneCycleLR-final-div-factor",
        _schedule(optim.OneCycleLR),
        {"max_lr": 1.0, "total_steps": 10, "final_div_factor": INF},
        ValueError,
        r"OneCycleLR: final_div_factor must be positive and finite, got inf",
    ),
    _rejected(
        "OneCycleLR-anneal",
        _schedule(optim.OneCycleLR),
        {"max_lr": 1.0, "total_steps": 10, "anneal_strategy": "cubic"},
        ValueError,
        r"OneCycleLR: anneal_strategy must be 'cos' or 'linear', got 'cubic'",
    ),
    (
        "OneCycleLR-not-optimizer",
        lambda: optim.OneCycleLR("sgd", max_lr=1.0, total_steps=10),
        TypeError,
        r"OneCycleLR: expected an optim.Optimizer, got str",
    ),
    (
        "OneCycleLR-past-total",
        lambda: _schedule_steps(optim.OneCycleLR(_sgd(), max_lr=1.0, total_steps=3), 4),
        ValueError,
        r"OneCycleLR: stepped 4 times, more than total_steps = 3",
    ),
    (
        "LambdaLR-not-callable",
        lambda: optim.LambdaLR(_sgd(), 0.5),
        TypeError,
        r"LambdaLR: lr_lambda must be callable",
    ),
    (
        "LambdaLR-nan",
        lambda: optim.LambdaLR(_sgd(), lambda t: NAN),
        ValueError,
        r"LambdaLR: step 0 gives parameter group 0 the learning rate nan; expected a finite non-negative rate",
    ),
    (
        "LambdaLR-negative",
        lambda: _schedule_steps(optim.LambdaLR(_sgd(), lambda t: 1 - t), 2),
        ValueError,
        r"LambdaLR: step 2 gives parameter group 0 the learning rate -0.1",
    ),
    (
        "scheduler-load-unknown",
        lambda: optim.StepLR(_sgd(), 2).load_state_dict({"gamma": 0.5}),
        ValueError,
        r"StepLR.load_state_dict: expected the entries \[.*\], got \['gamma'\]",
    ),
    (
        "ReduceLROnPlateau-not-optimizer",
        lambda: optim.ReduceLROnPlateau("sgd"),
        TypeError,
        r"ReduceLROnPlateau: expected an optim.Optimizer, got str",
    ),
    _rejected(
        "ReduceLROnPlateau-mode",
        _schedule(optim.ReduceLROnPlateau),
        {"mode": "median"},
        ValueError,
        r"ReduceLROnPlateau: mode must be 'min' or 'max', got 'median'",
    ),
    _rejected(
        "ReduceLROnPlateau-threshold-mode",
        _schedule(optim.ReduceLROnPlateau),
        {"threshold_mode": "relative"},
        ValueError,
        r"ReduceLROnPlateau: threshold_mode must be 'rel' or 'abs', got 'relative'",
    ),
    _rejected(
        "ReduceLROnPlateau-factor-one",
        _schedule(optim.ReduceLROnPlateau),
        {"factor": 1.0},
        ValueError,
        r"ReduceLROnPlateau: factor must be a number in \[0, 1\), got 1.0",
    ),
    _rejected(
        "ReduceLROnPlateau-factor-nan",
        _schedule(optim.ReduceLROnPlateau),
        {"factor": NAN},
        ValueError,
        r"ReduceLROnPlateau: factor must be a number in \[0, 1\), got nan",
    ),
    _rejected(
        "ReduceLROnPlateau-patience-negative",
        _schedule(optim.ReduceLROnPlateau),
        {"patience": -1},
        ValueError,
        r"ReduceLROnPlateau: patience must be an int >= 0, got -1",
    ),
    _rejected(
        "ReduceLROnPlateau-patience-float",
        _schedule(optim.ReduceLROnPlateau),
        {"patience": 2.5},
        TypeError,
        r"ReduceLROnPlateau: patience must be an int >= 0, got 2.5",
    ),
    _rejected(
        "ReduceLROnPlateau-cooldown-negative",
        _schedule(optim.ReduceLROnPlateau),
        {"cooldown": -2},
        ValueError,
        r"ReduceLROnPlateau: cooldown must be an int >= 0, got -2",
    ),
    _rejected(
        "ReduceLROnPlateau-threshold-negative",
        _schedule(optim.ReduceLROnPlateau),
        {"threshold": -1e-4},
        ValueError,
        r"ReduceLROnPlateau: threshold must be non-negative and finite, got -0.0001",
    ),
    _rejected(
        "ReduceLROnPlateau-threshold-rel-min",
        _schedule(optim.ReduceLROnPlateau),
        {"threshold": 1.0},
        ValueError,
        r"ReduceLROnPlateau: threshold must be below 1 with mode='min' and threshold_mode='rel'.*got 1.0",
    ),
    _rejected(
        "ReduceLROnPlateau-min-lr-negative",
        _schedule(optim.ReduceLROnPlateau),
        {"min_lr": -1e-5},
        ValueError,
        r"ReduceLROnPlateau: min_lr must be non-negative and finite, got -1e-05",
    ),
    _rejected(
        "ReduceLROnPlateau-min-lr-count",
        _schedule(optim.ReduceLROnPlateau),
        {"min_lr": [0.0, 0.1]},
        ValueError,
        r"ReduceLROnPlateau: 2 min_lr values for 1 parameter groups",
    ),
    _rejected(
        "ReduceLROnPlateau-eps-nan",
        _schedule(optim.ReduceLROnPlateau),
        {"eps": NAN},
        ValueError,
        r"ReduceLROnPlateau: eps must be non-negative and finite, got nan",
    ),
    (
        "ReduceLROnPlateau-step-nan",
        lambda: optim.ReduceLROnPlateau(_sgd()).step(NAN),
        ValueError,
        r"ReduceLROnPlateau.step: the metric is nan",
    ),
    (
        "ReduceLROnPlateau-step-string",
        lambda: optim.ReduceLROnPlateau(_sgd()).step("0.5"),
        TypeError,
        r"ReduceLROnPlateau.step: the metric must be a real number .*got '0.5'",
    ),
    (
        "ReduceLROnPlateau-step-vector",
        lambda: optim.ReduceLROnPlateau(_sgd()).step(np.ones(2)),
        TypeError,
        r"ReduceLROnPlateau.step: the metric must be a real number \(or a one-element array or Tensor\)",
    ),
    (
        "ReduceLROnPlateau-step-missing",
        lambda: optim.ReduceLROnPlateau(_sgd()).step(),
        TypeError,
        r"step\(\) missing 1 required positional argument: 'metrics'",
    ),
    (
        "ReduceLROnPlateau-load-best-nan",
        lambda: (lambda r: r.load_state_dict({**r.state_dict(), "best": NAN}))(
            optim.ReduceLROnPlateau(_sgd())
        ),
        ValueError,
        r"ReduceLROnPlateau.load_state_dict: best must be a number \(\+-inf allowed\), got nan",
    ),
    # ---- datasets ----
    (
        "DataLoader-misaligned",
        lambda: datasets.DataLoader((np.ones((10, 2)), np.ones(9)), 4),
        ValueError,
        r"DataLoader: arrays must share their first dimension.*\(10, 2\).*\(9,\)",
    ),
    (
        "DataLoader-batch-size",
        lambda: datasets.DataLoader((np.ones((10, 2)),), 0),
        ValueError,
        r"DataLoader: batch_size must be >= 1, got 0",
    ),
    (
        "DataLoader-no-arrays",
        lambda: datasets.DataLoader((), 4),
        ValueError,
        r"DataLoader: expected at least one array",
    ),
    (
        "random_crop-shape",
        lambda: datasets.random_crop(1)(np.ones((5, 36)), np.random.default_rng(0)),
        ValueError,
        r"random_crop: expected images \(n, \.\.\., H, W\), got shape \(5, 36\)",
    ),
    (
        "random_crop-padding",
        lambda: datasets.random_crop(-1),
        ValueError,
        r"random_crop: padding must be >= 0, got -1",
    ),
    (
        "train_val_split-size",
        lambda: datasets.train_val_split(np.ones((10, 2)), np.ones(10), val_size=10),
        ValueError,
        r"train_val_split: val_size=10 gives 10 validation examples out of 10",
    ),
    (
        "train_val_split-misaligned",
        lambda: datasets.train_val_split(np.ones((10, 2)), np.ones(9)),
        ValueError,
        r"train_val_split: x has 10 examples.*but y has 9",
    ),
    (
        "select_classes-labels",
        lambda: datasets.select_classes(np.ones((4, 2)), np.arange(4), (3, 1), new_labels=(1,)),
        ValueError,
        r"select_classes: classes \[3, 1\] must be distinct and match new_labels \[1\]",
    ),
    (
        "one_hot-range",
        lambda: datasets.one_hot(np.array([0, 5]), 4),
        ValueError,
        r"one_hot: labels range 0..5, expected 0..3",
    ),
    (
        "one_hot-shape",
        lambda: datasets.one_hot(np.zeros((2, 2), int)),
        ValueError,
        r"one_hot: expected a 1-d integer label array, got shape \(2, 2\)",
    ),
    (
        "subset-size",
        lambda: datasets.subset(np.ones((20, 2)), np.ones(20), 21),
        ValueError,
        r"subset: n=21 but there are only 20 examples",
    ),
    (
        "parity-mask",
        lambda: datasets.parity(10, 8, mask=[1, 2, 0, 0, 0, 0, 0, 0]),
        ValueError,
        r"parity: mask must be a 0/1 vector of shape \(8,\)",
    ),
    (
        "parity-enumerate-n",
        lambda: datasets.parity(10, 5, enumerate_all=True),
        ValueError,
        r"parity: .*n must be None \(got 10\)",
    ),
    ("xor-n", lambda: datasets.xor(0), ValueError, r"xor: n must be positive, got 0"),
    (
        "two_spirals-n",
        lambda: datasets.two_spirals(1),
        ValueError,
        r"two_spirals: n must be at least 2, got 1",
    ),
    (
        "blobs-centres",
        lambda: datasets.blobs(10, centers=0),
        ValueError,
        r"blobs: need at least one centre, got 0",
    ),
    (
        "load-unknown-dataset",
        lambda: datasets.load("svhn"),
        ValueError,
        r"load: unknown dataset 'svhn'",
    ),
    (
        "load-bad-split",
        lambda: datasets.mnist(split="val"),
        ValueError,
        r"split must be one of \['test', 'train'\] or None, got 'val'",
    ),
    (
        "parse_idx-magic",
        lambda: parse_idx(_idx(np.zeros(3)), source="x.idx", magic=2051),
        datasets.FormatError,
        r"parsing IDX file x.idx: magic number 2049 .*expected 2051",
    ),
    (
        "parse_idx-too-short",
        lambda: parse_idx(b"\0\0", source="t.idx"),
        datasets.FormatError,
        r"parsing IDX file t.idx: 2 bytes, too short",
    ),
    (
        "parse_idx-truncated",
        lambda: parse_idx(_idx(np.zeros((2, 3)))[:-1], source="t.idx"),
        datasets.FormatError,
        r"parsing IDX file t.idx: truncated; header shape \(2, 3\)",
    ),
    (
        "parse_idx-trailing",
        lambda: parse_idx(_idx(np.zeros((2, 3))) + b"\0", source="t.idx"),
        datasets.FormatError,
        r"parsing IDX file t.idx: .*trailing",
    ),
    (
        "parse_cifar-size",
        lambda: parse_cifar_records(bytes(3074), source="b.bin"),
        datasets.FormatError,
        r"parsing CIFAR-10 binary file b.bin: 3074 bytes is not a positive multiple of the 3073-byte record",
    ),
    (
        "parse_cifar-label",
        lambda: parse_cifar_records(bytes([12]) + bytes(3072), source="b.bin"),
        datasets.FormatError,
        r"parsing CIFAR-10 binary file b.bin: label byte 12 in record 0",
    ),
    (
        "read_idx-truncated-gzip",
        lambda: _with_file("t.gz", gzip.compress(_idx(np.zeros((50, 28, 28))))[:-20], read_idx),
        datasets.FormatError,
        r"t\.gz: gzip data truncated or corrupt",
    ),
    (
        "read_npz-key",
        lambda: _with_file(
            "a.npz", lambda p: np.savez(p, np.zeros(2)), lambda p: read_npz_array(p, key="images")
        ),
        datasets.FormatError,
        r"reading .*a.npz: no array 'images' in the archive, it holds \['arr_0'\]",
    ),
    (
        "read_npz-single-npy",
        lambda: _with_file("s.npy", lambda p: np.save(p, np.zeros(3)), read_npz_array),
        datasets.FormatError,
        r"reading .*s.npy: expected a .npz archive, found a single .npy array",
    ),
    (
        "read_index_file-count",
        lambda: _with_file("i.txt", b"0\n5\n", lambda p: read_index_file(p, 3, 10)),
        datasets.FormatError,
        r"reading index file .*i.txt: 2 entries, expected 3",
    ),
    (
        "read_index_file-range",
        lambda: _with_file("j.txt", b"0\n10\n", lambda p: read_index_file(p, 2, 10)),
        datasets.FormatError,
        r"reading index file .*j.txt: entries range 0..10, expected 0..9",
    ),
    (
        "read_index_file-text",
        lambda: _with_file("k.txt", b"0\nseven\n", lambda p: read_index_file(p, 2, 10)),
        datasets.FormatError,
        r"reading index file .*k.txt: expected one decimal integer per line",
    ),
    (
        "verify_file-no-checksum",
        lambda: _with_file("f", b"abc", lambda p: datasets.verify_file(p, datasets.FileSpec("f"))),
        datasets.ChecksumError,
        r"no checksum is known",
    ),
    (
        "parse_idx-huge-header",
        lambda: parse_idx(bytes([0, 0, 8, 4]) + struct.pack(">4I", *[65536] * 4), source="h.idx"),
        datasets.FormatError,
        r"parsing IDX file h.idx: truncated; header shape \(65536, 65536, 65536, 65536\) of uint8 needs 18446744073709551616 data bytes, found 0",
    ),
    (
        "read_cifar-size",
        lambda: _with_file("b.bin", bytes(3074), datasets.formats.read_cifar_records),
        datasets.FormatError,
        r"parsing CIFAR-10 binary file .*b.bin: 3074 bytes is not a positive multiple of the 3073-byte record",
    ),
    (
        "read_npz-shape",
        lambda: _with_file(
            "a.npz",
            lambda p: np.savez(p, np.zeros((3, 5), np.uint8)),
            lambda p: read_npz_array(p, shape=(None, 28, 28)),
        ),
        datasets.FormatError,
        r"reading .*a.npz \(array 'arr_0'\): shape \(3, 5\), expected \(n, 28, 28\)",
    ),
]


@pytest.mark.parametrize(
    "call, error, message", [pytest.param(*case[1:], id=case[0]) for case in CASES]
)
def test_bad_input_is_a_clear_error(call, error, message):
    with pytest.raises(error, match=message):
        call()
