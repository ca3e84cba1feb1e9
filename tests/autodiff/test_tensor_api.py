"""What a PyTorch or numpy user reaches for on tensors: constructors, methods with `dim`
aliases, formatting, and numpy functions applied to Tensors."""

import numpy as np
import pytest

import autodiff as ad
from autodiff.testing import check_grads


# --------------------------------------------------------------------- constructors
@pytest.mark.parametrize(
    "make, shape, value",
    [
        (lambda **k: ad.zeros(2, 3, **k), (2, 3), 0.0),
        (lambda **k: ad.zeros((2, 3), **k), (2, 3), 0.0),
        (lambda **k: ad.ones([4], **k), (4,), 1.0),
        (lambda **k: ad.full((2, 2), 1.5, **k), (2, 2), 1.5),
        (lambda **k: ad.zeros_like(np.ones((3, 1)), dtype=np.float32, **k), (3, 1), 0.0),
        (lambda **k: ad.ones_like(ad.zeros(2, 5), **k), (2, 5), 1.0),
        (lambda **k: ad.full_like(ad.zeros(3), 7.0, **k), (3,), 7.0),
    ],
)
def test_constructors_give_float32_by_default_and_can_require_grad(make, shape, value):
    t = make()
    assert t.shape == shape and t.dtype == np.float32 and not t.requires_grad
    np.testing.assert_array_equal(t.data, np.full(shape, value, np.float32))
    assert make(requires_grad=True).requires_grad


def test_empty_eye_arange_linspace():
    assert ad.empty(3, 2).shape == (3, 2) and ad.empty(3, 2).dtype == np.float32
    np.testing.assert_array_equal(ad.eye(2, 3).data, np.eye(2, 3))
    assert ad.eye(3, dtype=np.float64).dtype == np.float64
    assert ad.arange(5).dtype == np.int64 and ad.arange(5).tolist() == [0, 1, 2, 3, 4]
    np.testing.assert_array_equal(ad.arange(1, 2, 0.25).data, [1.0, 1.25, 1.5, 1.75])
    assert ad.arange(1, 2, 0.25).dtype == np.float32
    np.testing.assert_allclose(ad.linspace(0, 1, 5).data, [0, 0.25, 0.5, 0.75, 1])
    np.testing.assert_allclose(ad.linspace(0, 1, steps=3).data, [0, 0.5, 1])
    with pytest.raises(ValueError, match="arange: step must not be zero"):
        ad.arange(0, 1, 0)
    with pytest.raises(
        ValueError, match=r"zeros: the shape must be non-negative ints, got \(2, -1\)"
    ):
        ad.zeros(2, -1)
    with pytest.raises(TypeError, match="only real floating-point tensors"):
        ad.arange(3, requires_grad=True)


def test_random_constructors_use_their_rng_and_never_numpy_global_state():
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    a = ad.rand(3, 4, rng=7)
    b = ad.rand(3, 4, rng=np.random.default_rng(7))
    np.testing.assert_array_equal(a.data, b.data)
    assert a.dtype == np.float32 and a.shape == (3, 4)
    assert np.all((a.data >= 0) & (a.data < 1))
    n = ad.randn(2000, rng=1, dtype=np.float64)
    assert n.dtype == np.float64 and abs(float(n.data.mean())) < 0.1
    assert abs(float(n.data.std()) - 1) < 0.1
    assert not np.array_equal(ad.randn(5, rng=1).data, ad.randn(5, rng=2).data)
    np.testing.assert_array_equal(np.random.get_state()[1], before)
    with pytest.raises(
        TypeError, match="randn: rng must be a numpy Generator, an int seed or None"
    ):
        ad.randn(2, rng="seed")


# -------------------------------------------------------------------------- methods
def test_dim_and_keepdim_are_aliases_of_axis_and_keepdims():
    x = ad.tensor(np.arange(6.0).reshape(2, 3))
    for name in ("sum", "mean", "max", "min", "var", "std"):
        torch_style = getattr(x, name)(dim=1, keepdim=True)
        numpy_style = getattr(x, name)(axis=1, keepdims=True)
        np.testing.assert_array_equal(torch_style.data, numpy_style.data)
        assert torch_style.shape == (2, 1)
    np.testing.assert_array_equal(x.cumsum(dim=0).data, np.cumsum(x.data, axis=0))
    np.testing.assert_allclose(x.softmax(dim=0).data.sum(axis=0), [1, 1, 1])
    np.testing.assert_allclose(np.exp(x.log_softmax(dim=1).data).sum(axis=1), [1, 1])
    assert ad.zeros(2, 1).squeeze(dim=1).shape == (2,)


def test_argmax_argmin_are_index_tensors():
    x = ad.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]], requires_grad=True)
    assert x.argmax().item() == 3
    assert x.argmax(dim=1).tolist() == [1, 0]
    assert x.argmin(axis=0).tolist() == [0, 1, 0]
    assert x.argmax(axis=1, keepdims=True).shape == (2, 1)
    assert x.argmax(dim=1).dtype == np.int64 and not x.argmax(dim=1).requires_grad


def test_clone_is_a_differentiable_copy_in_new_memory():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    c = x.clone()
    assert c.op == "copy" and not np.shares_memory(c.data, x.data)
    (c * c).sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])
    check_grads(lambda v: ad.copy(v) * v, (np.array([0.5, -1.0]),), order=2)


def test_view_to_float_double_astype():
    x = ad.tensor(np.arange(6.0), requires_grad=True)
    assert x.view(2, 3).shape == (2, 3) and x.view((3, 2)).shape == (3, 2)
    assert x.to(np.float32).dtype == np.float32 and x.float().dtype == np.float32
    assert x.float().double().dtype == np.float64
    assert x.to("cpu") is x
    with pytest.raises(ValueError, match="to: unknown device 'cuda'.*CPU only"):
        x.to("cuda")
    (x.float() * 2).sum().backward()  # the cast is on the tape, the gradient comes back
    assert x.grad.dtype == np.float64
    np.testing.assert_array_equal(x.grad, np.full(6, 2.0))


def test_format_len_iter_bool_tolist():
    loss = ad.tensor(0.123456, requires_grad=True) * 2
    assert f"{loss:.4f}" == "0.2469"
    assert f"{ad.tensor([3.0]):.1f}" == "3.0"
    assert f"{ad.tensor([1.0, 2.0])}" == str(ad.tensor([1.0, 2.0]))
    with pytest.raises(
        TypeError,
        match=r"format: the format spec '\.2f' needs a one-element "
        r"tensor, this one has shape \(2,\)",
    ):
        f"{ad.tensor([1.0, 2.0]):.2f}"
    x = ad.tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    assert len(x) == 3
    rows = list(x)
    assert [r.shape for r in rows] == [(2,)] * 3
    sum(r.sum() * (i + 1) for i, r in enumerate(rows)).backward()  # iteration is on the tape
    np.testing.assert_array_equal(x.grad, [[1, 1], [2, 2], [3, 3]])
    assert bool(ad.tensor([2.0])) and not bool(ad.tensor(0.0))
    with pytest.raises(ValueError, match="ambiguous"):
        bool(ad.tensor([1.0, 2.0]))
    assert x.tolist() == [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]


# ------------------------------------------------------------------ numpy functions
def test_numpy_ufuncs_and_functions_dispatch_to_the_engine():
    x = ad.tensor([0.5, 1.0, 2.0], requires_grad=True)
    a = np.array([1.0, 2.0, 3.0])
    y = np.sum(np.exp(x) * a) + np.mean(np.tanh(x), axis=0) + np.max(a @ np.outer(x, x))
    assert isinstance(y, ad.Tensor) and y.op == "add"
    y.backward()
    expected = ad.grad(
        lambda v: ad.sum(ad.exp(v) * a) + ad.mean(ad.tanh(v)) + ad.max(a @ ad.outer(v, v))
    )(x.data)
    np.testing.assert_allclose(x.grad, expected)
    z = np.concatenate([x, a])  # a list holding a Tensor
    assert z.op == "concatenate" and z.shape == (6,)
    assert (a - x).op == "subtract" and (a / x).op == "divide"


def test_other_numpy_functions_give_values_or_refuse_to_drop_a_derivative():
    x = ad.tensor([2.0, 1.0, 3.0], requires_grad=True)
    assert np.shape(x) == (3,)
    np.testing.assert_array_equal(np.argsort(x), [1, 0, 2])
    np.testing.assert_array_equal(np.isfinite(x), [True, True, True])
    with pytest.raises(
        TypeError,
        match=r"np\.sort: applied to a Tensor that requires grad it "
        r"would silently drop the derivative",
    ):
        np.sort(x)
    with pytest.raises(TypeError, match=r"np\.arctan: .* drop the derivative"):
        np.arctan(x)
    with pytest.raises(TypeError, match=r"np\.exp: .* use ad\.exp"):
        np.exp(x, out=np.empty(3))
    with pytest.raises(
        TypeError,
        match=r"np\.sum on a Tensor runs ad\.sum.*unexpected keyword "
        r"argument 'dtype'",
    ):
        np.sum(x, dtype=np.float32)
    np.testing.assert_array_equal(np.sort(x.detach()), [1.0, 2.0, 3.0])  # values: allowed
    with ad.no_grad():
        np.testing.assert_array_equal(np.sort(x), [1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="drop the derivative"):
        ad.jvp(lambda v: ad.tensor(np.sort(v)), (np.ones(2),), (np.ones(2),))


def test_module_zero_grad_to_none_or_to_new_zeros():
    import nn

    model = nn.Linear(3, 2, rng=np.random.default_rng(0))
    model(np.ones((1, 3), np.float32)).sum().backward()
    shared = model.weight.grad
    model.zero_grad(set_to_none=False)
    assert model.weight.grad is not shared and model.weight.grad.dtype == np.float32
    np.testing.assert_array_equal(model.weight.grad, np.zeros((2, 3)))
    assert np.any(shared != 0)  # the old array was not written to
    model.zero_grad()
    assert model.weight.grad is None and model.bias.grad is None
    with pytest.raises(TypeError, match="zero_grad: set_to_none must be True or False"):
        model.zero_grad(set_to_none=0)
