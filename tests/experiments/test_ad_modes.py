"""experiments.ad_modes: quick run, claims, the traces against the closed form, the tape."""

import math

import numpy as np
import pytest

from experiments import ad_modes as exp
from tests.experiment_checks import check_outputs


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("ad_modes")
    report = exp.main(["--quick", "--seed", "0", "--out", str(out)])
    return out, report


def closed_form(w1, w2):
    """f and its gradient differentiated by hand from the formula (not from the trace)."""
    s, c = math.sin(2 * math.pi * w1 / w2), math.cos(2 * math.pi * w1 / w2)
    u = 3 * w1 / w2 - math.exp(2 * w2)
    s1, s2 = 2 * math.pi * c / w2, -2 * math.pi * c * w1 / w2**2
    u1, u2 = 3 / w2, -3 * w1 / w2**2 - 2 * math.exp(2 * w2)
    return (s + u) * u, ((s1 + u1) * u + (s + u) * u1, (s2 + u2) * u + (s + u) * u2)


def test_outputs_exist_and_claims_hold(quick_run):
    out, report = quick_run
    data = check_outputs(out, report)
    assert sorted(report.figures) == ["cost_modes.png", "graph.png", "mlp_complexity.png"]
    assert len(data["claims"]) == 14
    dot = (out / "graph.dot").read_text()
    assert dot.startswith("digraph") and dot.count("->") == 13  # 9 operations, 13 operand edges
    assert "z6 = multiply" in dot and "t1 = multiply (const 6.28319)" in dot
    md = (out / "results.md").read_text()
    assert "multiply(z4, z5)" in md and "dz6" in md


def test_sample_point_against_the_closed_form(quick_run):
    _, report = quick_run
    value, grad = closed_form(*exp.SAMPLE)
    assert report.numbers["f_at_sample"] == pytest.approx(value, rel=1e-13)
    assert report.numbers["grad_at_sample_reverse"] == pytest.approx(grad, rel=1e-12)
    assert report.numbers["grad_at_sample_forward"] == pytest.approx(grad, rel=1e-12)


@pytest.mark.parametrize("w1, w2", [(0.3, 0.7), (-1.2, 2.5), (2.0, -0.9)])
def test_traces_match_the_hand_derivation_elsewhere(w1, w2):
    for dw in ((1.0, 0.0), (0.0, 1.0), (0.5, -2.0)):
        engine = exp.engine_forward_trace(w1, w2, *dw)
        for name, _, value in exp.hand_forward_trace(w1, w2, *dw):
            assert engine[name] == pytest.approx(value, rel=1e-12, abs=1e-12)
    _, by_name = exp.record_trace(w1, w2)
    for name, _, value in exp.hand_reverse_trace(w1, w2):
        assert float(by_name[name.replace("bar", "")].grad) == pytest.approx(value, rel=1e-12)
    _, grad = closed_form(w1, w2)
    assert (float(by_name["w1"].grad), float(by_name["w2"].grad)) == pytest.approx(grad, rel=1e-12)


def test_tape_listing_and_cost_helpers():
    nodes, by_name = exp.record_trace(*exp.SAMPLE)
    names = {t: name for name, t in by_name.items()}
    lines = exp.ad.graph.to_text(by_name["z6"], names=names).splitlines()
    assert len(lines) == 1 + 11  # header, 2 inputs, 9 operations
    assert lines[-1].split()[:3] == ["10", "z6", "multiply(z4,"]
    assert lines[4].split()[:3] == ["3", "t1", "multiply(6.28319,"]
    assert float(lines[-1].split()[-1]) == 1.0  # dz6/dz6
    assert exp.ad.graph.labels(nodes, names) == [
        "w1",
        "w2",
        "z1",
        "t1",
        "z2",
        "t2",
        "z3",
        "t3",
        "z4",
        "z5",
        "z6",
    ]
    assert [n.op for n in nodes if not n.is_leaf] == [
        "divide",
        "multiply",
        "sin",
        "multiply",
        "exp",
        "multiply",
        "subtract",
        "add",
        "multiply",
    ]
    rng = np.random.default_rng(1)
    w = rng.uniform(0.5, 1.5, 7)
    import autodiff as ad

    np.testing.assert_allclose(
        exp.forward_gradient(exp.sum_trace, w), ad.grad(exp.sum_trace)(w), rtol=1e-12
    )
    u, v = rng.uniform(0.5, 1.5, 5), rng.uniform(0.5, 1.5, 5)

    def g(s):
        return exp.trace(s * u, v)["z6"]

    np.testing.assert_allclose(
        exp.reverse_jacobian(g, np.float64(0.8), 5),
        ad.jvp(g, (np.float64(0.8),), (np.float64(1.0),))[1],
        rtol=1e-12,
    )
    assert exp.slope([1, 10, 100], [3, 30, 300]) == pytest.approx(1.0)
    assert exp.mlp_flops([784, 100, 10], 32) == 2 * 32 * (784 * 100 + 100 * 10)


def test_operation_count_of_reverse_mode_is_a_constant_factor_within_the_documents_bound():
    ratios = []
    for d in (1, 7, 200):
        c = exp.operation_counts(exp.sum_trace, np.linspace(0.6, 1.4, d))
        assert c["f_primitives"] > 0 and c["backward_primitives"] > 0
        ratios.append((c["f_ops"] + c["backward_ops"]) / c["f_ops"])
    assert ratios[0] == ratios[1] == ratios[2] and 1 < ratios[0] <= exp.DOC_BOUND

    # the count sees every primitive the backward pass computes: f(w) = sum(w * w) has two
    # forward primitives (d + d operations) and a backward pass of a few d-sized ones
    c = exp.operation_counts(lambda w: exp.ad.sum(w * w), np.ones(10))
    assert c["f_ops"] == 20 and c["backward_ops"] >= 20
