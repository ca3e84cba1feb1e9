"""Derivative rules are checked where the engine uses them: a wrong shape, a missing rule or
a result that is not an array raises an error naming the primitive and the operand;
rules that return Tensors, Python scalars or lists work under every transform."""

import numpy as np
import pytest

import autodiff as ad
from autodiff.testing import check_grads

X = np.array([0.5, -1.0, 2.0])


def scale(vjp_rule, jvp_rule=None, name="scale"):
    """y = 3 x with the given rules."""
    prim = ad.Primitive(lambda x: 3.0 * x, name)
    prim.defvjp(vjp_rule)
    prim.defjvp(jvp_rule or (lambda t, ans, x: 3.0 * t))
    return prim


def every_transform(prim, x=X):
    """First and second derivatives of sum(prim(x) ** 2) = 9 sum(x^2) by every transform."""
    f = lambda w: ad.sum(prim(w) ** 2)  # noqa: E731
    xt = ad.tensor(x, requires_grad=True)
    f(xt).backward()
    results = {
        "backward": xt.grad,
        "grad": ad.grad(f)(x),
        "jvp": ad.jvp(prim, (x,), (np.ones_like(x),))[1],
        "hessian": ad.hessian(f)(x),
    }
    check_grads(prim, (x,), order=2)
    return results


@pytest.mark.parametrize(
    "kind, rule",
    [
        ("array", lambda g, ans, x: 3.0 * g),
        ("Tensor", lambda g, ans, x: ad.multiply(ad.tensor(3.0), g)),
        ("numpy scalar on a 0-d operand", None),
    ],
)
def test_rules_returning_arrays_or_tensors_work_under_every_transform(kind, rule):
    if rule is None:
        prim = scale(lambda g, ans, x: 3.0 * g)
        results = every_transform(prim, np.array(1.5))
        np.testing.assert_allclose(results["grad"], 18 * 1.5)
        return
    results = every_transform(scale(rule))
    np.testing.assert_allclose(results["backward"], 18 * X)
    np.testing.assert_allclose(results["grad"], 18 * X)
    np.testing.assert_allclose(results["jvp"], 3 * np.ones(3))
    np.testing.assert_allclose(results["hessian"], 18 * np.eye(3))


def test_rules_returning_python_scalars_and_lists_work_where_the_shape_fits():
    # A constant rule (the derivative does not depend on x or g's values): plain floats
    # and lists are constants under every transform.
    ones = ad.Primitive(lambda x: np.sum(x), "total")
    ones.defvjp(lambda g, ans, x: g * np.ones(np.shape(x)))
    ones.defjvp(lambda t, ans, x: ad.sum(t))
    offset = ad.Primitive(lambda x: x[0] + 2 * x[1], "offset")
    offset.defvjp(lambda g, ans, x: [float(g), 2 * float(g)])  # a list of Python floats
    offset.defjvp(lambda t, ans, x: t[0] + 2 * t[1])
    x = np.array([3.0, 4.0])
    xt = ad.tensor(x, requires_grad=True)
    offset(xt).backward()
    np.testing.assert_array_equal(xt.grad, [1.0, 2.0])
    np.testing.assert_array_equal(ad.grad(offset)(x), [1.0, 2.0])
    np.testing.assert_array_equal(ad.hessian(offset)(x), np.zeros((2, 2)))
    check_grads(offset, (x,), order=2)
    half = ad.Primitive(lambda x: 0.5 * x, "half")
    half.defvjp(lambda g, ans, x: 0.5 * g)
    half.defjvp(lambda t, ans, x: 0.5)  # a Python float for a 0-d operand
    np.testing.assert_allclose(ad.jvp(half, (np.array(2.0),), (np.array(1.0),))[1], 0.5)


@pytest.mark.parametrize(
    "bad, shape",
    [
        (lambda g, ans, x: np.ones((3, 3)), r"\(3, 3\)"),  # would be silently summed before
        (lambda g, ans, x: np.ones(7), r"\(7,\)"),  # failed inside broadcast_to before
        (lambda g, ans, x: 2.0, r"\(\)"),  # a Python float for a (3,) operand
        (lambda g, ans, x: [1.0, 2.0], r"\(2,\)"),  # a list of the wrong length
    ],
)
def test_a_cotangent_of_a_wrong_shape_names_the_primitive_and_both_shapes(bad, shape):
    prim = scale(bad, name="badscale")
    message = (
        rf"badscale: the VJP rule for argument 0 returned a cotangent of shape {shape}, "
        rf"which does not sum back to the argument's shape \(3,\)"
    )
    xt = ad.tensor(X, requires_grad=True)
    with pytest.raises(ValueError, match=message):
        ad.sum(prim(xt)).backward()
    with pytest.raises(ValueError, match=message):
        ad.grad(lambda w: ad.sum(prim(w)))(X)
    with pytest.raises(ValueError, match=message):
        ad.hessian(lambda w: ad.sum(prim(w) ** 2))(X)


def test_a_tangent_of_a_wrong_shape_names_the_primitive():
    prim = scale(lambda g, ans, x: 3.0 * g, lambda t, ans, x: np.ones(7), name="badtangent")
    message = (
        r"badtangent: the JVP rule for argument 0 returned a tangent of shape \(7,\), "
        r"which does not broadcast to the output's shape \(3,\)"
    )
    with pytest.raises(ValueError, match=message):
        ad.jvp(prim, (X,), (np.ones(3),))
    with pytest.raises(ValueError, match=message):
        ad.linearize(prim, X)[1](np.ones(3))
    with pytest.raises(ValueError, match=message):
        ad.jacobian(prim, mode="fwd")(X)


def test_a_rule_returning_something_else_is_a_clear_error():
    prim = scale(lambda g, ans, x: "oops", name="strange")
    with pytest.raises(TypeError, match="strange: the VJP rule for argument 0 returned str"):
        ad.grad(lambda w: ad.sum(prim(w)))(X)


@pytest.mark.parametrize(
    "define",
    [
        lambda p: p.defvjp(lambda g, ans, x, y: g * y),  # one rule for two operands
        lambda p: p.defjvp(lambda t, ans, x, y: t * y),
    ],
)
def test_fewer_rules_than_operands_is_a_clear_error(define):
    prim = ad.Primitive(lambda x, y: x * y, "times")
    prim.defvjp(lambda g, ans, x, y: g * y, lambda g, ans, x, y: g * x)
    prim.defjvp(lambda t, ans, x, y: t * y, lambda t, ans, x, y: t * x)
    define(prim)
    x, y = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    with pytest.raises(
        NotImplementedError, match="times: no (VJP|JVP) rule is defined for argument 1"
    ):
        if prim.vjps.__len__() == 1:
            ad.grad(lambda a, b: ad.sum(prim(a, b)), argnums=1)(x, y)
        else:
            ad.jvp(prim, (x, y), (np.ones(2), np.ones(2)))
