"""Weighted and label-smoothed cross-entropy, weighted nll_loss, binary cross-entropy with
weight and pos_weight, huber_loss, and their module forms: values against hand-written
numpy references and closed forms (float64 to 1e-10, float32 to 1e-5), derivatives to
second order against finite differences (check_grads)."""

import math

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F
from autodiff.testing import check_grads

rng = np.random.default_rng(2025)
N, C = 6, 4
LOGITS = rng.standard_normal((N, C)) * 2
LABELS = np.array([0, 3, 1, 1, 2, 3])
WEIGHT = np.array([0.5, 2.0, 1.0, 3.0])
REDUCTIONS = ["mean", "sum", "none"]


def _reduce(per, reduction, divisor):
    return {"mean": per.sum() / divisor, "sum": per.sum(), "none": per}[reduction]


def _reference_cross_entropy(z, y, weight, eps, reduction):
    """The soft-target form: q = (1 - eps) onehot(y) + eps / C, and per sample
    -sum_c weight[c] q[c] log softmax(z)[c]; the mean divides by sum_i weight[y_i]."""
    n, c = z.shape
    weight = np.ones(c) if weight is None else weight
    per = np.empty(n)
    for i in range(n):
        log_p = z[i] - math.log(sum(math.exp(v) for v in z[i]))
        q = np.full(c, eps / c)
        q[y[i]] += 1 - eps
        per[i] = -np.sum(weight * q * log_p)
    return _reduce(per, reduction, sum(weight[t] for t in y))


# ---------------------------------------------------------------- cross_entropy
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    "weight, eps", [(WEIGHT, 0.0), (None, 0.1), (WEIGHT, 0.2), (WEIGHT, 1.0), (None, 0.0)]
)
def test_cross_entropy_weight_and_label_smoothing_match_reference(weight, eps, reduction):
    out = F.cross_entropy(
        ad.tensor(LOGITS), LABELS, weight, reduction=reduction, label_smoothing=eps
    )
    np.testing.assert_allclose(
        out.data, _reference_cross_entropy(LOGITS, LABELS, weight, eps, reduction), rtol=1e-10
    )


def test_cross_entropy_closed_form_for_uniform_logits():
    # log softmax(0) = -log C for every class, so sample i loses
    # log C * ((1 - eps) w[y_i] + eps * mean(w)); the mean divides by sum_i w[y_i]
    eps = 0.3
    per = math.log(C) * ((1 - eps) * WEIGHT[LABELS] + eps * WEIGHT.mean())
    out = F.cross_entropy(np.zeros((N, C)), LABELS, weight=WEIGHT, label_smoothing=eps)
    np.testing.assert_allclose(out, per.sum() / WEIGHT[LABELS].sum(), rtol=1e-12)
    # unit weights are no weights; eps = 0 is the fused unweighted loss
    np.testing.assert_allclose(
        F.cross_entropy(LOGITS, LABELS, np.ones(C)), F.cross_entropy(LOGITS, LABELS), rtol=1e-12
    )


def test_cross_entropy_float32_weighted_smoothed_stays_float32_and_stable():
    z32 = LOGITS.astype(np.float32)
    out = F.cross_entropy(ad.tensor(z32), LABELS, WEIGHT, label_smoothing=0.1)
    assert out.dtype == np.float32
    np.testing.assert_allclose(
        out.data,
        _reference_cross_entropy(z32.astype(np.float64), LABELS, WEIGHT, 0.1, "mean"),
        rtol=1e-5,
    )
    huge = ad.tensor(np.array([[1e4, 0.0, -1e4]], np.float32), requires_grad=True)
    loss = F.cross_entropy(huge, np.array([0]), np.array([1.0, 2.0, 3.0]), label_smoothing=0.3)
    # = 0.1 * (1 * 0 + 2 * 1e4 + 3 * 2e4) / 1
    np.testing.assert_allclose(loss.data, 8e3, rtol=1e-6)
    loss.backward()
    assert huge.grad.dtype == np.float32 and np.all(np.isfinite(huge.grad))


def test_cross_entropy_weighted_gradient_closed_form():
    # d(sum_i w_yi l_i / sum_i w_yi)/dz_i = w_yi (softmax(z_i) - onehot(y_i)) / sum w_y
    z = ad.tensor(LOGITS, requires_grad=True)
    F.cross_entropy(z, LABELS, WEIGHT).backward()
    p = np.exp(LOGITS) / np.exp(LOGITS).sum(axis=1, keepdims=True)
    onehot = np.eye(C)[LABELS]
    expected = WEIGHT[LABELS][:, None] * (p - onehot) / WEIGHT[LABELS].sum()
    np.testing.assert_allclose(z.grad, expected, rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weight, eps", [(WEIGHT, 0.0), (None, 0.15), (WEIGHT, 0.15)])
def test_cross_entropy_derivatives_to_second_order(weight, eps, reduction):
    check_grads(
        lambda z: F.cross_entropy(z, LABELS, weight, reduction=reduction, label_smoothing=eps),
        [LOGITS],
        order=2,
    )


# ------------------------------------------------------------------- nll_loss
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_weighted_nll_loss_matches_reference(reduction):
    log_p = LOGITS - np.log(np.exp(LOGITS).sum(axis=1, keepdims=True))
    per = np.array([-WEIGHT[t] * log_p[i, t] for i, t in enumerate(LABELS)])
    expected = _reduce(per, reduction, WEIGHT[LABELS].sum())
    out = F.nll_loss(ad.tensor(log_p), LABELS, weight=WEIGHT, reduction=reduction)
    np.testing.assert_allclose(out.data, expected, rtol=1e-10)
    # cross_entropy is nll_loss of log_softmax, also with weights
    np.testing.assert_allclose(
        F.cross_entropy(LOGITS, LABELS, WEIGHT, reduction=reduction), expected, rtol=1e-10
    )
    check_grads(lambda x: F.nll_loss(x, LABELS, WEIGHT, reduction=reduction), [log_p], order=2)


# ---------------------------------------------------- binary cross-entropy
X = rng.standard_normal((5, 3)) * 3
Y = rng.random((5, 3))
POS_WEIGHT = np.array([1.0, 3.0, 0.25])
ELEMENT_WEIGHT = rng.random((5, 1)) + 0.5


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    "weight, pos_weight", [(None, POS_WEIGHT), (ELEMENT_WEIGHT, None), (ELEMENT_WEIGHT, POS_WEIGHT)]
)
def test_bce_with_logits_weights_match_reference(weight, pos_weight, reduction):
    w = 1.0 if weight is None else weight
    pw = 1.0 if pos_weight is None else pos_weight
    per = -w * (pw * Y * np.log(_sigmoid(X)) + (1 - Y) * np.log(1 - _sigmoid(X)))
    out = F.binary_cross_entropy_with_logits(
        ad.tensor(X), Y, weight, reduction=reduction, pos_weight=pos_weight
    )
    np.testing.assert_allclose(out.data, _reduce(per, reduction, per.size), rtol=1e-10)
    module = nn.BCEWithLogitsLoss(weight, reduction=reduction, pos_weight=pos_weight)
    np.testing.assert_allclose(module(X, Y), out.data, rtol=1e-12)
    check_grads(
        lambda x, y: F.binary_cross_entropy_with_logits(
            x, y, weight, reduction=reduction, pos_weight=pos_weight
        ),
        [X, Y],
        order=2,
    )


def test_bce_with_pos_weight_is_stable_and_float32():
    x = ad.tensor(np.array([1e4, -1e4, -1e4], np.float32), requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(
        x, np.array([0.0, 1.0, 0.0]), reduction="none", pos_weight=np.array([2.0, 2.0, 2.0])
    )
    assert loss.dtype == np.float32
    np.testing.assert_allclose(loss.data, [1e4, 2e4, 0.0])
    loss.sum().backward()
    np.testing.assert_allclose(x.grad, [1.0, -2.0, 0.0])


# ------------------------------------------------------------------ huber_loss
D = np.array([-3.0, -1.2, -0.4, 0.0, 0.3, 0.69, 0.71, 2.5])


@pytest.mark.parametrize("delta", [0.7, 1.0, 2.0])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_huber_loss_piecewise_values_and_clipped_gradient(delta, reduction):
    target = np.linspace(-1, 1, D.size)
    x = target + D
    per = np.array([0.5 * d * d if abs(d) < delta else delta * (abs(d) - 0.5 * delta) for d in D])
    xt = ad.tensor(x, requires_grad=True)
    out = F.huber_loss(xt, target, reduction, delta)
    np.testing.assert_allclose(out.data, _reduce(per, reduction, D.size), rtol=1e-10, atol=1e-15)
    # the derivative is d clipped to [-delta, delta]
    (out if reduction != "none" else out.sum()).backward()
    scale = 1 / D.size if reduction == "mean" else 1.0
    np.testing.assert_allclose(xt.grad, np.clip(D, -delta, delta) * scale, rtol=1e-10, atol=1e-15)
    module = nn.HuberLoss(reduction=reduction, delta=delta)
    np.testing.assert_allclose(module(x, target), out.data, rtol=0)


def test_huber_loss_limits_and_float32():
    x = rng.standard_normal(20) * 0.1
    # |d| < delta everywhere: half the squared error
    np.testing.assert_allclose(
        F.huber_loss(x, np.zeros(20), delta=5.0), 0.5 * F.mse_loss(x, np.zeros(20)), rtol=1e-12
    )
    out = F.huber_loss(ad.tensor(np.array([3.0, -0.5], np.float32)), np.zeros(2), reduction="none")
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, [2.5, 0.125], rtol=1e-6)


def test_huber_loss_derivatives_to_second_order():
    target = rng.standard_normal(8)
    check_grads(lambda x, t: F.huber_loss(x, t, delta=0.7), [target + D, target], order=2)
    check_grads(lambda x: F.huber_loss(x, target, "sum", delta=2.0), [target + D], order=2)


# -------------------------------------------------------------- module forms
def test_loss_modules_match_functional_and_keep_weights_as_buffers():
    ce = nn.CrossEntropyLoss(WEIGHT, label_smoothing=0.2)
    np.testing.assert_allclose(
        ce(LOGITS, LABELS), F.cross_entropy(LOGITS, LABELS, WEIGHT, label_smoothing=0.2), rtol=0
    )
    np.testing.assert_allclose(
        ce(LOGITS, LABELS),
        _reference_cross_entropy(LOGITS, LABELS, WEIGHT, 0.2, "mean"),
        rtol=1e-10,
    )
    assert "label_smoothing=0.2" in repr(ce)
    assert list(ce.state_dict()) == ["weight"] and list(ce.parameters()) == []
    ce.to(np.float32)
    assert ce.weight.dtype == np.float32
    nll = nn.NLLLoss(weight=WEIGHT, reduction="sum")
    np.testing.assert_allclose(
        nll(LOGITS, LABELS), -np.sum(WEIGHT[LABELS] * LOGITS[np.arange(N), LABELS]), rtol=1e-12
    )
    plain = nn.CrossEntropyLoss()
    assert plain.weight is None and list(plain.state_dict()) == []
    bce = nn.BCEWithLogitsLoss(pos_weight=POS_WEIGHT)
    assert list(bce.state_dict()) == ["pos_weight"]
    assert "delta=0.5" in repr(nn.HuberLoss(delta=0.5))


def test_reduction_passed_positionally_to_a_weighted_loss_is_a_clear_error():
    with pytest.raises(
        TypeError,
        match=r"CrossEntropyLoss: weight must be an array of "
        r"numbers, got the string 'sum' \(pass reduction= "
        r"by keyword\)",
    ):
        nn.CrossEntropyLoss("sum")
