"""Layers: output shapes and dtypes, gradients against finite differences through each
module (float64), Dropout's train/eval behaviour, containers, functional equivalence."""

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F


def numeric_grad(f, array, eps=1e-6):
    """Central differences of the scalar f() with respect to every element of `array`
    (perturbed in place)."""
    grad = np.zeros_like(array)
    for i in np.ndindex(array.shape):
        old = array[i]
        array[i] = old + eps
        plus = f()
        array[i] = old - eps
        minus = f()
        array[i] = old
        grad[i] = (plus - minus) / (2 * eps)
    return grad


def check_module_grads(module, x, rtol=1e-5, atol=1e-7, seed=0):
    """Backward through `module` (float64) against finite differences for the input and for
    every parameter, using the scalar <module(x), v> with a random v."""
    module.to(np.float64)
    x = np.array(x, dtype=np.float64)
    v = np.random.default_rng(seed).standard_normal(module(x).shape)

    def loss():
        return float(np.sum(module(x).data * v))

    xt = ad.tensor(x, requires_grad=True)
    module.zero_grad()
    (module(xt) * v).sum().backward()
    np.testing.assert_allclose(xt.grad, numeric_grad(loss, x), rtol=rtol, atol=atol)
    for name, p in module.named_parameters():
        p.data = p.data.copy()  # writeable for the in-place perturbation
        np.testing.assert_allclose(
            p.grad, numeric_grad(loss, p.data), rtol=rtol, atol=atol, err_msg=name
        )


rng = np.random.default_rng(42)


# ---------------------------------------------------------------------- shapes
@pytest.mark.parametrize(
    "layer, in_shape, out_shape",
    [
        (nn.Linear(5, 3), (4, 5), (4, 3)),
        (nn.Linear(5, 3), (2, 4, 5), (2, 4, 3)),
        (nn.Conv2d(3, 6, 3, padding="same"), (2, 3, 8, 7), (2, 6, 8, 7)),
        (nn.Conv2d(3, 6, 3), (2, 3, 8, 7), (2, 6, 6, 5)),
        (nn.Conv2d(3, 6, (3, 2), stride=2, padding=1), (2, 3, 8, 7), (2, 6, 4, 4)),
        (nn.MaxPool2d(2), (2, 3, 9, 8), (2, 3, 4, 4)),
        (nn.MaxPool2d(3, stride=1, padding=1), (2, 3, 5, 5), (2, 3, 5, 5)),
        (nn.AvgPool2d(2), (2, 3, 9, 8), (2, 3, 4, 4)),
        (nn.Flatten(), (2, 3, 4, 5), (2, 60)),
        (nn.Flatten(2), (2, 3, 4, 5), (2, 3, 20)),
        (nn.Dropout(0.3), (4, 6), (4, 6)),
        (nn.ReLU(), (4, 6), (4, 6)),
        (nn.Quadratic(), (4, 6), (4, 6)),
    ],
)
def test_output_shapes_and_float32(layer, in_shape, out_shape):
    out = layer(rng.standard_normal(in_shape).astype(np.float32))
    assert out.shape == out_shape
    assert out.dtype == np.float32


def test_layers_default_to_float32_and_take_a_dtype():
    assert nn.Linear(2, 3).weight.dtype == np.float32
    assert nn.Conv2d(1, 2, 3, dtype=np.float64).weight.dtype == np.float64


def test_plain_array_input_is_converted_but_a_tensor_of_another_dtype_is_an_error():
    layer = nn.Linear(2, 3)
    assert layer(np.ones((1, 2))).dtype == np.float32  # float64 data, float32 layer
    assert layer([[1, 2]]).dtype == np.float32
    with pytest.raises(
        TypeError, match="linear: input dtype float64 does not match weight dtype float32"
    ):
        layer(ad.tensor(np.ones((1, 2))))


def test_bad_shapes_are_clear_errors():
    with pytest.raises(
        ValueError,
        match="linear: input of shape \\(4, 3\\) does not match weight of shape \\(2, 5\\)",
    ):
        nn.Linear(5, 2)(np.ones((4, 3)))
    with pytest.raises(ValueError, match="conv2d: input has 4 channels"):
        nn.Conv2d(3, 2, 3)(np.ones((1, 4, 5, 5)))
    with pytest.raises(ValueError, match="padding='same' needs odd kernel"):
        nn.Conv2d(3, 2, 2, padding="same")
    with pytest.raises(ValueError, match="padding='same' requires stride 1"):
        nn.Conv2d(3, 2, 3, stride=2, padding="same")


# ---------------------------------------------------------- gradient checks
@pytest.mark.parametrize(
    "make, in_shape",
    [
        (lambda: nn.Linear(4, 3, rng=0), (5, 4)),
        (lambda: nn.Linear(4, 3, bias=False, rng=0), (2, 3, 4)),
        (lambda: nn.Conv2d(2, 3, 3, padding="same", rng=0), (2, 2, 5, 4)),
        (lambda: nn.Conv2d(2, 3, (3, 2), stride=(2, 1), padding=1, rng=0), (2, 2, 6, 5)),
        (lambda: nn.Conv2d(2, 2, 2, dilation=2, bias=False, rng=0), (1, 2, 6, 6)),
        (lambda: nn.MaxPool2d(2), (2, 2, 5, 6)),
        (lambda: nn.MaxPool2d(3, stride=2, padding=1), (1, 2, 5, 5)),
        (lambda: nn.AvgPool2d(2), (2, 2, 5, 6)),
        (lambda: nn.AvgPool2d((2, 3), stride=1), (1, 2, 4, 5)),
        (lambda: nn.Flatten(), (2, 2, 3, 2)),
        (lambda: nn.ReLU(), (3, 5)),
        (lambda: nn.Tanh(), (3, 5)),
        (lambda: nn.Sigmoid(), (3, 5)),
        (lambda: nn.Identity(), (3, 5)),
        (lambda: nn.LeakyReLU(0.2), (3, 5)),
        (lambda: nn.Softplus(), (3, 5)),
        (lambda: nn.Softplus(beta=2.0), (3, 5)),
        (lambda: nn.Quadratic(), (3, 5)),
        (
            lambda: nn.Sequential(
                nn.Conv2d(1, 2, 3, padding=1, rng=0),
                nn.ReLU(),
                nn.MaxPool2d(2),
                nn.Flatten(),
                nn.Linear(8, 3, rng=1),
                nn.Tanh(),
            ),
            (2, 1, 4, 4),
        ),
    ],
)
def test_gradients_match_finite_differences(make, in_shape):
    x = np.random.default_rng(1).standard_normal(in_shape)
    x += np.sign(x) * 0.05  # keep ReLU-type kinks away from the finite-difference steps
    check_module_grads(make(), x)


def test_float32_gradients_stay_float32():
    model = nn.Sequential(nn.Conv2d(1, 2, 3, rng=0), nn.ReLU(), nn.Flatten(), nn.Linear(4, 2))
    F.cross_entropy(model(np.ones((3, 1, 4, 3), np.float32)), np.array([0, 1, 1])).backward()
    assert {p.grad.dtype for p in model.parameters()} == {np.dtype(np.float32)}


# ------------------------------------------------------------------ dropout
def test_dropout_is_identity_in_eval_mode():
    layer = nn.Dropout(0.5, rng=0).eval()
    x = ad.tensor(np.ones((4, 4), np.float32), requires_grad=True)
    out = layer(x)
    assert out is x


def test_dropout_training_zeroes_about_p_and_scales_survivors():
    x = np.ones((200, 100), np.float32)
    out = nn.Dropout(0.3, rng=0)(x)
    values = np.unique(out)
    np.testing.assert_allclose(values, [0.0, 1 / 0.7], rtol=1e-6)
    assert abs(np.mean(out == 0) - 0.3) < 0.02
    assert abs(float(np.mean(out)) - 1.0) < 0.03  # inverted dropout keeps the mean
    assert out.dtype == np.float32


def test_dropout_is_seeded_and_draws_new_masks_each_call():
    x = np.ones((10, 10), np.float32)
    a, b = nn.Dropout(0.5, rng=3), nn.Dropout(0.5, rng=3)
    first = a(x)
    np.testing.assert_array_equal(first, b(x))
    assert not np.array_equal(first, a(x))
    nn.manual_seed(11)
    c = F.dropout(x, 0.5)
    nn.manual_seed(11)
    np.testing.assert_array_equal(c, F.dropout(x, 0.5))


def test_dropout_gradient_is_the_mask():
    x = ad.tensor(np.ones((6, 7)), requires_grad=True)
    out = F.dropout(x, 0.4, rng=np.random.default_rng(0))
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, out.data)


def test_dropout_extremes_and_bad_p():
    x = np.ones((3, 3), np.float32)
    np.testing.assert_array_equal(nn.Dropout(0.0)(x), x)
    np.testing.assert_array_equal(nn.Dropout(1.0)(x), np.zeros_like(x))
    with pytest.raises(ValueError, match="probability"):
        nn.Dropout(1.5)


# ---------------------------------------------------------------- containers
def test_sequential_indexing_and_functional_equivalence():
    model = nn.Sequential(nn.Linear(3, 4, rng=0), nn.ReLU(), nn.Linear(4, 2, rng=1))
    assert len(model) == 3 and isinstance(model[1], nn.ReLU)
    assert isinstance(model[:2], nn.Sequential) and len(model[:2]) == 2
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    by_hand = F.linear(
        F.relu(F.linear(x, model[0].weight, model[0].bias)), model[2].weight, model[2].bias
    )
    np.testing.assert_allclose(model(x).data, by_hand.data)
    model.append(nn.Sigmoid())
    assert model(x).shape == (5, 2) and float(model(x).data.max()) < 1
    with pytest.raises(TypeError, match="not an nn.Module"):
        nn.Sequential(nn.ReLU(), "relu")


def test_module_list_registers_children():
    layers = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 1)])
    assert len(layers) == 2 and [n for n, _ in layers.named_parameters()][0] == "0.weight"


def test_activations_match_their_formulas():
    x = np.linspace(-3, 3, 13)
    np.testing.assert_allclose(nn.ReLU()(x), np.maximum(x, 0))
    np.testing.assert_allclose(nn.LeakyReLU(0.1)(x), np.where(x > 0, x, 0.1 * x))
    np.testing.assert_allclose(nn.Softplus(beta=2)(x), np.log1p(np.exp(2 * x)) / 2)
    np.testing.assert_allclose(nn.Quadratic()(x), x**2)
    np.testing.assert_allclose(nn.Sigmoid()(x), 1 / (1 + np.exp(-x)))
    np.testing.assert_allclose(nn.Identity()(x), x)


# ------------------------------------------------------------------ init
def test_default_init_is_pytorch_uniform_and_seeded():
    layer = nn.Linear(50, 40, rng=0)
    bound = 1 / np.sqrt(50)
    assert np.abs(layer.weight.data).max() <= bound and np.abs(layer.bias.data).max() <= bound
    assert np.abs(layer.weight.data).max() > 0.9 * bound
    np.testing.assert_array_equal(layer.weight.data, nn.Linear(50, 40, rng=0).weight.data)
    conv = nn.Conv2d(4, 8, 3, rng=0)
    assert np.abs(conv.weight.data).max() <= 1 / np.sqrt(4 * 9)
    same64 = nn.Linear(50, 40, rng=0, dtype=np.float64)
    np.testing.assert_allclose(same64.weight.data, layer.weight.data, rtol=1e-6)
