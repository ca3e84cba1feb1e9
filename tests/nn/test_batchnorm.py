"""BatchNorm1d/2d: outputs against a numpy reference in training and eval mode, running
statistics (momentum and cumulative average), train/eval switching, state round trips,
gradients of first and second order against finite differences (float64)."""

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F
from autodiff.testing import check_grads

rng = np.random.default_rng(7)


def reference(x, mean, var, weight, bias, eps=1e-5):
    """numpy batch norm over axis 1 with the given statistics (C,)."""
    shape = (1, -1) + (1,) * (x.ndim - 2)
    return (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps) * weight.reshape(
        shape
    ) + bias.reshape(shape)


def batch_axes(x):
    return (0,) + tuple(range(2, x.ndim))


@pytest.mark.parametrize(
    "layer_cls, shape",
    [(nn.BatchNorm2d, (5, 3, 4, 6)), (nn.BatchNorm1d, (8, 4)), (nn.BatchNorm1d, (3, 4, 7))],
)
def test_training_mode_matches_reference_and_updates_running_stats(layer_cls, shape):
    layer = layer_cls(shape[1], momentum=0.2).double()
    layer.weight.data = rng.standard_normal(shape[1])
    layer.bias.data = rng.standard_normal(shape[1])
    x = rng.standard_normal(shape) * 3 + 2
    out = layer(x)
    axes = batch_axes(x)
    mean, var = x.mean(axis=axes), x.var(axis=axes)
    np.testing.assert_allclose(
        out.data,
        reference(x, mean, var, layer.weight.data, layer.bias.data),
        rtol=1e-10,
        atol=1e-12,
    )
    n = x.size // shape[1]
    np.testing.assert_allclose(layer.running_mean, 0.8 * 0 + 0.2 * mean, rtol=1e-12)
    np.testing.assert_allclose(layer.running_var, 0.8 * 1 + 0.2 * var * n / (n - 1), rtol=1e-12)
    assert int(layer.num_batches_tracked) == 1


def test_normalised_output_has_zero_mean_unit_variance_per_channel():
    layer = nn.BatchNorm2d(4)
    x = rng.standard_normal((16, 4, 5, 5)) * np.array([1, 10, 0.1, 5])[None, :, None, None] + 7
    out = layer(x.astype(np.float32)).data
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(out.var(axis=(0, 2, 3)), 1, atol=2e-3)
    assert out.dtype == np.float32


def test_eval_mode_uses_running_statistics_and_freezes_them():
    layer = nn.BatchNorm2d(3).double()
    for _ in range(5):
        layer(rng.standard_normal((4, 3, 3, 3)) * 2 + 1)
    mean, var = layer.running_mean.copy(), layer.running_var.copy()
    layer.eval()
    x = rng.standard_normal((2, 3, 3, 3))
    out = layer(x)
    np.testing.assert_allclose(
        out.data, reference(x, mean, var, layer.weight.data, layer.bias.data), rtol=1e-12
    )
    np.testing.assert_array_equal(layer.running_mean, mean)
    np.testing.assert_array_equal(layer.running_var, var)
    assert int(layer.num_batches_tracked) == 5
    # a single example is fine in eval mode, an error in training mode
    assert layer(x[:1]).shape == (1, 3, 3, 3)
    layer.train()
    with pytest.raises(ValueError, match="more than one value"):
        nn.BatchNorm1d(3)(np.ones((1, 3)))


def test_running_stats_converge_to_population_statistics():
    layer = nn.BatchNorm1d(2, momentum=None).double()  # cumulative average
    batches = [rng.standard_normal((50, 2)) * [2, 0.5] + [3, -1] for _ in range(40)]
    for b in batches:
        layer(b)
    np.testing.assert_allclose(
        layer.running_mean, np.mean([b.mean(0) for b in batches], 0), rtol=1e-12
    )
    np.testing.assert_allclose(
        layer.running_var, np.mean([b.var(0, ddof=1) for b in batches], 0), rtol=1e-12
    )
    np.testing.assert_allclose(layer.running_mean, [3, -1], atol=0.1)
    np.testing.assert_allclose(layer.running_var, [4, 0.25], rtol=0.1)


def test_without_running_stats_or_affine():
    layer = nn.BatchNorm2d(3, affine=False, track_running_stats=False).double()
    assert layer.num_parameters() == 0 and layer.running_mean is None
    x = rng.standard_normal((4, 3, 2, 2))
    layer.eval()  # still batch statistics
    axes = batch_axes(x)
    np.testing.assert_allclose(
        layer(x).data, reference(x, x.mean(axes), x.var(axes), np.ones(3), np.zeros(3)), rtol=1e-12
    )


def test_parameters_and_state_dict_round_trip():
    src = nn.BatchNorm2d(3)
    assert [n for n, _ in src.named_parameters()] == ["weight", "bias"]
    assert src.num_parameters() == 6
    for _ in range(3):
        src(rng.standard_normal((4, 3, 2, 2)).astype(np.float32))
    src.weight.data = rng.standard_normal(3).astype(np.float32)
    state = src.state_dict()
    assert set(state) == {"weight", "bias", "running_mean", "running_var", "num_batches_tracked"}
    dst = nn.BatchNorm2d(3)
    dst.load_state_dict(state)
    src.eval(), dst.eval()
    x = rng.standard_normal((2, 3, 2, 2)).astype(np.float32)
    np.testing.assert_array_equal(dst(x).data, src(x).data)
    assert int(dst.num_batches_tracked) == 3
    state["running_mean"][:] = 99  # the state dict holds copies
    assert not np.any(src.running_mean == 99)
    with pytest.raises(ValueError, match="missing"):
        nn.BatchNorm2d(3).load_state_dict({"weight": np.ones(3), "bias": np.zeros(3)})
    with pytest.raises(ValueError, match="shape"):
        nn.BatchNorm2d(4).load_state_dict(state)


def test_to_double_casts_running_stats():
    layer = nn.BatchNorm1d(3).double()
    assert layer.running_mean.dtype == np.float64 and layer.weight.dtype == np.float64
    assert layer(rng.standard_normal((4, 3))).dtype == np.float64


def test_rejects_wrong_input_ranks_and_arguments():
    with pytest.raises(ValueError, match="4 dimensions"):
        nn.BatchNorm2d(3)(np.ones((2, 3)))
    with pytest.raises(ValueError, match="2 or 3"):
        nn.BatchNorm1d(3)(np.ones((2, 3, 1, 1)))
    with pytest.raises(ValueError, match="channels"):
        nn.BatchNorm2d(4)(np.ones((2, 3, 2, 2), np.float32))
    with pytest.raises(ValueError):
        nn.BatchNorm2d(0)
    with pytest.raises(ValueError):
        nn.BatchNorm2d(3, momentum=1.5)


def test_gradients_through_the_layer_match_finite_differences():
    layer = nn.BatchNorm2d(2).double()
    x = rng.standard_normal((3, 2, 2, 3))
    w = rng.standard_normal(2)
    b = rng.standard_normal(2)
    v = rng.standard_normal(x.shape)
    xt = ad.tensor(x, requires_grad=True)
    layer.weight.data, layer.bias.data = w.copy(), b.copy()
    (layer(xt) * v).sum().backward()

    def f(x, w, b):
        return np.sum(F.batch_norm(x, None, None, w, b, training=True).data * v)

    eps = 1e-6
    for k, (arg, grad) in enumerate([(x, xt.grad), (w, layer.weight.grad), (b, layer.bias.grad)]):
        numeric = np.zeros_like(arg)
        for i in np.ndindex(arg.shape):
            args = [x.copy(), w.copy(), b.copy()]
            args[k][i] += eps
            plus = f(*args)
            args[k][i] -= 2 * eps
            numeric[i] = (plus - f(*args)) / (2 * eps)
        np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("training", [True, False])
def test_functional_derivatives_to_second_order(training):
    x = rng.standard_normal((4, 3, 2, 2))
    w = rng.standard_normal(3)
    b = rng.standard_normal(3)
    mean, var = rng.standard_normal(3), rng.random(3) + 0.5
    check_grads(
        lambda x, w, b: F.batch_norm(x, mean.copy(), var.copy(), w, b, training=training),
        [x, w, b],
        order=2,
    )


def test_batchnorm1d_derivatives_on_features():
    x = rng.standard_normal((6, 3))
    check_grads(lambda x: F.batch_norm(x, None, None, training=True), [x], order=2)


def test_inside_a_model_the_optimizer_sees_only_weight_and_bias():
    import optim

    model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.ReLU(), nn.Linear(3, 2))
    opt = optim.SGD(model.parameters(), lr=0.1)
    x = rng.standard_normal((8, 4)).astype(np.float32)
    loss = nn.functional.cross_entropy(model(x), np.arange(8) % 2)
    loss.backward()
    opt.step()
    assert model[1].weight.grad is not None and int(model[1].num_batches_tracked) == 1
    assert list(model.state_dict()) == [
        "0.weight",
        "0.bias",
        "1.weight",
        "1.bias",
        "1.running_mean",
        "1.running_var",
        "1.num_batches_tracked",
        "3.weight",
        "3.bias",
    ]
    assert [n for n, _ in model.named_buffers()] == [
        "1.running_mean",
        "1.running_var",
        "1.num_batches_tracked",
    ]
    assert model.num_parameters() == (4 * 3 + 3) + 3 * 2 + (3 * 2 + 2)


def test_model_state_round_trip_through_a_file(tmp_path):
    def make():
        return nn.Sequential(nn.Conv2d(2, 3, 3, rng=0), nn.BatchNorm2d(3), nn.ReLU())

    src = make()
    for _ in range(3):
        src(rng.standard_normal((4, 2, 5, 5)).astype(np.float32))
    src.save(tmp_path / "m.npz")
    dst = make()
    dst.load(tmp_path / "m.npz")
    np.testing.assert_array_equal(dst[1].running_var, src[1].running_var)
    assert int(dst[1].num_batches_tracked) == 3
    src.eval(), dst.eval()
    x = rng.standard_normal((2, 2, 5, 5)).astype(np.float32)
    np.testing.assert_array_equal(dst(x).data, src(x).data)
    dst.double()
    assert dst[1].running_mean.dtype == np.float64
    assert dst[1].num_batches_tracked.dtype == np.int64
