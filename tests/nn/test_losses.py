"""Losses (values, reductions, gradients, stability, input validation), initialisers and
metrics."""

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F
from autodiff.testing import check_grads

rng = np.random.default_rng(0)
X = rng.standard_normal((5, 4))
LABELS = np.array([0, 3, 1, 1, 2])
SIGNS = np.array([1.0, -1.0, -1.0, 1.0, 1.0])


def log_softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


# each: (loss function, input, target, per-element reference)
CASES = {
    "mse": (F.mse_loss, X, X[::-1].copy(), lambda x, t: (x - t) ** 2),
    "half_mse": (F.half_mse_loss, X, X[::-1].copy(), lambda x, t: 0.5 * (x - t) ** 2),
    "cross_entropy": (
        F.cross_entropy,
        X,
        LABELS,
        lambda x, t: -log_softmax(x)[np.arange(len(t)), t],
    ),
    "nll": (F.nll_loss, log_softmax(X), LABELS, lambda x, t: -x[np.arange(len(t)), t]),
    "bce_logits": (
        F.binary_cross_entropy_with_logits,
        X,
        (X > 0.3).astype(float),
        lambda x, t: (
            -(t * np.log(1 / (1 + np.exp(-x))) + (1 - t) * np.log(1 - 1 / (1 + np.exp(-x))))
        ),
    ),
    "hinge": (F.hinge_loss, X[:, 0], SIGNS, lambda x, t: np.maximum(0, 1 - t * x)),
}


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_loss_values_and_reductions(name, reduction):
    fn, x, t, per_element = CASES[name]
    expected = per_element(x, t)
    expected = {"mean": expected.mean(), "sum": expected.sum(), "none": expected}[reduction]
    out = fn(ad.tensor(x), t, reduction=reduction)
    np.testing.assert_allclose(out.data, expected, rtol=1e-10)


@pytest.mark.parametrize("name", CASES)
def test_loss_gradients_match_finite_differences(name):
    fn, x, t, _ = CASES[name]
    check_grads(lambda x: fn(x, t, reduction="sum"), [x], order=2, modes=("rev",))
    check_grads(lambda x: fn(x, t), [x], order=1)


def test_half_mse_is_the_1_over_2n_convention():
    y, yhat = np.array([1.0, -1.0, 1.0, 1.0]), ad.tensor([0.5, -0.5, 2.0, 1.0], requires_grad=True)
    loss = F.half_mse_loss(yhat, y)
    assert np.isclose(loss.item(), np.sum((y - yhat.data) ** 2) / (2 * 4))
    loss.backward()
    np.testing.assert_allclose(yhat.grad, (yhat.data - y) / 4)


def test_cross_entropy_is_stable_for_huge_logits():
    logits = ad.tensor(
        np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 5e3]], np.float32), requires_grad=True
    )
    loss = F.cross_entropy(logits, np.array([0, 2]), reduction="none")
    np.testing.assert_allclose(loss.data, [0.0, 5e3])
    loss.sum().backward()
    assert np.all(np.isfinite(logits.grad))
    np.testing.assert_allclose(logits.grad, [[0, 0, 0], [0, 1, -1]], atol=1e-6)
    assert loss.dtype == np.float32 and logits.grad.dtype == np.float32


def test_bce_with_logits_is_stable_for_huge_logits():
    x = ad.tensor(np.array([1e4, -1e4, 1e4]), requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(x, np.array([1.0, 0.0, 0.0]), reduction="none")
    np.testing.assert_allclose(loss.data, [0.0, 0.0, 1e4])
    loss.sum().backward()
    np.testing.assert_allclose(x.grad, [0.0, 0.0, 1.0])


def test_float32_inputs_give_float32_losses_with_float64_targets():
    x = ad.tensor(np.ones((3, 2), np.float32), requires_grad=True)
    for loss in (
        F.mse_loss(x, np.zeros((3, 2))),
        F.cross_entropy(x, np.array([0, 1, 1])),
        F.binary_cross_entropy_with_logits(x, np.ones((3, 2))),
        F.hinge_loss(x, -np.ones((3, 2))),
    ):
        assert loss.dtype == np.float32


def test_loss_modules_match_functions():
    x = ad.tensor(X)
    assert np.isclose(nn.CrossEntropyLoss()(x, LABELS).item(), F.cross_entropy(x, LABELS).item())
    assert np.isclose(nn.MSELoss(reduction="sum")(x, X * 0).item(), np.sum(X**2))
    assert np.isclose(nn.HalfMSELoss()(x, X * 0).item(), 0.5 * np.mean(X**2))
    assert nn.HingeLoss(reduction="none")(x[:, 0], SIGNS).shape == (5,)
    assert "reduction='sum'" in repr(nn.NLLLoss(reduction="sum"))


@pytest.mark.parametrize(
    "call, error, message",
    [
        (
            lambda: F.cross_entropy(X, np.array([0, 1, 2, 3, 4])),
            ValueError,
            r"cross_entropy: class indices must lie in \[0, 4\) for input \(5, 4\), found \[4\]",
        ),
        (lambda: F.cross_entropy(X, np.array([0, -1, 2, 3, 1])), ValueError, r"found \[-1\]"),
        (
            lambda: F.cross_entropy(X[0], np.array([0])),
            ValueError,
            r"cross_entropy: expected input of shape \(N, C\).*got shape \(4,\)",
        ),
        (lambda: F.cross_entropy(X, LABELS.astype(float)), TypeError, "integer class indices"),
        (lambda: F.cross_entropy(X, LABELS[:3]), ValueError, r"target must have shape \(5,\)"),
        (
            lambda: F.nll_loss(X, LABELS, reduction="avg"),
            ValueError,
            "reduction must be 'mean', 'sum' or 'none', got 'avg'",
        ),
        (
            lambda: F.mse_loss(X, X[:, :1]),
            ValueError,
            r"mse_loss: input shape \(5, 4\) and target shape \(5, 1\) differ",
        ),
        (lambda: F.hinge_loss(X[:, 0], np.array([0, 1, 1, -1, 1])), ValueError, "-1 or \\+1"),
        (lambda: F.binary_cross_entropy_with_logits(X, X), ValueError, r"lie in \[0, 1\]"),
        (lambda: F.mse_loss(np.arange(3), np.arange(3)), TypeError, "floating point"),
    ],
)
def test_bad_inputs_are_clear_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


# ----------------------------------------------------------------------- init
def test_initialiser_statistics():
    w = np.zeros((400, 300))
    nn.init.normal_(w, 0.1, 0.1, rng=0)  # the N(0.1, 0.1^2) init of 001_3660cf4441769652.txt
    assert abs(w.mean() - 0.1) < 0.002 and abs(w.std() - 0.1) < 0.002
    nn.init.uniform_(w, -2, 3, rng=0)
    assert w.min() >= -2 and w.max() <= 3 and abs(w.mean() - 0.5) < 0.02
    bound = np.sqrt(6 / 700)
    nn.init.xavier_uniform_(w, rng=0)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    nn.init.glorot_normal_(w, rng=0)
    assert abs(w.std() - np.sqrt(2 / 700)) < 0.002
    nn.init.kaiming_normal_(w, nonlinearity="relu", rng=0)
    assert abs(w.std() - np.sqrt(2 / 300)) < 0.002
    nn.init.he_uniform_(w, mode="fan_out", rng=0)
    assert np.abs(w).max() <= np.sqrt(6 / 400)
    nn.init.constant_(w, 0.5)
    assert np.all(w == 0.5)
    nn.init.zeros_(w)
    assert not w.any()


def test_initialisers_fill_parameters_and_are_reproducible():
    p = nn.Parameter(np.zeros((3, 2, 3, 3), np.float32))
    assert nn.init.calculate_fan_in_and_fan_out(p) == (18, 27)
    nn.init.kaiming_uniform_(p, rng=np.random.default_rng(5))
    assert p.dtype == np.float32 and p.data.any()
    q = nn.init.kaiming_uniform_(nn.Parameter(np.zeros((3, 2, 3, 3), np.float32)), rng=5)
    np.testing.assert_array_equal(p.data, q.data)
    nn.manual_seed(3)
    a = nn.init.normal_(np.zeros(4)).copy()
    nn.manual_seed(3)
    np.testing.assert_array_equal(a, nn.init.normal_(np.zeros(4)))


def test_initialiser_errors_and_gains():
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        nn.init.xavier_uniform_(np.zeros(3))
    with pytest.raises(ValueError, match="mode"):
        nn.init.kaiming_normal_(np.zeros((2, 2)), mode="fan")
    with pytest.raises(TypeError, match="rng"):
        nn.init.normal_(np.zeros(2), rng="seed")
    assert nn.init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert nn.init.calculate_gain("leaky_relu", 0.2) == pytest.approx(np.sqrt(2 / 1.04))


# -------------------------------------------------------------------- metrics
def test_accuracy_from_scores_or_labels():
    scores = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
    assert nn.accuracy(scores, np.array([1, 0, 0, 0])) == 0.75
    assert nn.accuracy(ad.tensor(scores), np.array([1, 0, 1, 0])) == 1.0
    assert nn.accuracy(np.array([1, 2, 3]), np.array([1, 2, 0])) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="do not match"):
        nn.accuracy(scores, np.array([1, 0]))


def test_misclassification_error_counts_sign_disagreements_and_zeros():
    y = np.array([1.0, -1.0, 1.0, -1.0])
    assert nn.misclassification_error(np.array([0.3, -2.0, -0.1, 0.0]), y) == 0.5
    assert nn.misclassification_error(ad.tensor(y * 5), y) == 0.0
    with pytest.raises(ValueError, match="differ"):
        nn.misclassification_error(y[:, None], y)
