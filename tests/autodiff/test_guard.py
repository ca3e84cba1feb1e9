"""The mutation guard: writing to an array the tape saves raises, or the gradient is exact.

Each case of the audit (x = [1, 2], true gradient in the comments) either raises or gives
the exact gradient; the guard lets go after the backward pass, can be switched off, and
`Tensor()` / `ad.tensor` copy while `ad.from_numpy` shares.
"""

import gc

import numpy as np
import pytest

import autodiff as ad

READ_ONLY = "read-only"


def x_leaf():
    return ad.tensor([1.0, 2.0], requires_grad=True)


# ----------------------------------------------------- computed tensors handed out
@pytest.mark.parametrize(
    "hand_out",
    [lambda h: h.numpy(), lambda h: np.asarray(h), lambda h: h.data, lambda h: h.detach().data],
)
def test_a_computed_array_handed_out_is_read_only_while_its_graph_lives(hand_out):
    x = x_leaf()
    h = ad.exp(x)
    y = ad.sum(h * h)
    with pytest.raises(ValueError, match=READ_ONLY):
        hand_out(h)[...] = 0
    y.backward()
    np.testing.assert_allclose(x.grad, 2 * np.exp(2 * np.array([1.0, 2.0])))


def test_detach_taken_before_use_cannot_change_the_saved_values():
    x = x_leaf()
    h = ad.exp(x)
    d = h.detach()
    y = ad.sum(h * h)
    with pytest.raises(ValueError, match=READ_ONLY):
        d.data[0] = 0
    y.backward()
    np.testing.assert_allclose(x.grad, 2 * np.exp(2 * np.array([1.0, 2.0])))


def test_copies_asked_for_are_writeable():
    h = ad.exp(x_leaf())
    ad.sum(h).backward(retain_graph=True)
    np.asarray(h, dtype=np.float32)[0] = 1  # a converted copy
    np.array(h)[0] = 1  # np.array copies
    h.numpy().copy()[0] = 1


# ------------------------------------------------------------------ leaves
def test_tensor_and_ad_tensor_copy_so_earlier_views_cannot_reach_the_tape():
    a = np.array([1.0, 2.0])
    v = a[:]
    x = ad.Tensor(a, requires_grad=True)
    y = ad.sum(x * x)
    v[0] = 5
    a[1] = 7
    y.backward()
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])
    b = np.array([1.0, 2.0])
    x = ad.tensor(b[:], requires_grad=True)
    y = ad.sum(x * x)
    b[0] = 5  # the base of the slice the tensor was made from
    y.backward()
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])


def test_from_numpy_shares_and_locks_the_array_and_its_base():
    b = np.array([1.0, 2.0, 3.0])
    x = ad.from_numpy(b[:2], requires_grad=True)
    assert np.shares_memory(x.numpy(), b)
    y = ad.sum(x * x)
    with pytest.raises(ValueError, match=READ_ONLY):
        b[0] = 5
    with pytest.raises(ValueError, match=READ_ONLY):
        x.data[0] = 5
    y.backward()
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])
    b[0] = 5  # unlocked after the backward pass
    assert x.data[0] == 5
    with pytest.raises(TypeError, match="from_numpy: expected an ndarray, got list"):
        ad.from_numpy([1.0, 2.0])


def test_two_tensors_over_one_array_do_not_unlock_each_others_graph():
    a = np.array([1.0, 2.0])
    x1 = ad.from_numpy(a, requires_grad=True)
    x2 = ad.from_numpy(a, requires_grad=True)
    y1, y2 = ad.sum(x1 * x1), ad.sum(x2 * x2 * x2)
    y1.backward()
    with pytest.raises(ValueError, match=READ_ONLY):
        a[0] = 5
    y2.backward()
    np.testing.assert_array_equal(x2.grad, [3.0, 12.0])
    a[0] = 5
    # and through detach(), which shares the same array object
    x = x_leaf()
    d = x.detach().requires_grad_()
    y1, y2 = ad.sum(x * x), ad.sum(d * d)
    y1.backward()
    with pytest.raises(ValueError, match=READ_ONLY):
        d.data[0] = 5
    y2.backward()
    np.testing.assert_array_equal(d.grad, [2.0, 4.0])


# --------------------------------------------------- plain-array operands, parameters
def test_a_plain_array_constant_is_locked_while_saved():
    x = x_leaf()
    c = np.array([3.0, 3.0])
    y = ad.sum(x * c)
    with pytest.raises(ValueError, match=READ_ONLY):
        c[:] = 0
    y.backward()
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])
    c[:] = 0  # the user's array is writeable again afterwards
    assert c.flags.writeable


def test_a_view_constant_locks_its_base_too():
    x = x_leaf()
    big = np.array([3.0, 4.0, 5.0])
    y = ad.sum(x * big[:2])
    with pytest.raises(ValueError, match=READ_ONLY):
        big[0] = 0
    y.backward()
    np.testing.assert_array_equal(x.grad, [3.0, 4.0])
    big[0] = 0


def test_cross_entropy_labels_cannot_change_before_backward():
    logits = ad.tensor(np.zeros((2, 3)), requires_grad=True)
    labels = np.array([0, 1])
    loss = ad.softmax_cross_entropy(logits, labels)
    with pytest.raises(ValueError, match=READ_ONLY):
        labels[:] = 2
    loss.backward()
    expected = (np.full((2, 3), 1 / 3) - np.eye(3)[[0, 1]]) / 2
    np.testing.assert_allclose(logits.grad, expected)
    labels[:] = 2


def test_index_arrays_are_locked_while_saved():
    x = x_leaf()
    idx = np.array([0, 0, 1])
    y = ad.sum(x[idx] * np.array([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match=READ_ONLY):
        idx[:] = 1
    y.backward()
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])


def test_locks_are_given_back_when_a_graph_is_dropped_without_backward():
    c = np.array([3.0, 3.0])
    x = x_leaf()
    y = ad.sum(x * c)
    assert not c.flags.writeable and not x.data.flags.writeable
    del y
    gc.collect()
    assert c.flags.writeable and x.data.flags.writeable


def test_an_array_that_was_read_only_stays_read_only():
    c = np.array([3.0, 3.0])
    c.setflags(write=False)
    x = x_leaf()
    ad.sum(x * c).backward()
    assert not c.flags.writeable


# --------------------------------------------------------------- the .data setter
def test_data_setter_refuses_another_shape_or_dtype_while_saved_and_names_the_op():
    x = x_leaf()
    y = ad.sum(x * x)
    with pytest.raises(
        RuntimeError,
        match=r"Tensor\.data: cannot replace this \(2,\) float64 "
        r"array by a \(4,\) float64 one .* multiply",
    ):
        x.data = np.ones(4)
    with pytest.raises(TypeError, match="real floating-point data, got dtype int64"):
        x.data = np.array([1, 2])
    with pytest.raises(RuntimeError, match=r"by a \(2,\) float32 one"):
        x.data = np.ones(2, np.float32)
    y.backward()
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])
    x.data = np.ones(4)  # nothing saves it any more
    assert x.shape == (4,)


def test_same_shape_replacement_keeps_the_recorded_values():
    """A graph differentiates the computation it recorded (as load_state_dict relies on)."""
    x = x_leaf()
    y = ad.sum(x * x)
    x.data = np.array([10.0, 20.0])
    y.backward()
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])


def test_data_of_a_computed_tensor_cannot_be_replaced_while_its_node_lives():
    x = x_leaf()
    h = ad.exp(x)
    with pytest.raises(RuntimeError, match="computed by exp while its graph is alive"):
        h.data = np.zeros(2)


def test_a_gradient_that_no_longer_fits_raises():
    x = x_leaf()
    ad.sum(x * x).backward()
    x.data = np.ones(3)
    with pytest.raises(
        RuntimeError,
        match=r"\.grad has shape \(2,\) but the tensor now has "
        r"shape \(3,\)",
    ):
        ad.sum(x * x).backward()


def test_complex_tensors_cannot_require_grad():
    with pytest.raises(TypeError, match="only real floating-point tensors"):
        ad.tensor([1 + 1j], requires_grad=True)
    with pytest.raises(TypeError, match="real floating point, got dtype complex128"):
        ad.grad(lambda z: ad.sum(z))(np.array([1 + 1j]))


# ---------------------------------------------------------------- the switch
def test_the_guard_can_be_switched_off_per_thread():
    c = np.array([3.0, 3.0])
    x = x_leaf()
    assert ad.is_mutation_guard_enabled()
    with ad.mutation_guard(False):
        assert not ad.is_mutation_guard_enabled()
        y = ad.sum(x * c)
    assert ad.is_mutation_guard_enabled()
    assert c.flags.writeable and x.data.flags.writeable
    c[:] = 0  # allowed, and (as documented) it changes the gradient
    y.backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])


@pytest.mark.parametrize(
    "transform",
    [
        lambda x: ad.grad(lambda w: ad.sum(w * w))(x),
        lambda x: ad.jvp(lambda w: w * w, (x,), (x,)),
        lambda x: ad.hessian(lambda w: ad.sum(w**3))(x),
        lambda x: ad.hvp(lambda w: ad.sum(w**3), (x,), (x,)),
        lambda x: ad.jacobian(lambda w: w * w, mode="fwd")(x),
        lambda x: ad.vjp(lambda w: w * w, x)[1](x),
        lambda x: ad.linearize(lambda w: w * w, x)[1](x),
    ],
)
def test_a_transform_leaves_the_callers_array_writeable_without_a_collector_run(transform):
    """No reference cycle keeps a transform's internal graph (and its locks) alive."""
    x = np.array([1.0, 2.0])
    gc.disable()
    try:
        transform({"w": x}["w"])
        assert x.flags.writeable
    finally:
        gc.enable()


def test_the_primal_of_a_live_vjp_function_is_locked():
    x = np.array([1.0, 2.0])
    out, vjp_fn = ad.vjp(lambda w: w * w, x)
    with pytest.raises(ValueError, match=READ_ONLY):
        x[0] = 5
    np.testing.assert_array_equal(vjp_fn(np.ones(2))[0], [2.0, 4.0])
    del vjp_fn
    x[0] = 5
