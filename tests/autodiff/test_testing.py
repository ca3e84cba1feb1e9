"""autodiff.testing itself: check_grads catches wrong rules, its messages say where, the
strategies produce what they promise, and a whole-engine fuzz test on random graphs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autodiff as ad
from autodiff.testing import check_grads, load_profile
from autodiff.testing import strategies as S


def _sin_with(vjp_scale=1.0, jvp_scale=1.0, derivative=None):
    derivative = derivative or ad.cos

    @ad.primitive
    def my_sin(x):
        return np.sin(x)

    my_sin.defvjp(lambda g, ans, x: g * derivative(x) * vjp_scale)
    my_sin.defjvp(lambda t, ans, x: t * derivative(x) * jvp_scale)
    return my_sin


X = np.array([0.3, -1.2, 2.0])


def test_correct_rules_pass():
    check_grads(_sin_with(), (X,), order=3)


def test_vjp_off_by_a_tenth_of_a_percent_is_caught():
    with pytest.raises(AssertionError, match=r"argument 0, mode 'rev', order 1"):
        check_grads(_sin_with(vjp_scale=1.001), (X,), modes=("rev",))


def test_jvp_off_by_a_tenth_of_a_percent_is_caught():
    with pytest.raises(AssertionError, match=r"argument 0, mode 'fwd', order 1") as info:
        check_grads(_sin_with(jvp_scale=1.001), (X,), modes=("fwd",))
    assert "worst element" in str(info.value) and "numerical" in str(info.value)


def test_forward_reverse_disagreement_is_caught_even_when_tiny():
    # 1e-7 relative is below the finite-difference tolerance but not the <v,Ju> check
    with pytest.raises(AssertionError, match="forward and reverse mode disagree"):
        check_grads(_sin_with(jvp_scale=1 + 1e-7), (X,), order=1)


def test_wrong_second_derivative_is_caught():
    @ad.primitive
    def bad_cos(x):
        return np.cos(x)

    bad_cos.defvjp(lambda g, ans, x: g * ad.sin(x))  # sign error: d cos = -sin
    bad_cos.defjvp(lambda t, ans, x: t * ad.sin(x))
    f = _sin_with(derivative=bad_cos)
    check_grads(f, (X,), order=1)  # first order is right
    with pytest.raises(AssertionError, match="order 2"):
        check_grads(f, (X,), order=2)


def test_rule_that_ignores_broadcasting_is_caught():
    @ad.primitive
    def scale_rows(x, s):
        return x * s[:, None]

    scale_rows.defvjp(
        lambda g, ans, x, s: g * s[:, None], lambda g, ans, x, s: ad.sum(g * x)
    )  # forgets to keep the row axis
    scale_rows.defjvp(lambda t, ans, x, s: t * s[:, None], lambda t, ans, x, s: x * t[:, None])
    args = (np.arange(6.0).reshape(2, 3) / 5, np.array([0.5, -1.5]))
    # The engine itself refuses a cotangent that cannot be summed back to the operand.
    with pytest.raises(
        ValueError,
        match=r"scale_rows: the VJP rule for argument 1 returned a "
        r"cotangent of shape \(\)",
    ):
        check_grads(scale_rows, args, order=1)


def test_gradient_of_wrong_shape_is_reported():
    @ad.primitive
    def total(x):
        return np.sum(x)

    total.defvjp(lambda g, ans, x: ad.transpose(x) * 0 + g)  # transposed shape
    total.defjvp(lambda t, ans, x: ad.sum(t))
    with pytest.raises(
        ValueError,
        match=r"total: the VJP rule for argument 0 returned a "
        r"cotangent of shape \(3, 2\)",
    ):
        check_grads(total, (np.ones((2, 3)),), modes=("rev",), order=1)


@given(data=st.data())
def test_strategies_produce_valid_values(data):
    x = data.draw(S.arrays(min_value=0.1, max_value=2.0, avoid=(1.0,)))
    assert np.all((x >= 0.1) & (x <= 2.0)) and np.all(np.abs(x - 1.0) > 1e-2)
    a, b = data.draw(S.broadcastable_shapes(2))
    np.broadcast_shapes(a, b)
    shape = data.draw(S.shapes(min_dims=1))
    axis, keepdims = data.draw(S.axis_and_keepdims(len(shape)))
    np.sum(np.zeros(shape), axis=axis, keepdims=keepdims)
    np.zeros(shape)[data.draw(S.index_expressions(shape))]
    y = data.draw(S.arrays((2, 3), dtype=np.float32))
    assert y.dtype == np.float32 and y.shape == (2, 3)


@settings(max_examples=40)
@given(expr=S.expressions())
def test_fuzz_random_expression_graphs_in_both_modes_to_second_order(expr):
    f, args, description = expr
    check_grads(f, args, modes=("fwd", "rev"), order=2)


def test_profiles_are_selected_by_environment(monkeypatch):
    monkeypatch.setenv("AUTODIFF_HYPOTHESIS_PROFILE", "deep")
    assert load_profile() == "deep"
    assert settings().max_examples == 2000
    monkeypatch.setenv("AUTODIFF_HYPOTHESIS_PROFILE", "ci")
    assert load_profile() == "ci"
    assert settings().max_examples == 20


def test_check_grads_works_without_hypothesis_and_strategies_say_what_is_missing():
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['hypothesis'] = None\n"
        "import numpy as np, autodiff as ad\n"
        "from autodiff.testing import check_grads\n"
        "check_grads(ad.sin, (np.array([0.3, 1.2]),), order=2)\n"
        "try:\n"
        "    from autodiff.testing import strategies\n"
        "except ModuleNotFoundError as e:\n"
        "    print('MISSING:', e)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    ).stdout
    assert "MISSING: autodiff.testing.strategies needs hypothesis, which is a test extra" in out
