"""LayerNorm, Embedding, GELU, SiLU, Softmax/LogSoftmax, Dropout2d, the Module methods
apply / named_modules / requires_grad_ / to, and nn.utils.parameters_to_vector /
vector_to_parameters: values against hand-written numpy references or closed forms
(float64 to 1e-10, float32 to 1e-5), derivatives to second order against finite
differences (check_grads)."""

import math

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F
from autodiff.testing import check_grads

rng = np.random.default_rng(25)


def _np_log_softmax(z, axis):
    z = z - z.max(axis=axis, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))


# -------------------------------------------------------------------- LayerNorm
def _np_layer_norm(x, k, weight=None, bias=None, eps=1e-5):
    """Reference: loop over the samples (every index of the leading axes) and normalise
    each block of the trailing k axes with its own mean and biased variance."""
    lead = x.shape[: x.ndim - k]
    out = np.empty_like(x)
    for i in np.ndindex(lead):
        block = x[i]
        mu = block.sum() / block.size
        var = ((block - mu) ** 2).sum() / block.size
        out[i] = (block - mu) / math.sqrt(var + eps)
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


@pytest.mark.parametrize(
    "shape, normalized_shape", [((4, 5), 5), ((2, 3, 4), (4,)), ((2, 3, 4), (3, 4)), ((6,), 6)]
)
def test_layer_norm_matches_reference_float64(shape, normalized_shape):
    k = 1 if isinstance(normalized_shape, int) else len(normalized_shape)
    layer = nn.LayerNorm(normalized_shape, eps=1e-3).to(np.float64)
    layer.weight.data = rng.standard_normal(layer.normalized_shape)
    layer.bias.data = rng.standard_normal(layer.normalized_shape)
    x = rng.standard_normal(shape) * 3 + 1
    out = layer(x)
    assert out.shape == shape and out.dtype == np.float64
    np.testing.assert_allclose(
        out.data,
        _np_layer_norm(x, k, layer.weight.data, layer.bias.data, 1e-3),
        rtol=1e-10,
        atol=1e-12,
    )


def test_layer_norm_float32_stays_float32_and_normalises_each_sample():
    layer = nn.LayerNorm(8)
    assert layer.weight.dtype == np.float32 and layer.bias.dtype == np.float32
    x = (rng.standard_normal((5, 8)) * [[1], [10], [0.1], [3], [100]] + 4).astype(np.float32)
    out = layer(ad.tensor(x)).data
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, _np_layer_norm(x.astype(np.float64), 1), rtol=1e-5, atol=1e-5)
    # closed form: each row has mean 0 and (biased) variance var / (var + eps)
    var = x.astype(np.float64).var(axis=1)
    np.testing.assert_allclose(out.mean(axis=1), 0, atol=1e-5)
    np.testing.assert_allclose(out.var(axis=1), var / (var + 1e-5), rtol=1e-5)


def test_layer_norm_without_affine_or_bias_and_same_in_eval_mode():
    plain = nn.LayerNorm((2, 3), elementwise_affine=False)
    assert list(plain.parameters()) == [] and plain.weight is None and plain.bias is None
    no_bias = nn.LayerNorm(3, bias=False)
    assert [n for n, _ in no_bias.named_parameters()] == ["weight"]
    x = rng.standard_normal((4, 2, 3))
    np.testing.assert_allclose(plain(x).data, _np_layer_norm(x, 2), rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(plain.eval()(x).data, plain.train()(x).data)


def test_layer_norm_backward_reaches_weight_and_bias():
    layer = nn.LayerNorm(4).to(np.float64)
    x = rng.standard_normal((3, 4))
    g = rng.standard_normal((3, 4))
    (layer(x) * g).sum().backward()
    np.testing.assert_allclose(layer.bias.grad, g.sum(axis=0), rtol=1e-12)
    np.testing.assert_allclose(
        layer.weight.grad, (_np_layer_norm(x, 1) * g).sum(axis=0), rtol=1e-10
    )


@pytest.mark.parametrize("normalized_shape", [(3,), (2, 3)])
def test_layer_norm_derivatives_to_second_order(normalized_shape):
    x = rng.standard_normal((2, 2, 3))
    w = rng.standard_normal(normalized_shape)
    b = rng.standard_normal(normalized_shape)
    check_grads(
        lambda x, w, b: F.layer_norm(x, normalized_shape, w, b, eps=1e-2), [x, w, b], order=2
    )


# -------------------------------------------------------------------- Embedding
def test_embedding_looks_up_rows_for_indices_of_any_shape():
    layer = nn.Embedding(7, 3, rng=0)
    w = layer.weight.data
    for idx in (
        np.array(4),
        np.array([6, 0, 0]),
        np.array([[1, 2], [3, 1]]),
        np.arange(7).reshape(1, 7, 1),
    ):
        out = layer(idx)
        assert out.shape == idx.shape + (3,) and out.dtype == np.float32
        expected = np.array([w[i] for i in idx.ravel()]).reshape(idx.shape + (3,))
        np.testing.assert_array_equal(out.data, expected)


def test_embedding_default_init_is_standard_normal_with_zero_padding_row():
    layer = nn.Embedding(4000, 5, padding_idx=-1, rng=1)
    assert layer.padding_idx == 3999
    np.testing.assert_array_equal(layer.weight.data[3999], 0)
    w = layer.weight.data[:3999].astype(np.float64)
    assert abs(w.mean()) < 0.02 and abs(w.std() - 1) < 0.02  # 20000 N(0, 1) draws


def test_embedding_gradient_accumulates_over_repeated_indices():
    layer = nn.Embedding(5, 2, rng=0).to(np.float64)
    idx = np.array([[1, 3, 1], [1, 0, 3]])
    g = rng.standard_normal((2, 3, 2))
    (layer(idx) * g).sum().backward()
    expected = np.zeros((5, 2))
    for pos in np.ndindex(idx.shape):  # the hand-written scatter-add
        expected[idx[pos]] += g[pos]
    np.testing.assert_allclose(layer.weight.grad, expected, rtol=1e-12)
    np.testing.assert_array_equal(layer.weight.grad[[2, 4]], 0)


def test_embedding_padding_row_is_returned_but_gets_no_gradient():
    layer = nn.Embedding.from_pretrained(np.arange(12.0).reshape(4, 3), freeze=False, padding_idx=2)
    assert layer.weight.dtype == np.float64 and layer.weight.requires_grad
    idx = np.array([2, 0, 2, 1])
    out = layer(idx)
    np.testing.assert_array_equal(out.data, np.arange(12.0).reshape(4, 3)[idx])
    out.sum().backward()
    np.testing.assert_array_equal(layer.weight.grad, [[1, 1, 1], [1, 1, 1], [0, 0, 0], [0, 0, 0]])
    frozen = nn.Embedding.from_pretrained(np.ones((3, 2)))
    assert not frozen.weight.requires_grad


def test_embedding_derivatives_to_second_order():
    w = rng.standard_normal((6, 3))
    idx = np.array([[0, 5, 5], [2, 0, 1]])
    check_grads(lambda w: F.embedding(idx, w) ** 2, [w], order=2)
    # the padding row gets no gradient by design, so hold it constant: row 5 = [1, 2, 3]
    check_grads(
        lambda w: (
            F.embedding(idx, ad.concatenate([w, np.array([[1.0, 2.0, 3.0]])]), padding_idx=5) ** 2
        ),
        [w[:5]],
        order=2,
    )


# ------------------------------------------------------------ GELU, SiLU, Softmax
# Phi(x), the standard normal CDF, from printed tables (Abramowitz & Stegun 26.2)
PHI = {
    -2.5: 0.0062096653257761,
    -0.5: 0.3085375387259869,
    0.0: 0.5,
    0.25: 0.5987063256829237,
    1.0: 0.8413447460685429,
    2.0: 0.9772498680518208,
    3.0: 0.9986501019683699,
}


def _phi(x):
    return np.exp(-x * x / 2) / math.sqrt(2 * math.pi)


def test_gelu_exact_matches_x_times_normal_cdf():
    x = np.array(list(PHI))
    expected = x * np.array(list(PHI.values()))
    np.testing.assert_allclose(nn.GELU()(ad.tensor(x)).data, expected, rtol=1e-10, atol=1e-15)
    out32 = F.gelu(ad.tensor(x.astype(np.float32)))
    assert out32.dtype == np.float32
    np.testing.assert_allclose(out32.data, expected, rtol=1e-5, atol=1e-7)


def test_gelu_exact_first_and_second_derivatives_in_closed_form():
    # d/dx x Phi(x) = Phi(x) + x phi(x);  d2/dx2 = phi(x) (2 - x^2)
    x = np.array(list(PHI))
    first = ad.grad(lambda v: ad.sum(F.gelu(v)))(x)
    np.testing.assert_allclose(
        first, np.array(list(PHI.values())) + x * _phi(x), rtol=1e-10, atol=1e-14
    )
    second = ad.grad(lambda v: ad.sum(ad.grad(lambda u: ad.sum(F.gelu(u)))(v)))(x)
    np.testing.assert_allclose(second, _phi(x) * (2 - x * x), rtol=1e-9, atol=1e-14)


def test_gelu_tanh_approximation():
    x = np.linspace(-5, 5, 41)
    c = math.sqrt(2 / math.pi)
    expected = 0.5 * x * (1 + np.tanh(c * (x + 0.044715 * x**3)))
    out = nn.GELU(approximate="tanh")(x)
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-15)
    assert abs(float(nn.GELU("tanh")(np.array(1.0))) - 0.8411919906082768) < 1e-12
    # the approximation stays within 5e-4 of the exact function (its known maximum error)
    gap = np.abs(out - F.gelu(x))
    assert gap.max() < 5e-4 and gap.max() > 1e-4


def test_silu_matches_reference_and_closed_form_derivative():
    x = np.linspace(-8, 8, 33)
    s = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(nn.SiLU()(x), x * s, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(
        ad.grad(lambda v: ad.sum(F.silu(v)))(x), s * (1 + x * (1 - s)), rtol=1e-10, atol=1e-15
    )
    assert F.silu(ad.tensor(x.astype(np.float32))).dtype == np.float32


@pytest.mark.parametrize("fn", [lambda x: F.gelu(x), lambda x: F.gelu(x, "tanh"), F.silu])
def test_activation_derivatives_to_second_order(fn):
    check_grads(fn, [rng.standard_normal((3, 4)) * 2], order=2)


@pytest.mark.parametrize("dim", [0, 1, -1, 2])
def test_softmax_and_log_softmax_modules_along_dim(dim):
    x = rng.standard_normal((3, 4, 5)) * 4
    e = np.exp(x - x.max(axis=dim, keepdims=True))
    np.testing.assert_allclose(nn.Softmax(dim)(x), e / e.sum(axis=dim, keepdims=True), rtol=1e-10)
    np.testing.assert_allclose(nn.LogSoftmax(dim=dim)(x), _np_log_softmax(x, dim), rtol=1e-10)
    np.testing.assert_allclose(F.softmax(x, dim=dim), F.softmax(x, axis=dim), rtol=0)
    check_grads(lambda v: nn.LogSoftmax(dim)(v), [x[:2, :2, :3]], order=2)
    check_grads(lambda v: nn.Softmax(dim)(v), [x[:2, :2, :3]], order=2)


def test_softmax_module_implicit_dim_only_where_unambiguous():
    x = rng.standard_normal((3, 4))
    np.testing.assert_allclose(nn.Softmax()(x), nn.Softmax(dim=1)(x), rtol=0)
    np.testing.assert_allclose(nn.LogSoftmax()(x[0]), _np_log_softmax(x[0], 0), rtol=1e-10)
    with pytest.raises(ValueError, match="Softmax: dim=None is ambiguous .* 3 dimensions"):
        nn.Softmax()(np.ones((2, 3, 4)))


# -------------------------------------------------------------------- Dropout2d
def test_dropout2d_zeroes_whole_channels_from_the_rng_and_scales_the_rest():
    x = rng.standard_normal((4, 6, 3, 5)) + 10  # no zeros of its own
    out = nn.Dropout2d(0.25, rng=7)(x)
    # the reference mask: the same generator's first (N, C) draw
    keep = np.random.default_rng(7).random((4, 6), dtype=np.float32) >= 0.25
    expected = x * keep[:, :, None, None] / 0.75
    np.testing.assert_allclose(out.data, expected, rtol=1e-12)
    assert 0 < keep.sum() < keep.size


def test_dropout2d_drop_rate_eval_mode_and_reproducibility():
    x = ad.tensor(np.ones((200, 20, 2, 2), np.float32))
    layer = nn.Dropout2d(0.3, rng=1)
    out = layer(x).data
    assert out.dtype == np.float32
    per_channel = out.reshape(200, 20, 4)
    assert np.all(per_channel.min(axis=2) == per_channel.max(axis=2))  # whole channels
    dropped = float(np.mean(per_channel[:, :, 0] == 0))
    assert abs(dropped - 0.3) < 0.05  # 4000 channels
    np.testing.assert_allclose(per_channel[per_channel > 0], 1 / 0.7, rtol=1e-6)
    assert layer.eval()(x) is x
    a = nn.Dropout2d(0.5, rng=3)(x).data
    np.testing.assert_array_equal(a, nn.Dropout2d(0.5, rng=3)(x).data)
    nn.manual_seed(11)
    b = nn.Dropout2d(0.5)(x).data
    nn.manual_seed(11)
    np.testing.assert_array_equal(b, nn.Dropout2d(0.5)(x).data)
    assert np.all(nn.Dropout2d(1.0)(x).data == 0) and nn.Dropout2d(0.0)(x) is x


def test_dropout2d_gradient_is_the_mask():
    x = ad.tensor(rng.standard_normal((2, 3, 2, 2)), requires_grad=True)
    out = F.dropout2d(x, 0.5, rng=4)
    out.sum().backward()
    keep = np.random.default_rng(4).random((2, 3), dtype=np.float32) >= 0.5
    np.testing.assert_allclose(x.grad, np.broadcast_to(keep[:, :, None, None] * 2.0, x.shape))
    check_grads(lambda v: F.dropout2d(v, 0.4, True, rng=3) ** 2, [x.data], order=2)


# --------------------------------------------------------------- Module methods
class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 3, rng=0)
        self.norm = nn.LayerNorm(3)

    def forward(self, x):
        return self.norm(self.fc(x))


def _model():
    return nn.Sequential(
        nn.Linear(4, 3, rng=0),
        nn.Sequential(Block(), nn.GELU()),
        nn.BatchNorm1d(3),
        nn.Linear(3, 2, rng=1),
    )


def test_named_modules_prefix_names_like_pytorch():
    model = _model()
    assert [n for n, _ in model.named_modules()] == [
        "",
        "0",
        "1",
        "1.0",
        "1.0.fc",
        "1.0.norm",
        "1.1",
        "2",
        "3",
    ]
    assert [n for n, _ in model.named_modules(prefix="net")][:3] == ["net", "net.0", "net.1"]
    assert dict(model.named_modules())["1.0.norm"] is model[1][0].norm
    shared = nn.Linear(2, 2)
    twice = nn.Sequential(shared, nn.ReLU(), shared)
    assert [n for n, _ in twice.named_modules()] == ["", "0", "1"]
    assert [n for n, _ in twice.named_modules(remove_duplicate=False)] == ["", "0", "1", "2"]
    memo = set()
    list(twice.named_modules(memo))
    assert memo == {twice, shared, twice[1]}


def test_apply_visits_children_first_then_self_and_returns_self():
    model = _model()
    visited = []
    assert model.apply(visited.append) is model
    names = {id(m): n for n, m in model.named_modules()}
    assert [names[id(m)] for m in visited] == [
        "0",
        "1.0.fc",
        "1.0.norm",
        "1.0",
        "1.1",
        "1",
        "2",
        "3",
        "",
    ]

    def init_linear(m):
        if isinstance(m, nn.Linear):
            nn.init.constant_(m.weight, 0.5)
            nn.init.zeros_(m.bias)

    model.apply(init_linear)
    for m in (model[0], model[1][0].fc, model[3]):
        assert np.all(m.weight.data == 0.5) and np.all(m.bias.data == 0)


def test_requires_grad_false_freezes_every_parameter():
    model = _model()
    assert model.requires_grad_(False) is model
    assert not any(p.requires_grad for p in model.parameters())
    x = ad.tensor(rng.standard_normal((5, 4)).astype(np.float32), requires_grad=True)
    model(x).sum().backward()
    assert x.grad is not None and np.any(x.grad != 0)
    assert all(p.grad is None for p in model.parameters())
    model[3].requires_grad_()
    model(x).sum().backward()
    assert [n for n, p in model.named_parameters() if p.grad is not None] == ["3.weight", "3.bias"]


def test_to_dtype_casts_parameters_gradients_and_float_buffers():
    model = _model()
    model(rng.standard_normal((5, 4)).astype(np.float32)).sum().backward()
    grads = {n: p.grad.copy() for n, p in model.named_parameters()}
    assert model.to(np.float64) is model
    assert {p.dtype for p in model.parameters()} == {np.dtype(np.float64)}
    for n, p in model.named_parameters():
        assert p.grad.dtype == np.float64
        np.testing.assert_array_equal(p.grad, grads[n])
    assert model[2].running_mean.dtype == np.float64
    assert model[2].num_batches_tracked.dtype == np.int64
    assert model(rng.standard_normal((2, 4))).dtype == np.float64
    model.to(dtype=np.float32)
    assert {p.dtype for p in model.parameters()} == {np.dtype(np.float32)}
    model.to(ad.tensor(np.zeros(1)))  # a tensor's dtype
    assert model[0].weight.dtype == np.float64
    model.to("cpu", np.float32)
    assert model[0].weight.dtype == np.float32


def test_to_cpu_is_a_no_op_and_other_devices_are_errors():
    model = _model()
    before = {n: p.data for n, p in model.named_parameters()}
    assert model.to("cpu") is model and model.to(device="cpu:0") is model
    assert all(p.data is before[n] for n, p in model.named_parameters())
    for device in ("cuda", "cuda:0", "mps"):
        with pytest.raises(
            ValueError, match=f"device '{device}' is not available.*no GPU backend yet"
        ):
            model.to(device)


# --------------------------------------------------------------------- nn.utils
def test_parameters_to_vector_and_back():
    model = _model().to(np.float64)
    params = list(model.parameters())
    vec = nn.utils.parameters_to_vector(model.parameters())
    assert isinstance(vec, ad.Tensor) and vec.shape == (sum(p.size for p in params),)
    np.testing.assert_array_equal(vec.data, np.concatenate([p.data.ravel() for p in params]))
    # gradients flow back through the vector to every parameter
    c = rng.standard_normal(vec.shape)
    (vec * c).sum().backward()
    start = 0
    for p in params:
        np.testing.assert_array_equal(p.grad, c[start : start + p.size].reshape(p.shape))
        start += p.size
    new = np.arange(vec.shape[0], dtype=np.float64)
    nn.utils.vector_to_parameters(new, model.parameters())
    np.testing.assert_array_equal(nn.utils.parameters_to_vector(params).data, new)
    np.testing.assert_array_equal(model[0].weight.data, np.arange(12.0).reshape(3, 4))
    model.to(np.float32)
    nn.utils.vector_to_parameters(ad.tensor(new * 0.5), model.parameters())
    assert model[0].weight.dtype == np.float32
    np.testing.assert_array_equal(model[0].bias.data, [6.0, 6.5, 7.0])
