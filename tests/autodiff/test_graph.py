"""The public view of the recorded graph: t.op, t.inputs, ad.graph.nodes/operands/to_dot."""

import numpy as np
import pytest

import autodiff as ad


def test_op_and_inputs_describe_each_node():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    s = ad.sin(x)
    y = ad.sum(s * x * 2.0)
    assert x.op is None and x.inputs == ()
    assert s.op == "sin" and s.inputs[0] is x
    product = y.inputs[0]
    assert product.op == "multiply"
    assert ad.graph.operands(product)[1] == 2.0  # the constant operand
    assert [t.op for t in ad.graph.nodes(y)] == [None, "sin", "multiply", "multiply", "sum"]


def test_nodes_come_in_topological_order_and_once_each():
    x = ad.tensor(1.5, requires_grad=True)
    a = x * x
    b = a + x
    y = a * b
    order = ad.graph.nodes(y)
    position = {id(t): i for i, t in enumerate(order)}
    assert len(order) == 4
    for t in order:
        assert all(position[id(i)] < position[id(t)] for i in t.inputs)


def test_to_dot_labels_values_and_edges():
    x = ad.tensor(2.0, requires_grad=True)
    y = ad.exp(x) * 3.0
    y.backward(retain_graph=True)
    dot = ad.graph.to_dot(y, names={x: "x", y: "y"})
    assert dot.startswith("digraph autodiff {")
    assert 'label="x = input\\nvalue 2\\nadjoint 22.1672' in dot
    assert "y = multiply (const 3)" in dot
    assert dot.count("->") == 2


def test_a_freed_node_has_no_inputs_and_the_view_changes_nothing():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    y = ad.sum(x * x)
    ad.graph.nodes(y)
    ad.graph.to_dot(y)
    y.backward()  # the view did not disturb the graph
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])
    assert y.op == "<freed>" and y.inputs == ()
    with pytest.raises(TypeError, match="graph.nodes: expected Tensors, got ndarray"):
        ad.graph.nodes(np.ones(2))


def test_labels_and_the_tape_as_text():
    x = ad.tensor(0.5, requires_grad=True)
    y = ad.sin(x * 2.0) * x
    order = ad.graph.nodes(y)
    for node in order:
        if not node.is_leaf:
            node.retain_grad()
    y.backward(retain_graph=True)
    assert ad.graph.labels(order, {x: "x", y: "y"}) == ["x", "t1", "t2", "y"]
    lines = ad.graph.to_text(y, names={x: "x", y: "y"}).splitlines()
    assert len(lines) == 1 + 4
    assert lines[2].split()[:3] == ["1", "t1", "multiply(x,"]  # the constant is shown
    assert "2)" in lines[2]
    assert lines[-1].split()[:4] == ["3", "y", "multiply(t2,", "x)"]
    assert float(lines[-1].split()[-1]) == 1.0  # dy/dy
    assert float(lines[1].split()[-1]) == pytest.approx(float(x.grad))
    big = ad.sum(ad.tensor(np.ones((2, 3)), requires_grad=True) * 3.0)
    text = ad.graph.to_text(big)
    assert "shape (2, 3)" in text and text.splitlines()[1].split()[-1] == "-"  # no .grad yet
