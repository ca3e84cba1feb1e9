"""Recording state is per thread: no_grad, transforms and forward-mode levels in one thread
never change what another records.  Real threads, ordered with events and barriers."""

import threading

import numpy as np

import autodiff as ad
import nn
import optim

TIMEOUT = 30


def run_threads(*targets):
    """Run each target in its own thread; re-raise the first exception any of them hit."""
    errors = []

    def guarded(target):
        def body():
            try:
                target()
            except BaseException as e:  # noqa: BLE001 (reported below)
                errors.append(e)

        return body

    threads = [threading.Thread(target=guarded(t)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT)
        assert not t.is_alive(), "a thread did not finish"
    if errors:
        raise errors[0]


def test_no_grad_in_one_thread_does_not_stop_recording_in_another():
    b_inside, a_done = threading.Event(), threading.Event()
    grads = {}

    def thread_a():
        assert b_inside.wait(TIMEOUT)
        x = ad.tensor([1.0, 2.0], requires_grad=True)
        a = ad.sum(x * x)
        b = ad.sum(3 * x)
        (a + b).backward()
        grads["x"] = x.grad
        a_done.set()

    def thread_b():
        with ad.no_grad():
            b_inside.set()
            assert a_done.wait(TIMEOUT)
            assert not ad.is_grad_enabled()
            y = ad.tensor([1.0], requires_grad=True) * 2
            assert not y.requires_grad

    run_threads(thread_a, thread_b)
    np.testing.assert_array_equal(grads["x"], [5.0, 7.0])


def test_interleaved_no_grad_blocks_leave_recording_on():
    """A enters, B enters, A exits, B exits: each thread restores its own switch."""
    steps = [threading.Event() for _ in range(4)]
    after = {}

    def thread_a():
        with ad.no_grad():
            steps[0].set()
            assert steps[1].wait(TIMEOUT)
        after["a"] = ad.is_grad_enabled()
        steps[2].set()

    def thread_b():
        assert steps[0].wait(TIMEOUT)
        with ad.no_grad():
            steps[1].set()
            assert steps[2].wait(TIMEOUT)
        after["b"] = ad.is_grad_enabled()

    run_threads(thread_a, thread_b)
    assert after == {"a": True, "b": True}
    assert ad.is_grad_enabled()
    x = ad.tensor([2.0], requires_grad=True)
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [4.0])


def test_a_new_thread_starts_recording_with_the_guard_on():
    seen = {}

    def child():
        seen["grad"] = ad.is_grad_enabled()
        seen["guard"] = ad.is_mutation_guard_enabled()

    with ad.no_grad(), ad.mutation_guard(False):
        run_threads(child)
    assert seen == {"grad": True, "guard": True}


def test_concurrent_transforms_return_arrays_at_the_top_level():
    """Thread A is inside grad (and inside jvp) while thread B runs grad, jvp and hvp:
    neither sees the other's nesting, so both get plain ndarrays and exact values."""
    a_inside, b_done = threading.Event(), threading.Event()
    results = {}

    def f_a(w):
        a_inside.set()
        assert b_done.wait(TIMEOUT)
        return ad.sum(w**3)

    def thread_a():
        results["grad"] = ad.grad(f_a)(np.array([1.0, 2.0]))
        results["hvp"] = ad.hvp(
            lambda w: ad.sum(w**3), (np.array([1.0, 2.0]),), (np.array([1.0, 1.0]),)
        )

    def thread_b():
        assert a_inside.wait(TIMEOUT)
        x = np.array([1.0, 2.0])
        results["b_grad"] = ad.grad(lambda w: ad.sum(ad.sin(w)))(x)
        results["b_jvp"] = ad.jvp(ad.exp, (x,), (np.ones(2),))
        results["b_hvp"] = ad.hvp(lambda w: ad.sum(w**4), (x,), (np.ones(2),))
        b_done.set()

    run_threads(thread_a, thread_b)
    x = np.array([1.0, 2.0])
    for key in ("grad", "hvp", "b_grad", "b_hvp"):
        assert type(results[key]) is np.ndarray, key
    np.testing.assert_allclose(results["grad"], 3 * x**2)
    np.testing.assert_allclose(results["hvp"], 6 * x)
    np.testing.assert_allclose(results["b_grad"], np.cos(x))
    np.testing.assert_allclose(results["b_jvp"][1], np.exp(x))
    np.testing.assert_allclose(results["b_hvp"], 12 * x**2)


def _train(seed: int, steps: int, barrier: threading.Barrier | None) -> list:
    rng = np.random.default_rng(seed)
    model = nn.Sequential(nn.Linear(4, 8, rng=rng), nn.Tanh(), nn.Linear(8, 3, rng=rng))
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x = rng.normal(size=(16, 4)).astype(np.float32)
    y = rng.integers(0, 3, size=16)
    for _ in range(steps):
        if barrier is not None:
            barrier.wait(TIMEOUT)
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
    return [p.data.copy() for p in model.parameters()]


def test_two_trainers_and_an_evaluator_under_no_grad_equal_running_alone():
    steps = 20
    barrier = threading.Barrier(3)
    together = {}
    evaluated = []
    eval_model = nn.Linear(4, 3, rng=np.random.default_rng(9))

    def trainer(seed):
        def body():
            together[seed] = _train(seed, steps, barrier)

        return body

    def evaluator():
        x = np.ones((2, 4), np.float32)
        for _ in range(steps):
            with ad.no_grad():
                barrier.wait(TIMEOUT)  # the trainers run their step while this is inside
                out = eval_model(x)
                evaluated.append(out.requires_grad)

    run_threads(trainer(0), trainer(1), evaluator)
    assert evaluated == [False] * steps
    for seed in (0, 1):
        alone = _train(seed, steps, None)
        for p_together, p_alone in zip(together[seed], alone, strict=False):
            np.testing.assert_array_equal(p_together, p_alone)
