"""ad.jit: replayed results equal eager ones (bitwise: the same numpy calls run in the
same order), over every transform, random expression graphs and whole training runs; the
cache; and the errors for what a recording cannot replay."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import given, settings

import autodiff as ad
import nn
import nn.functional as F
import optim
from autodiff.testing import strategies as S
from tests.autodiff.helpers import with_another_thread_inside

rng = np.random.default_rng(0)


def _same(got, want):
    got, want = ad.tree_flatten(got)[0], ad.tree_flatten(want)[0]
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=False):
        g = np.asarray(g.data if isinstance(g, ad.Tensor) else g)
        w = np.asarray(w.data if isinstance(w, ad.Tensor) else w)
        assert g.shape == w.shape and g.dtype == w.dtype
        np.testing.assert_array_equal(g, w)


def _compiled_matches_eager(fun, *argsets):
    """Call the compiled fun on each argument set (trace, checked replay, replays) and
    compare every result with fun's own."""
    compiled = ad.jit(fun)
    for args in argsets:
        _same(compiled(*args), fun(*args))
    return compiled


@given(expr=S.expressions())
@settings(max_examples=40)
def test_random_expression_graphs_values_and_gradients(expr):
    f, args, _ = expr

    def value_and_grads(*xs):
        return ad.value_and_grad(lambda *v: ad.sum(f(*v)), argnums=tuple(range(len(xs))))(*xs)

    argsets = [args, [a * 1.3 - 0.1 for a in args], [a * 0.7 for a in args]]
    compiled = _compiled_matches_eager(value_and_grads, *argsets)
    assert compiled.cache_info()["traces"] == 1 and compiled.cache_info()["replays"] == 2


W = rng.normal(size=(4, 3))


def _loss(x, w):
    return ad.sum(ad.tanh(x @ w) ** 2) + ad.sum(ad.clip(w, -0.5, 0.5)) + ad.max(x)


@pytest.mark.parametrize(
    "name, fun",
    [
        ("grad", ad.grad(_loss, (0, 1))),
        ("value_and_grad", ad.value_and_grad(_loss)),
        ("vjp", lambda x, w: ad.vjp(lambda v: ad.tanh(v @ w), x)[1](np.ones((5, 3)))),
        ("jvp", lambda x, w: ad.jvp(lambda v: _loss(v, w), (x,), (x * 0.5,))),
        ("hvp", lambda x, w: ad.hvp(lambda v: _loss(v, w), (x,), (np.ones_like(x),))),
        ("hessian", lambda x, w: ad.hessian(lambda v: _loss(v, w))(x)),
        ("jacrev", lambda x, w: ad.jacrev(lambda v: ad.sin(v @ w))(x)),
        ("linearize", lambda x, w: ad.linearize(lambda v: ad.sin(v @ w), x)[1](x)),
        ("vmap of grad", lambda x, w: ad.vmap(ad.grad(_loss), in_axes=(0, None))(x, w)),
        ("grad of grad", lambda x, w: ad.grad(lambda v: ad.sum(ad.grad(_loss)(v, w) ** 2))(x)),
        (
            "checkpoint",
            ad.grad(lambda x, w: ad.sum(ad.checkpoint(lambda a, b: ad.tanh(a @ b))(x, w))),
        ),
        ("argmax and comparisons", lambda x, w: ad.take(ad.where(x > 0, x, -x), x.argmax())),
        (
            "conv and pooling",
            ad.grad(
                lambda x, w: ad.sum(
                    ad.max_pool2d(
                        ad.conv2d(
                            ad.reshape(x, (1, 1, 5, 4)),
                            ad.reshape(w[:3, :2], (2, 1, 3, 1)),
                            padding=1,
                        ),
                        2,
                    )
                    ** 2
                )
            ),
        ),
    ],
)
def test_every_transform_compiles(name, fun):
    x = rng.normal(size=(5, 4))
    _compiled_matches_eager(fun, (x, W), (x * 1.5, W * 0.5), (-x, W))


def test_user_primitives_compile():
    @ad.primitive
    def softsign(x):
        return x / (1 + np.abs(x))

    softsign.defvjp(lambda g, ans, x: g / (1 + ad.abs(x)) ** 2)
    softsign.defjvp(lambda t, ans, x: t / (1 + ad.abs(x)) ** 2)
    fun = ad.value_and_grad(lambda x: ad.sum(softsign(x) ** 2))
    x = rng.normal(size=6)
    _compiled_matches_eager(fun, (x,), (x * 3,), (x - 1,))


def _mlp(seed):
    return nn.Sequential(nn.Linear(20, 16, rng=seed), nn.Tanh(), nn.Linear(16, 4, rng=seed + 1))


def _cnn(seed):
    r = np.random.default_rng(seed)  # dropout masks are drawn again at every replay
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1, rng=r),
        nn.ReLU(),
        nn.Dropout2d(0.2, rng=r),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Dropout(0.5, rng=r),
        nn.Linear(4 * 4 * 4, 3, rng=r),
    )


@pytest.mark.parametrize("make, shape, classes", [(_mlp, (8, 20), 4), (_cnn, (8, 1, 8, 8), 3)])
@pytest.mark.parametrize(
    "opt", [lambda p: optim.SGD(p, lr=0.05, momentum=0.9), lambda p: optim.Adam(p, lr=1e-2)]
)
def test_200_compiled_training_steps_track_eager_exactly(make, shape, classes, opt):
    data = np.random.default_rng(1)
    xs = data.random((200,) + shape, dtype=np.float32)
    ys = data.integers(0, classes, (200, shape[0]))
    eager_model, compiled_model = make(0), make(0)
    eager_opt, compiled_opt = opt(eager_model.parameters()), opt(compiled_model.parameters())
    step = optim.compile_step(lambda x, y: F.cross_entropy(compiled_model(x), y), compiled_opt)
    for x, y in zip(xs, ys, strict=False):
        loss = step(x, y)
        eager_opt.zero_grad()
        eager_loss = F.cross_entropy(eager_model(x), y)
        eager_loss.backward()
        eager_opt.step()
        assert loss.item() == eager_loss.item()
    for p, q in zip(compiled_model.parameters(), eager_model.parameters(), strict=False):
        np.testing.assert_array_equal(p.data, q.data)
        np.testing.assert_array_equal(p.grad, q.grad)
    assert step.cache_info()["traces"] == 1 and step.cache_info()["replays"] == 199


def test_closed_over_parameters_are_read_at_every_call():
    w = ad.tensor(rng.normal(size=3), requires_grad=True)
    compiled = ad.jit(lambda x: ad.sum(w * x))
    x = np.ones(3)
    compiled(x)
    compiled(x)  # the checked replay
    w.data = w.data * 2  # a new array in the same parameter
    np.testing.assert_allclose(compiled(x), ad.sum(w * x).data)


def test_signatures_and_the_cache():
    compiled = ad.jit(lambda x, n: ad.sum(x**n), static_argnums=1, max_cache=2)
    compiled(np.ones(3), 2)
    compiled(np.ones(3), 2)
    compiled(np.ones(4), 2)  # a new shape traces again
    compiled(np.ones(3), 3)  # so does a new static value
    info = compiled.cache_info()
    assert info == {"signatures": 2, "max_cache": 2, "traces": 3, "replays": 1}
    compiled(np.ones(3, np.float32), 2)  # and a new dtype
    assert compiled.cache_info()["traces"] == 4
    compiled.cache_clear()
    assert compiled.cache_info()["signatures"] == 0
    # least recently used goes first: a replay of (3,) keeps it, (4,) is dropped for (5,)
    for n in (3, 4, 3, 5, 3):
        compiled(np.ones(n), 2)
    assert compiled.cache_info()["traces"] == 4 + 3
    compiled(np.ones(4), 2)
    assert compiled.cache_info()["traces"] == 4 + 4
    # pytrees in and out, keyword arguments
    fun = ad.jit(lambda p, *, x: {"out": ad.sum(p["a"] * x), "b": p["b"] + 1})
    params = {"a": np.ones(2), "b": np.zeros(2)}
    for _ in range(3):
        out = fun(params, x=np.arange(2.0))
    assert float(out["out"]) == 1.0 and np.array_equal(out["b"], np.ones(2))


@pytest.mark.parametrize(
    "body, what",
    [
        (lambda x: x if ad.sum(x) > 0 else -x, "Python bool"),
        (lambda x: x * float(ad.sum(x)), "Python float"),
        (lambda x: x * ad.sum(x).item(), r"\.item\(\)"),
    ],
)
def test_python_decisions_on_traced_values_raise(body, what):
    with pytest.raises(TypeError, match=f"(?s){what}.*static_argnums.*ad.where"):
        ad.jit(body)(np.ones(3))


def test_what_a_recording_cannot_replay_is_caught_on_the_second_call():
    noise = np.random.default_rng(3)
    compiled = ad.jit(lambda x: ad.sum(x * noise.random(3)))
    compiled(np.ones(3))
    with pytest.raises(RuntimeError, match="random numbers drawn inside the function"):
        compiled(np.ones(3))
    # an optimizer step inside the compiled function (numpy on .grad and .data)
    model = nn.Linear(3, 1, rng=0)
    opt = optim.SGD(model.parameters(), lr=0.1)

    def whole_step(x):
        opt.zero_grad()
        loss = ad.sum(model(x) ** 2)
        loss.backward()
        opt.step()
        return loss

    compiled = ad.jit(whole_step)
    compiled(np.ones((2, 3), np.float32))
    with pytest.raises(RuntimeError, match="optim.compile_step"):
        compiled(np.ones((2, 3), np.float32))


def test_disable_jit_runs_the_function_as_written():
    calls = []

    def f(x):
        calls.append(1)
        return x * 2 if ad.sum(x) > 0 else -x  # a Python decision on a value

    compiled = ad.jit(f)
    with ad.disable_jit():
        np.testing.assert_array_equal(compiled(np.ones(3)).data, 2 * np.ones(3))
        np.testing.assert_array_equal(compiled(-np.ones(3)).data, np.ones(3))
        assert compiled.cache_info()["traces"] == 0 and len(calls) == 2
        with ad.disable_jit(False):  # nested: compiled again, so the decision raises
            with pytest.raises(TypeError, match="Python bool"):
                compiled(np.ones(3))
    with pytest.raises(TypeError, match="Python bool"):
        compiled(np.ones(3))
    # a compiled training step, eager inside the block, gives the compiled step's numbers
    model, opt, x, y = _tiny_regression()
    model2, opt2, _, _ = _tiny_regression()
    step = optim.compile_step(lambda x, y: ad.mean((model(x) - y) ** 2), opt)
    step2 = optim.compile_step(lambda x, y: ad.mean((model2(x) - y) ** 2), opt2)
    for i in range(4):
        step(x, y)
        with ad.disable_jit(i % 2 == 0):
            step2(x, y)
    assert step.cache_info()["replays"] == 3 and step2.cache_info()["replays"] == 1
    for p, q in zip(model.parameters(), model2.parameters(), strict=True):
        np.testing.assert_array_equal(p.data, q.data)


def test_disable_jit_is_per_thread():
    compiled = ad.jit(lambda x: ad.exp(x))
    with ad.disable_jit():
        _, _, value = with_another_thread_inside(
            ad.grad, np.zeros(()), lambda: compiled(np.zeros(2))
        )
    np.testing.assert_array_equal(value, np.ones(2))
    assert compiled.cache_info()["traces"] == 1  # the other thread compiled it


def test_disable_jit_from_the_environment():
    import subprocess
    import sys

    code = (
        "import numpy as np, autodiff as ad\n"
        "f = ad.jit(lambda x: x * 2 if ad.sum(x) > 0 else -x)\n"
        "f(np.ones(2)); f(np.ones(2))\n"
        "print(f.cache_info()['traces'])\n"
    )
    for value, traces in (("1", "0"), ("0", None), ("false", None)):
        env = {**os.environ, "AUTODIFF_DISABLE_JIT": value}
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
        if traces is None:  # compiled: the Python decision raises while tracing
            assert done.returncode != 0 and "Python bool" in done.stderr
        else:
            assert done.returncode == 0 and done.stdout.strip() == traces


def _tiny_regression():
    model = nn.Linear(3, 1, rng=0)
    rng = np.random.default_rng(1)
    x, y = rng.random((8, 3), dtype=np.float32), rng.random((8, 1), dtype=np.float32)
    return model, optim.SGD(model.parameters(), lr=0.1, momentum=0.9), x, y


def test_tracing_is_per_thread():
    compiled, _, value = with_another_thread_inside(
        ad.jit, np.ones(2), lambda: ad.exp(ad.tensor(np.zeros(2))).data
    )
    assert np.array_equal(value, np.ones(2))  # not recorded into the trace
    np.testing.assert_array_equal(compiled(np.zeros(2)), np.zeros(2))


def test_parameters_and_namedtuples_are_keyed_by_shape_not_identity():
    import collections

    import nn

    pair = collections.namedtuple("pair", "w b")
    x = np.ones((2, 3))
    f = ad.jit(lambda p, x: ad.sum(ad.linear(x, p.w, p.b)))
    for scale in (1.0, 2.0, 3.0):  # a namedtuple of arrays is a pytree argument
        assert f(pair(np.full((4, 3), scale), np.zeros(4)), x) == 24.0 * scale
    assert f.cache_info()["traces"] == 1
    g = ad.jit(lambda w, x: ad.sum(x @ w.T))
    first, second = nn.Linear(3, 4), nn.Linear(3, 4)
    for layer in (first, first, second, second):  # Parameters: one signature, by shape
        np.testing.assert_array_equal(g(layer.weight, x).data, np.sum(x @ layer.weight.data.T))
    assert g.cache_info()["traces"] == 1


# ---------------------------------------------------------- the replay's optimizations
def _chain(x):
    for _ in range(3):
        x = ad.tanh(x * 1.01 + 0.1)
        x = x * x
    return ad.sum(x)


def _python_calls(fn, *args):
    """The Python functions (file, name) that run during fn(*args)."""
    import sys

    seen = []

    def profile(frame, event, arg):
        if event == "call":
            seen.append((frame.f_code.co_filename, frame.f_code.co_name))

    sys.setprofile(profile)
    try:
        fn(*args)
    finally:
        sys.setprofile(None)
    return seen


def test_elementwise_rules_become_the_programs_own_ufunc_calls():
    compiled = _compiled_matches_eager(
        ad.grad(_chain), (rng.normal(size=7),), (rng.normal(size=7),), (np.zeros(7),)
    )
    eager_rules = [c for c in _python_calls(ad.grad(_chain), np.ones(7)) if "ops" in c[0]]
    assert len(eager_rules) > 20  # the derivative rules and forwards of autodiff/ops
    replay_calls = _python_calls(compiled, np.ones(7))
    elementwise = [c for c in replay_calls if c[0].endswith("elementwise.py")]
    assert elementwise == []  # tanh's, multiply's and add's rules: inlined ufunc calls
    (source,) = compiled.sources()
    # most calls write into an operand that dies there: `name(rA, rB, rA)`
    assert sum(line.count("(") == 1 and line.count(", ") == 2 for line in source.split("\n")) > 15


def test_merged_and_overwritten_arrays_are_never_seen_twice():
    def f(x, y):
        a, b = x * y, y * x  # the same call twice, both returned: two arrays
        c = ad.exp(a)  # a is returned, so c must not overwrite it
        return a, b, c, ad.sum(c * c)

    compiled = ad.jit(f)
    x, y = rng.normal(size=5), rng.normal(size=5)
    for _ in range(3):
        a, b, c, s = compiled(x, y)
        assert a is not b and not np.shares_memory(a, b) and not np.shares_memory(a, c)
        np.testing.assert_array_equal(a, x * y)
        np.testing.assert_array_equal(c, np.exp(x * y))


def test_gradients_of_equal_expressions_stay_separate_arrays():
    p, q = ad.tensor(rng.normal(size=4), requires_grad=True), ad.tensor(np.ones(4), True)

    def step(x):
        loss = ad.sum(p * x) + ad.sum(q * x)  # both gradients are x * 1: one expression
        loss.backward()
        return loss

    compiled = ad.jit(step)
    for _ in range(3):
        p.grad = q.grad = None
        compiled(np.arange(4.0))
        assert p.grad is not q.grad and not np.shares_memory(p.grad, q.grad)
        p.grad += 1  # a user writing into one gradient leaves the other alone
        np.testing.assert_array_equal(q.grad, np.arange(4.0))


def test_python_numbers_keep_float32_and_the_sign_of_zero():
    def f(x):
        return x * 0.0, x * -0.0, x * 1.01 + 3, 2 - x

    x = rng.normal(size=6).astype(np.float32)
    compiled = _compiled_matches_eager(f, (x,), (x * 2,), (-x,))
    for got, want in zip(compiled(-x), f(-x), strict=True):
        assert got.dtype == np.float32
        np.testing.assert_array_equal(np.signbit(got), np.signbit(want))


def test_rules_that_a_symbolic_array_cannot_follow_are_called_whole():
    @ad.primitive
    def scaled(x):
        return x * 2.0

    def vjp(g, ans, x):
        if float(np.max(np.abs(x))) > 1.0:  # a decision on values: made again per replay
            return g * 2.0
        out = g.copy()  # a method, then writing in place
        out *= 2.0
        return out

    scaled.defvjp(vjp)
    scaled.defjvp(lambda t, ans, x: t * 2.0)
    fun = ad.grad(lambda x: ad.sum(scaled(x) * x))
    small, large = np.full(3, 0.5), np.full(3, 4.0)
    _compiled_matches_eager(fun, (small,), (large,), (small,), (large,))


def test_zero_dimensional_values_and_numpys_scalar_singletons():
    fun = ad.value_and_grad(lambda x: ad.maximum(x, x) + ad.where(x > 0, x, 0 * x) * (x == x))
    _compiled_matches_eager(fun, (np.array(0.0),), (np.array(2.0),), (np.array(-1.0),))


def test_a_compiled_function_runs_in_several_threads_at_once():
    import threading

    compiled = ad.jit(ad.grad(_chain))
    inputs = [rng.normal(size=64) for _ in range(4)]
    expected = [ad.grad(_chain)(x) for x in inputs]
    compiled(inputs[0]), compiled(inputs[0])  # traced and checked
    failures = []

    def work(k):
        for _ in range(200):
            got = compiled(inputs[k])
            if not np.array_equal(got, expected[k]):
                failures.append(k)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures


def test_memory_layout_is_part_of_the_signature():
    # writing into dead operands keeps an operand's layout: a transposed input traces anew,
    # so its reductions add in the same order as the eager call's
    fun = ad.grad(lambda x: ad.sum(ad.sum(ad.tanh(x * 1.5) * x, axis=0) ** 2))
    x = rng.normal(size=(6, 5))
    columns = np.asfortranarray(x * 0.5)
    compiled = _compiled_matches_eager(fun, (x,), (x * 2,), (columns,), (columns * 3,))
    assert compiled.cache_info()["traces"] == 2


def test_inlined_rules_find_their_operands_when_numpy_returns_one_object_twice():
    # on 0-d operands comparisons return numpy's bool singletons: np.True_ twice
    @ad.primitive
    def same_value(x):
        return x * 1.0

    same_value.defvjp(lambda g, ans, x: g * (x > 0.0) + g * (x < 1.0))
    same_value.defjvp(lambda t, ans, x: t)
    fun = ad.grad(same_value)
    _compiled_matches_eager(fun, *[(np.array(v),) for v in (0.5, 0.25, 2.0, -1.0, 3.0)])


def test_python_numbers_stay_python_numbers_where_numpy_has_no_loop_for_the_dtype():
    @ad.primitive
    def times8(x):
        return np.ldexp(x, 3)  # ldexp(float, int): no float-exponent loop

    times8.defvjp(lambda g, ans, x: np.ldexp(g, 3))
    times8.defjvp(lambda t, ans, x: np.ldexp(t, 3))
    fun = ad.value_and_grad(lambda x: ad.sum(times8(x) * x))
    _compiled_matches_eager(fun, (np.arange(3.0),), (np.ones(3),), (-np.arange(3.0),))


def test_rules_that_act_on_floating_point_errors_are_called_whole():
    @ad.primitive
    def inverse(x):
        with np.errstate(divide="ignore"):
            return 1.0 / x

    def vjp(g, ans, x):
        try:
            with np.errstate(divide="raise"):
                return -g / (x * x)
        except FloatingPointError:  # a decision on values, made again at every replay
            return g * 0.0

    inverse.defvjp(vjp)
    inverse.defjvp(lambda t, ans, x: t)
    fun = ad.grad(lambda x: ad.sum(inverse(x)))
    _compiled_matches_eager(fun, (np.array([1.0, 2.0]),), (np.array([3.0, 4.0]),), (np.zeros(2),))


def test_common_calls_keep_their_operands_order():
    # complex x * y and y * x differ in the last bit; so do the signs of nan + -nan
    def f(x, y):
        return ad.exp(x * y), ad.exp(y * x), -(x + y), -(y + x)

    x = rng.normal(size=8) + 1j * rng.normal(size=8)
    y = rng.normal(size=8) + 1j * rng.normal(size=8)
    compiled = _compiled_matches_eager(f, (x, y), (y, x), (x * 3, y))
    nan = np.array([np.nan, -np.nan, 1.0])
    for got, want in zip(compiled(nan + 0j, -nan + 0j), f(nan + 0j, -nan + 0j), strict=True):
        assert got.tobytes() == want.tobytes()


def test_a_rule_declared_replayed_reads_python_state_at_every_replay():
    class Config:
        scale = 1.0

    @ad.primitive
    def reverse_gradient(x):
        return x * 1.0

    reverse_gradient.defvjp(ad.replayed(lambda g, ans, x: -Config.scale * g))
    reverse_gradient.defjvp(lambda t, ans, x: t)
    fun = ad.grad(lambda x: ad.sum(reverse_gradient(x) * x))
    compiled = ad.jit(fun)
    x = np.arange(3.0)
    for scale in (1.0, 1.0, 0.5, 0.0):
        Config.scale = scale
        np.testing.assert_array_equal(compiled(x), fun(x))


def test_a_closed_over_parameter_with_a_new_dtype_or_layout_traces_anew():
    w = ad.tensor(rng.normal(size=(6, 4)), requires_grad=True)
    fun = ad.grad(lambda x: ad.sum(ad.sum(ad.tanh(w * 2.0 + x), axis=1) ** 2))
    compiled = ad.jit(fun)
    x = rng.normal(size=(6, 4))
    for data in (w.data, w.data * 0.5, np.asfortranarray(w.data), w.data.astype(np.float32)):
        w.data = data
        for _ in range(3):
            got, want = compiled(x), fun(x)
            assert got.dtype == want.dtype and got.tobytes() == want.tobytes()
    assert compiled.cache_info()["traces"] == 3


def test_a_forward_that_silences_floating_point_warnings_keeps_them_silent():
    import warnings

    @ad.primitive
    def inverse(x):
        with np.errstate(divide="ignore"):
            return 1.0 / x

    inverse.defvjp(lambda g, ans, x: -g * ans * ans)
    inverse.defjvp(lambda t, ans, x: -t * ans * ans)
    compiled = ad.jit(lambda x: inverse(x))
    for x in (np.array([1.0, 2.0]), np.array([3.0, 4.0])):
        compiled(x)  # traced and checked without a zero
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a warning here would raise
        np.testing.assert_array_equal(compiled(np.zeros(2)), np.full(2, np.inf))


def test_a_forward_that_handles_warnings_itself_is_called_whole():
    import warnings

    @ad.primitive
    def safe_reciprocal(x):
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            try:
                return np.reciprocal(x)
            except RuntimeWarning:  # a decision on values, made again at every replay
                return np.zeros_like(x)

    safe_reciprocal.defvjp(lambda g, ans, x: -g * ans * ans)
    safe_reciprocal.defjvp(lambda t, ans, x: -t * ans * ans)
    _compiled_matches_eager(safe_reciprocal, (np.array([1.0, 2.0]),), (np.array([4.0, 2.0]),))
    compiled = ad.jit(safe_reciprocal)
    compiled(np.ones(2)), compiled(np.ones(2))
    np.testing.assert_array_equal(compiled(np.array([0.0, 2.0])), [0.0, 0.0])


def test_a_replayed_helper_inside_a_rule_is_called_at_every_replay():
    scale = {"s": 1.0}

    @ad.replayed
    def scaled(g):
        return g * scale["s"]

    @ad.primitive
    def sine(x):
        return np.sin(x)

    sine.defvjp(lambda g, ans, x: scaled(g) * np.cos(x))
    sine.defjvp(lambda t, ans, x: t * np.cos(x))
    fun = ad.grad(lambda x: ad.sum(sine(x)))
    compiled = ad.jit(fun)
    x = np.array([0.1, 0.2])
    for s in (1.0, 1.0, 2.0, -1.0):
        scale["s"] = s
        np.testing.assert_array_equal(compiled(x), fun(x))


def test_freezing_a_closed_over_parameter_traces_anew():
    model = _mlp(0)
    opt = optim.SGD(model.parameters(), lr=0.1)
    twin = _mlp(0)
    twin_opt = optim.SGD(twin.parameters(), lr=0.1)
    x, y = rng.normal(size=(8, 20)).astype(np.float32), rng.integers(0, 4, 8)
    step = optim.compile_step(lambda x, y: F.cross_entropy(model(x), y), opt)
    for i in range(5):
        if i == 2:  # fine-tuning: freeze the first layer in both
            for p in (*model[0].parameters(), *twin[0].parameters()):
                p.requires_grad = False
        step(x, y)
        twin_opt.zero_grad()
        F.cross_entropy(twin(x), y).backward()
        twin_opt.step()
        for p, q in zip(model.parameters(), twin.parameters(), strict=True):
            np.testing.assert_array_equal(p.data, q.data)


def test_python_numbers_that_overflow_the_dtype_stay_python_numbers():
    x = np.ones(3, np.float32)
    compiled = ad.jit(lambda x: x * 1e300)
    with np.errstate(over="ignore"):
        compiled(x), compiled(x)
    with np.errstate(over="raise"), pytest.raises(FloatingPointError):
        compiled(x)  # numpy's cast of 1e300 to float32 overflows at every call, as eager


def test_comparisons_under_vmap_are_recorded():
    for fun in (
        ad.vmap(lambda x: ad.where(x > 0, x, 2 * x)),
        ad.vmap(ad.relu),
        ad.vmap(ad.grad(lambda x: ad.sum(ad.maximum(x, 0.5 * x)))),
    ):
        ones = np.ones((3, 2))
        _compiled_matches_eager(fun, (ones,), (ones,), (-2 * ones,), (rng.normal(size=(3, 2)),))


def test_random_draws_nobody_reads_are_still_drawn():
    r_eager, r_compiled = np.random.default_rng(5), np.random.default_rng(5)

    def make(r):
        def f(x):
            kept = F.dropout(x, 0.5, rng=r)
            F.dropout(x, 0.5, rng=r)  # unused, but it advances the Generator
            return kept

        return f

    eager, compiled = make(r_eager), ad.jit(make(r_compiled))
    x = np.ones(6)
    for _ in range(5):
        np.testing.assert_array_equal(compiled(x), eager(x))


def test_a_leafs_grad_returned_from_inside_is_what_backward_left_there():
    p = ad.tensor(np.arange(3.0), requires_grad=True)

    def f(x):
        ad.sum(p * x).backward()
        return p.grad

    compiled = ad.jit(f)
    for zero in (True, True, False, False):
        if zero:
            p.grad = None
        got = compiled(np.ones(3))
        assert got is p.grad
        want = p.grad.copy()
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(p.grad, [3.0, 3.0, 3.0])


def _vmap_xent(logits, labels):
    return ad.vmap(lambda z, y: ad.softmax_cross_entropy(z, y))(logits, labels)


def _with_weights(loss):
    return lambda x, y: loss(x, y, weight=np.array([1.0, 10.0, 2.0]))


# numpy work on traced values that used to escape the recording (frozen at trace time)
@pytest.mark.parametrize(
    "name, fun, make",
    [
        ("vmap argmax", ad.vmap(lambda x: x.argmax()), lambda r: (r.normal(size=(3, 4)),)),
        (
            "vmap gather",
            ad.vmap(lambda x, i: x[i]),
            lambda r: (r.normal(size=(3, 4)), r.integers(0, 4, 3)),
        ),
        ("vmap labels", _vmap_xent, lambda r: (r.normal(size=(2, 3, 4)), r.integers(0, 4, (2, 3)))),
        ("np.greater", lambda x: x * np.greater(x, 0), lambda r: (r.normal(size=5),)),
        ("ad.tensor", lambda x: ad.tensor(x) * 2.0, lambda r: (r.normal(size=5),)),
        (
            "huber",
            ad.value_and_grad(nn.losses.huber_loss),
            lambda r: (3 * r.normal(size=6), np.zeros(6)),
        ),
        (
            "weighted nll",
            _with_weights(nn.losses.nll_loss),
            lambda r: (r.normal(size=(5, 3)), r.integers(0, 3, 5)),
        ),
        (
            "weighted cross-entropy",
            ad.grad(_with_weights(nn.losses.cross_entropy)),
            lambda r: (r.normal(size=(5, 3)), r.integers(0, 3, 5)),
        ),
        (
            "embedding padding",
            ad.grad(lambda w, i: ad.sum(F.embedding(i, w, padding_idx=0))),
            lambda r: (r.normal(size=(4, 2)), r.integers(0, 3, 5)),
        ),
    ],
)
def test_numpy_on_traced_values_is_recorded(name, fun, make):
    argsets = [make(np.random.default_rng(seed)) for seed in (0, 0, 1, 2, 3)]
    _compiled_matches_eager(fun, *argsets)


def test_boolean_masks_of_traced_values_raise_while_tracing():
    with pytest.raises(TypeError, match="traced boolean mask.*ad.where"):
        ad.jit(lambda x: x[x > 0].mean())(np.array([1.0, -1.0, 2.0]))


def test_batch_norm_statistics_are_updated_and_read_at_every_replay():
    layer, twin = nn.BatchNorm1d(3), nn.BatchNorm1d(3)
    train = ad.jit(lambda x: layer(x))
    for seed in range(4):
        x = np.random.default_rng(seed).normal(size=(6, 3))
        np.testing.assert_array_equal(train(x).data, twin(x).data)
        np.testing.assert_array_equal(layer.running_mean, twin.running_mean)
        np.testing.assert_array_equal(layer.running_var, twin.running_var)
    layer.eval(), twin.eval()
    evaluate = ad.jit(lambda x: layer(x))
    for seed in range(3):
        x = np.random.default_rng(seed).normal(size=(6, 3))
        np.testing.assert_array_equal(evaluate(x).data, twin(x).data)
        layer.running_mean += 1.0  # changed between calls: read again by the replay
        twin.running_mean += 1.0


def test_batch_norm_cumulative_average_counts_every_replayed_batch():
    layer, twin = nn.BatchNorm1d(3, momentum=None), nn.BatchNorm1d(3, momentum=None)
    train = ad.jit(lambda x: layer(x))
    for seed in range(5):
        x = np.random.default_rng(seed).normal(size=(6, 3))
        np.testing.assert_array_equal(train(x).data, twin(x).data)
        assert int(layer.num_batches_tracked) == int(twin.num_batches_tracked) == seed + 1
        np.testing.assert_array_equal(layer.running_mean, twin.running_mean)
        np.testing.assert_array_equal(layer.running_var, twin.running_var)
