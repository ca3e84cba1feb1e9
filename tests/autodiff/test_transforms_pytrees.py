"""jacobian / hessian over pytrees (JAX's nesting), jacfwd / jacrev, and stop_gradient."""

import numpy as np
import pytest

import autodiff as ad

D = {"a": np.array([1.0, 2.0]), "b": np.array([3.0, -1.0, 0.5])}


def f_dict(d):
    """(a * sum(b), sum(a) ** 2 * b[:1]): outputs of shapes (2,) and (1,)."""
    return d["a"] * ad.sum(d["b"]), ad.sum(d["a"]) ** 2 * d["b"][:1]


def expected_jacobian():
    a, b = D["a"], D["b"]
    return (
        {"a": np.eye(2) * b.sum(), "b": np.outer(a, np.ones(3))},
        {"a": np.full((1, 2), 2 * a.sum() * b[0]), "b": np.array([[a.sum() ** 2, 0.0, 0.0]])},
    )


@pytest.mark.parametrize(
    "jac", [ad.jacfwd, ad.jacrev, lambda f: ad.jacobian(f, mode="fwd"), ad.jacobian]
)
def test_jacobian_of_a_dict_has_the_output_structure_of_input_structures(jac):
    got = jac(f_dict)(D)
    want = expected_jacobian()
    assert isinstance(got, tuple) and len(got) == 2
    for g, w in zip(got, want, strict=False):
        assert set(g) == {"a", "b"}
        for key in ("a", "b"):
            assert g[key].shape == w[key].shape
            np.testing.assert_allclose(g[key], w[key])


def test_jacobian_with_tuple_argnums_gives_a_tuple_per_output():
    ja, jb = ad.jacrev(lambda a, b: a * b, argnums=(0, 1))(
        np.array([1.0, 2.0]), np.array([3.0, 4.0])
    )
    np.testing.assert_array_equal(ja, np.diag([3.0, 4.0]))
    np.testing.assert_array_equal(jb, np.diag([1.0, 2.0]))
    # a tuple argument is a pytree, not stacked into one array
    j = ad.jacfwd(lambda t: t[0] * 2 + t[1])((np.ones(2), np.ones(2)))
    assert isinstance(j, tuple) and [x.shape for x in j] == [(2, 2), (2, 2)]
    np.testing.assert_array_equal(j[0], 2 * np.eye(2))


def test_hessian_of_a_dict_argument_is_nested_like_jax():
    def f(d):
        return ad.sum(d["a"] ** 2) * ad.sum(d["b"]) + ad.sum(ad.sin(d["b"]))

    h = ad.hessian(f)(D)
    a, b = D["a"], D["b"]
    np.testing.assert_allclose(h["a"]["a"], 2 * b.sum() * np.eye(2))
    np.testing.assert_allclose(h["a"]["b"], np.outer(2 * a, np.ones(3)))
    np.testing.assert_allclose(h["b"]["a"], np.outer(np.ones(3), 2 * a))
    np.testing.assert_allclose(h["b"]["b"], np.diag(-np.sin(b)))


def test_single_array_jacobians_are_unchanged():
    x = np.array([0.3, -0.7, 1.1])
    for mode in ("fwd", "rev"):
        np.testing.assert_allclose(ad.jacobian(ad.tanh, mode=mode)(x), np.diag(1 - np.tanh(x) ** 2))
    np.testing.assert_allclose(ad.hessian(lambda v: ad.sum(v**3))(x), np.diag(6 * x))


def test_stop_gradient_blocks_every_mode_and_order():
    x = np.array([1.0, 2.0])
    f = lambda v: ad.sum(v * ad.stop_gradient(v) ** 2)  # noqa: E731  value sum(v^3)
    np.testing.assert_allclose(f(x), 9.0)
    np.testing.assert_allclose(ad.grad(f)(x), x**2)  # only the first factor
    np.testing.assert_allclose(ad.jvp(f, (x,), (np.ones(2),))[1], np.sum(x**2))
    np.testing.assert_allclose(ad.hessian(f)(x), np.zeros((2, 2)))
    t = ad.tensor(x, requires_grad=True)
    f(t).backward()
    np.testing.assert_allclose(t.grad, x**2)
    tree = ad.stop_gradient({"w": t, "n": 3})
    assert not tree["w"].requires_grad and tree["n"] == 3
