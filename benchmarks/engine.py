"""Engine benchmark: autodiff against the same computation hand-written in numpy.

    python -m benchmarks.engine [--quick] [--repeats R]

Both versions run in one process, interleaved, and the table reports medians.  Unless
--no-mallopt is given, glibc is told to keep freed memory (autodiff.testing.timing.tune_malloc),
for both versions alike, so large temporaries are not unmapped and faulted in again:

1. one SGD step of a 784-200-10 ReLU MLP with softmax cross-entropy, float32, at batch
   1, 16, 128 and 1024, written as a PyTorch user would (ad.linear and
   ad.softmax_cross_entropy, the fused primitives nn.Linear and nn.functional.cross_entropy
   use) and, for comparison, composed from the smaller primitives;
2. per-op cost: a chain of 100 small elementwise ops on a 10-element vector, forward
   plus backward, in microseconds per op;
3. the cheap-gradient ratio time(gradient) / time(function) for the trace function f of
   002_34d55ca37461e66e.txt section 5 over 10^6 float64 pairs, summed;
4. one SGD step of batch-1 multinomial logistic regression (784 -> 10), float32;
5. forward mode: time(jvp) / time(f) and time(hvp) / time(f) for the trace function and
   for the batch-128 MLP loss;
6. Jacobian cost, forward vs reverse mode, as input and output dimensions vary;
7. the mutation guard's cost: the batch-1 MLP step and the op chain with it on and off;
8. ad.checkpoint's memory saving: peak traced memory of a deep MLP's forward and backward;
9. per-example gradients at batch 128: ad.vmap(ad.grad(loss)) against a Python loop of
   ad.grad over the examples (stacked), for logistic regression 784 -> 10 and the
   784-200-10 MLP, beside the time of merely writing that many gradient arrays.
"""

from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Callable

import numpy as np

import autodiff as ad
from autodiff.testing.timing import interleaved_medians, tune_malloc


def interleaved(fns: list[Callable], number: int, repeats: int) -> list[float]:
    """Median wall-clock seconds per call of each function over `repeats` interleaved
    rounds of `number` calls each, so that machine noise hits all of them alike."""
    return interleaved_medians(fns, repeats=repeats, number=number, clock=time.perf_counter)


def compare(
    engine: Callable, reference: Callable, number: int, repeats: int
) -> tuple[float, float]:
    """Median seconds per call of `engine` and `reference`, measured interleaved."""
    e, r = interleaved([engine, reference], number, repeats)
    return e, r


# ------------------------------------------------------------------------ MLP
def _mlp_params(rng, dtype=np.float32):
    return [
        (rng.standard_normal((784, 200)) * 0.05).astype(dtype),
        np.zeros(200, dtype),
        (rng.standard_normal((200, 10)) * 0.05).astype(dtype),
        np.zeros(10, dtype),
    ]


def _mlp_batch(batch: int, seed: int) -> tuple:
    """The MLP benchmark's batch (x, labels, one-hot labels) and initial weights (in, out)."""
    rng = np.random.default_rng(seed)
    x = rng.random((batch, 784), dtype=np.float32)
    labels = rng.integers(0, 10, batch)
    onehot = np.eye(10, dtype=np.float32)[labels]
    return x, labels, onehot, _mlp_params(np.random.default_rng(seed))


def mlp_steps(
    batch: int,
    lr: float = 0.01,
    seed: int = 0,
    composed: bool = False,
    guard: bool = True,
    compiled: bool = False,
):
    """(engine step, numpy step) closures for one SGD step of the 784-200-10 MLP.

    The engine step is written as a PyTorch user would (ad.linear, ad.softmax_cross_entropy:
    what nn.Linear and nn.functional.cross_entropy use); `composed=True` spells the same
    math with the smaller primitives instead (matmul, add, log_softmax, multiply, sum).
    `guard=False` runs the engine step with the mutation guard off; `compiled=True` runs
    the forward and backward as one ad.jit program (the update stays the same)."""
    x, labels, onehot, (w1n, b1n, w2n, b2n) = _mlp_batch(batch, seed)
    if composed:
        params = [ad.tensor(p, requires_grad=True) for p in (w1n, b1n, w2n, b2n)]
    else:  # nn.Linear's (out, in) weight layout
        params = [
            ad.tensor(np.ascontiguousarray(p), requires_grad=True) for p in (w1n.T, b1n, w2n.T, b2n)
        ]
    scale = np.float32(1.0 / batch)

    def forward(x, labels, onehot):
        w1, b1, w2, b2 = params
        if composed:
            h = ad.relu(x @ w1 + b1)
            return -ad.sum(ad.log_softmax(h @ w2 + b2) * onehot) * scale
        h = ad.relu(ad.linear(x, w1, b1))
        return ad.softmax_cross_entropy(ad.linear(h, w2, b2), labels)

    def forward_backward(x, labels, onehot):
        if guard:
            loss = forward(x, labels, onehot)
        else:
            with ad.mutation_guard(False):
                loss = forward(x, labels, onehot)
        loss.backward()
        return loss

    run = ad.jit(forward_backward) if compiled else forward_backward

    def engine():
        loss = run(x, labels, onehot)
        for p in params:
            p.data -= lr * p.grad
            p.grad = None
        return loss

    return engine, numpy_mlp_step(batch, lr, seed)


def numpy_mlp_step(batch: int, lr: float = 0.01, seed: int = 0, out_in: bool = False) -> Callable:
    """mlp_steps' SGD step hand-written in numpy (same data and initial weights). The
    weights are stored (in, out), or with `out_in=True` as nn.Linear and ad.linear store
    them, (out, in), as the engine steps do: at small batches OpenBLAS's x @ W.T (weights
    read transposed) is slower than x @ W, so that baseline separates the cost of the
    layout from the engine's own."""
    x, labels, onehot, (w1, b1, w2, b2) = _mlp_batch(batch, seed)
    if out_in:
        w1, w2 = np.ascontiguousarray(w1.T), np.ascontiguousarray(w2.T)
    scale = np.float32(1.0 / batch)

    def numpy_step():
        z = (np.dot(x, w1.T) if out_in else x @ w1) + b1
        h = np.maximum(z, 0)
        logits = (np.dot(h, w2.T) if out_in else h @ w2) + b2
        shifted = logits - logits.max(axis=1, keepdims=True)
        e = np.exp(shifted)
        s = e.sum(axis=1, keepdims=True)
        loss = -np.sum((shifted - np.log(s)) * onehot) * scale
        dlogits = (e / s - onehot) * scale
        dw2 = np.dot(dlogits.T, h) if out_in else np.dot(h.T, dlogits)
        db2 = dlogits.sum(axis=0)
        dh = np.dot(dlogits, w2) if out_in else np.dot(dlogits, w2.T)
        dz = np.where(z > 0, dh, 0)
        dw1 = np.dot(dz.T, x) if out_in else np.dot(x.T, dz)
        db1 = dz.sum(axis=0)
        w1.__isub__(lr * dw1)
        b1.__isub__(lr * db1)
        w2.__isub__(lr * dw2)
        b2.__isub__(lr * db2)
        return loss

    return numpy_step


def logreg_steps(lr: float = 0.01, seed: int = 0, composed: bool = False, compiled: bool = False):
    """(engine step, numpy step) for batch-1 multinomial logistic regression 784 -> 10
    (engine written with ad.linear and ad.softmax_cross_entropy, or `composed`; with
    `compiled`, forward and backward are one ad.jit program)."""
    rng = np.random.default_rng(seed)
    x = rng.random((1, 784), dtype=np.float32)
    labels = np.array([3])
    onehot = np.eye(10, dtype=np.float32)[labels]
    w = ad.tensor(np.zeros((784, 10) if composed else (10, 784), np.float32), requires_grad=True)
    b = ad.tensor(np.zeros(10, np.float32), requires_grad=True)
    wn, bn = np.zeros((784, 10), np.float32), np.zeros(10, np.float32)

    def forward_backward(x, labels, onehot):
        if composed:
            loss = -ad.sum(ad.log_softmax(x @ w + b) * onehot)
        else:
            loss = ad.softmax_cross_entropy(ad.linear(x, w, b), labels)
        loss.backward()
        return loss

    run = ad.jit(forward_backward) if compiled else forward_backward

    def engine():
        loss = run(x, labels, onehot)
        for p in (w, b):
            p.data -= lr * p.grad
            p.grad = None
        return loss

    def numpy_step():
        logits = x @ wn + bn
        shifted = logits - logits.max(axis=1, keepdims=True)
        e = np.exp(shifted)
        s = e.sum(axis=1, keepdims=True)
        loss = -np.sum((shifted - np.log(s)) * onehot)
        d = e / s - onehot
        wn.__isub__(lr * np.dot(x.T, d))
        bn.__isub__(lr * d.sum(axis=0))
        return loss

    return engine, numpy_step


def functional_step(batch: int | None, lr: float = 0.01, seed: int = 0):
    """A whole SGD step (forward, backward and update) written functionally and compiled as
    one ad.jit program, as a JAX user writes it: parameters in, (loss, new parameters)
    out.  batch=None: the batch-1 logistic regression 784 -> 10 of logreg_steps; else the
    784-200-10 MLP of mlp_steps at that batch size (same data and initial weights)."""
    rng = np.random.default_rng(seed)
    if batch is None:
        x = rng.random((1, 784), dtype=np.float32)
        labels = np.array([3])
        params = [np.zeros((10, 784), np.float32), np.zeros(10, np.float32)]
    else:
        x = rng.random((batch, 784), dtype=np.float32)
        labels = rng.integers(0, 10, batch)
        w1, b1, w2, b2 = _mlp_params(np.random.default_rng(seed))
        params = [np.ascontiguousarray(w1.T), b1, np.ascontiguousarray(w2.T), b2]
    rate = np.float32(lr)

    def loss(params, x, labels):
        h = x
        for i in range(0, len(params), 2):
            h = ad.linear(h, params[i], params[i + 1])
            if i + 2 < len(params):
                h = ad.relu(h)
        return ad.softmax_cross_entropy(h, labels)

    value_and_grad = ad.value_and_grad(loss)

    @ad.jit
    def step(params, x, labels):
        value, grads = value_and_grad(params, x, labels)
        # engine operations (not numpy operators), so that the update is recorded too
        return value, [
            ad.subtract(p, ad.multiply(g, rate)) for p, g in zip(params, grads, strict=True)
        ]

    def run():
        nonlocal params
        value, params = step(params, x, labels)
        return value

    return run


# ----------------------------------------------------------- per-example gradients
def per_example_grads(hidden: int | None, batch: int = 128, seed: int = 0):
    """(vmap(grad), loop of grad, writing only) for per-example gradients of softmax
    cross-entropy: logistic regression 784 -> 10 (hidden None) or a 784-hidden-10 ReLU MLP,
    float32; each returns the gradients stacked over the batch."""
    rng = np.random.default_rng(seed)
    xs = rng.random((batch, 784), dtype=np.float32)
    ys = rng.integers(0, 10, batch)
    sizes = [784, 10] if hidden is None else [784, hidden, 10]
    params = [
        (rng.normal(0, 0.05, (n_out, n_in)).astype(np.float32), np.zeros(n_out, np.float32))
        for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=False)
    ]

    def loss(params, x, y):
        h = x[None]
        for i, (w, b) in enumerate(params):
            h = ad.linear(h, w, b)
            if i < len(params) - 1:
                h = ad.relu(h)
        return ad.softmax_cross_entropy(h, y[None])

    per_example = ad.vmap(ad.grad(loss), in_axes=(None, 0, 0))
    one = ad.grad(loss)
    flat = [a for pair in params for a in pair]

    def loop():
        grads = [ad.tree_flatten(one(params, x, y))[0] for x, y in zip(xs, ys, strict=False)]
        return [np.stack(g) for g in zip(*grads, strict=False)]

    def write_only():  # the floor: filling arrays of the gradients' total size
        return [np.full((batch,) + a.shape, 1.0, np.float32) for a in flat]

    return (lambda: per_example(params, xs, ys)), loop, write_only


# -------------------------------------------------------------- per-op chain
CHAIN = 100


def chain_steps(seed: int = 0, guard: bool = True, compiled: bool = False):
    """A chain of 100 elementwise ops (cycling multiply, add, tanh, multiply-by-self);
    `guard=False` runs the engine's with the mutation guard off, `compiled=True` as one
    ad.jit program."""
    x0 = np.random.default_rng(seed).random(10)
    x = ad.tensor(x0, requires_grad=True)

    def forward():
        v = x
        for _ in range(CHAIN // 4):
            v = v * 1.01
            v = v + 0.1
            v = ad.tanh(v)
            v = v * v
        return ad.sum(v)

    def forward_backward():
        if guard:
            out = forward()
        else:
            with ad.mutation_guard(False):
                out = forward()
        out.backward()

    run = ad.jit(forward_backward) if compiled else forward_backward

    def engine():
        run()
        x.grad = None

    def numpy_step():
        v = x0
        saved = []
        for _ in range(CHAIN // 4):
            v = v * 1.01
            v = v + 0.1
            v = np.tanh(v)
            saved.append(v)
            v = v * v
        g = np.ones_like(v)
        for t in reversed(saved):
            g = g * 2 * t
            g = g * (1 - t * t)
            g = g * 1.01
        return g

    return engine, numpy_step


# ------------------------------------------------------------- trace function
def trace_f(w1, w2):
    z1 = w1 / w2
    z2 = ad.sin(2 * np.pi * z1)
    z3 = ad.exp(2 * w2)
    z4 = 3 * z1 - z3
    z5 = z2 + z4
    return ad.sum(z4 * z5)


def _trace_inputs(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, n), rng.uniform(0.5, 1.5, n)


# ------------------------------------------------------------------ checkpoint
def checkpoint_memory(
    depth: int = 16, width: int = 256, batch: int = 2048, segment: int = 4
) -> tuple:
    """Peak traced memory (bytes) of one forward+backward pass of a deep tanh MLP, plain and
    with each run of `segment` layers one `ad.checkpoint` block (only the blocks' inputs
    are kept; a block's insides are recomputed during the backward pass), and the largest
    gradient difference between the two."""
    import tracemalloc

    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, width))
    weights = [rng.standard_normal((width, width)) / np.sqrt(width) for _ in range(depth)]

    def layers(h, *ws):
        for w in ws:
            h = ad.tanh(h @ w)
        return h

    def run(block):
        ws = [ad.tensor(w, requires_grad=True) for w in weights]
        tracemalloc.start()
        h = x
        for i in range(0, depth, segment):
            h = block(h, *ws[i : i + segment])
        ad.sum(h * h).backward()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return peak, [w.grad for w in ws]

    plain, g_plain = run(layers)
    checkpointed, g_ckpt = run(ad.checkpoint(layers))
    diff = max(float(np.abs(a - b).max()) for a, b in zip(g_plain, g_ckpt, strict=False))
    return plain, checkpointed, diff


# ---------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (a smoke run)")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument(
        "--no-mallopt", action="store_true", help="leave glibc's allocator settings alone"
    )
    args = parser.parse_args(argv)
    tuned = False if args.no_mallopt else tune_malloc()
    repeats = args.repeats or (3 if args.quick else 15)
    print(
        f"autodiff engine benchmark  (numpy {np.__version__}, Python "
        f"{platform.python_version()}, {platform.machine()}; medians of {repeats} "
        f"interleaved runs; mallopt {'on' if tuned else 'off'})\n"
    )

    print("| workload | autodiff | numpy by hand | ratio | target |")
    print("|---|---|---|---|---|")
    targets = {1: 1.3, 16: None, 128: 1.1, 1024: 1.1}
    for batch in (1, 16, 128, 1024):
        number = max(1, (200 if args.quick else 1000) // batch)
        for composed in (False, True):
            e, r = compare(*mlp_steps(batch, composed=composed), number=number, repeats=repeats)
            t = targets[batch] if not composed else None
            style = "composed primitives" if composed else "ad.linear + softmax_cross_entropy"
            print(
                f"| MLP 784-200-10 SGD step, batch {batch}, {style} | {e * 1e6:.0f} us | "
                f"{r * 1e6:.0f} us | {e / r:.2f}x | {f'<= {t:.1f}x' if t else '-'} |"
            )
    for composed in (False, True):
        e, r = compare(
            *logreg_steps(composed=composed), number=200 if args.quick else 1000, repeats=repeats
        )
        style = "composed primitives" if composed else "ad.linear + softmax_cross_entropy"
        print(
            f"| logistic regression 784->10 SGD step, batch 1, {style} | {e * 1e6:.1f} us | "
            f"{r * 1e6:.1f} us | {e / r:.2f}x | {'-' if composed else '<= 1.8x'} |"
        )
    e, r = compare(*chain_steps(), number=20 if args.quick else 100, repeats=repeats)
    print(
        f"| chain of {CHAIN} elementwise ops, fwd+bwd, per op | {e / CHAIN * 1e6:.2f} us | "
        f"{r / CHAIN * 1e6:.2f} us | {e / r:.2f}x | <= 3 us per op |"
    )

    print(
        "\nad.jit: the same steps compiled (forward and backward traced once, then replayed "
        "as straight-line numpy), against eager and hand-written numpy"
    )
    print(
        "Compiled, PyTorch style: forward and backward compiled, the update eager; "
        "functional: the whole step (update included) one program, parameters in and out."
    )
    print(
        "The MLP's numpy by hand stores its weights (in, out); the engine's steps, like "
        "nn.Linear, (out, in). The last column times the numpy step with (out, in) weights "
        "too: the compiled step against the same math in the same layout."
    )
    print(
        "| workload | compiled, PyTorch style | compiled, functional | eager | numpy by hand | "
        "PyTorch style / numpy | functional / numpy | target | PyTorch style / numpy "
        "(out, in) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    jit_targets = {1: "<= 1.05x", 16: "<= 1.05x", 128: "<= 1x", 1024: "<= 1x"}
    for batch in (1, 16, 128, 1024):
        number = max(1, (200 if args.quick else 1000) // batch)
        c, f, e, r, same = interleaved(
            [
                mlp_steps(batch, compiled=True)[0],
                functional_step(batch),
                *mlp_steps(batch),
                numpy_mlp_step(batch, out_in=True),
            ],
            number,
            repeats,
        )
        print(
            f"| MLP 784-200-10 SGD step, batch {batch} | {c * 1e6:.0f} us | {f * 1e6:.0f} us | "
            f"{e * 1e6:.0f} us | {r * 1e6:.0f} us | {c / r:.2f}x | {f / r:.2f}x | "
            f"{jit_targets[batch]} | {c / same:.2f}x ({same * 1e6:.0f} us) |"
        )
    c, f, e, r = interleaved(
        [logreg_steps(compiled=True)[0], functional_step(None), *logreg_steps()],
        200 if args.quick else 1000,
        repeats,
    )
    print(
        f"| logistic regression 784->10 SGD step, batch 1 | {c * 1e6:.1f} us | "
        f"{f * 1e6:.1f} us | {e * 1e6:.1f} us | {r * 1e6:.1f} us | {c / r:.2f}x | "
        f"{f / r:.2f}x | <= 1.2x | |"
    )
    c, e, r = interleaved(
        [chain_steps(compiled=True)[0], *chain_steps()], 20 if args.quick else 100, repeats
    )
    print(
        f"| chain of {CHAIN} elementwise ops, fwd+bwd, per op | {c / CHAIN * 1e6:.2f} us | - | "
        f"{e / CHAIN * 1e6:.2f} us | {r / CHAIN * 1e6:.2f} us | {c / r:.2f}x | - | "
        f"<= 1.2 us per op | |"
    )

    print("\nMutation guard (arrays saved by the tape are read-only): its cost, on vs off")
    print("| workload | guard on | guard off | on / off |")
    print("|---|---|---|---|")
    on, off = interleaved(
        [mlp_steps(1)[0], mlp_steps(1, guard=False)[0]], 200 if args.quick else 1000, repeats
    )
    print(
        f"| MLP 784-200-10 SGD step, batch 1 | {on * 1e6:.0f} us | {off * 1e6:.0f} us | "
        f"{on / off:.3f} |"
    )
    on, off = interleaved(
        [chain_steps()[0], chain_steps(guard=False)[0]], 20 if args.quick else 100, repeats
    )
    print(
        f"| chain of {CHAIN} elementwise ops, per op | {on / CHAIN * 1e6:.2f} us | "
        f"{off / CHAIN * 1e6:.2f} us | {on / off:.3f} |"
    )

    n = 10**5 if args.quick else 10**6
    w1, w2 = _trace_inputs(n)
    number = 2 if args.quick else 5
    ones, zeros = np.ones(n), np.zeros(n)
    t_f, t_g, t_jvp, t_hvp = interleaved(
        [
            lambda: trace_f(w1, w2),
            lambda: ad.grad(trace_f, argnums=(0, 1))(w1, w2),
            lambda: ad.jvp(trace_f, (w1, w2), (ones, zeros)),
            lambda: ad.hvp(trace_f, (w1, w2), (ones, zeros)),
        ],
        number,
        repeats,
    )
    print(
        f"\nTrace function f(w1, w2) of 002 section 5 on {n:,} float64 pairs: f {t_f * 1e3:.1f} ms"
    )
    print("| transform | time | ratio to f | target |")
    print("|---|---|---|---|")
    print(f"| grad (reverse) | {t_g * 1e3:.1f} ms | {t_g / t_f:.2f} | <= 5 (cheap gradient) |")
    print(f"| jvp (forward) | {t_jvp * 1e3:.1f} ms | {t_jvp / t_f:.2f} | <= 3 |")
    print(f"| hvp (fwd-over-rev) | {t_hvp * 1e3:.1f} ms | {t_hvp / t_f:.2f} | <= 6 |")

    rng = np.random.default_rng(0)
    x = rng.random((128, 784)).astype(np.float32)
    labels = rng.integers(0, 10, 128)
    onehot = np.eye(10, dtype=np.float32)[labels]
    params = tuple(_mlp_params(rng))
    vs = tuple(rng.standard_normal(p.shape).astype(np.float32) for p in params)
    layer_params = tuple(np.ascontiguousarray(p.T) for p in params)  # nn.Linear's layout
    layer_vs = tuple(np.ascontiguousarray(v.T) for v in vs)

    def mlp_loss(w1, b1, w2, b2):
        return ad.softmax_cross_entropy(ad.linear(ad.relu(ad.linear(x, w1, b1)), w2, b2), labels)

    def mlp_loss_composed(w1, b1, w2, b2):
        h = ad.relu(x @ w1 + b1)
        return -ad.sum(ad.log_softmax(h @ w2 + b2) * onehot) / 128

    number = 3 if args.quick else 10
    for style, loss, ps, ts in (
        ("ad.linear + softmax_cross_entropy", mlp_loss, layer_params, layer_vs),
        ("composed primitives", mlp_loss_composed, params, vs),
    ):
        t_f, t_jvp, t_hvp = interleaved(
            [
                lambda loss=loss, ps=ps: loss(*ps),
                lambda loss=loss, ps=ps, ts=ts: ad.jvp(loss, ps, ts),
                lambda loss=loss, ps=ps, ts=ts: ad.hvp(loss, ps, ts),
            ],
            number,
            repeats,
        )
        print(f"\nMLP 784-200-10 loss at batch 128 (float32), {style}: f {t_f * 1e3:.2f} ms")
        print("| transform | time | ratio to f | target |")
        print("|---|---|---|---|")
        print(f"| jvp | {t_jvp * 1e3:.2f} ms | {t_jvp / t_f:.2f} | <= 3 |")
        print(f"| hvp | {t_hvp * 1e3:.2f} ms | {t_hvp / t_f:.2f} | <= 6 |")

    plain, ckpt, diff = checkpoint_memory()
    print(
        f"\nad.checkpoint: peak traced memory of forward+backward, 16 tanh layers 256 wide, "
        f"batch 2048 (float64): plain {plain / 2**20:.0f} MiB, blocks of 4 layers "
        f"checkpointed {ckpt / 2**20:.0f} MiB ({ckpt / plain:.2f}x); largest gradient "
        f"difference {diff:.1e}"
    )

    print(
        "\nPer-example gradients at batch 128 (float32): ad.vmap(ad.grad(loss)) against a "
        "Python loop of ad.grad, and the time of only writing the gradient arrays"
    )
    print("| model | vmap(grad) | loop of grad | loop / vmap | writing only | target |")
    print("|---|---|---|---|---|---|")
    for label, hidden, target in (
        ("logistic regression 784 -> 10", None, ">= 3x faster"),
        ("MLP 784-200-10", 200, "no slower than the loop"),
    ):
        t_vmap, t_loop, t_write = interleaved(
            list(per_example_grads(hidden)), 1, max(3, repeats // 2)
        )
        print(
            f"| {label} | {t_vmap * 1e3:.2f} ms | {t_loop * 1e3:.2f} ms | "
            f"{t_loop / t_vmap:.1f}x | {t_write * 1e3:.2f} ms | {target} |"
        )

    print(
        "\nJacobian of f(x) = tanh(A x), A of shape (m, n): forward vs reverse mode (both "
        "one vmap over a basis), and reverse mode row by row (one vjp call per output)"
    )
    print(
        "| inputs n | outputs m | jacobian(mode='fwd') | jacobian(mode='rev') | faster | "
        "row by row | row by row / rev |"
    )
    print("|---|---|---|---|---|---|---|")
    for n_in, m_out in ((4, 256), (32, 32), (256, 4)):
        A = rng.standard_normal((m_out, n_in))
        x0 = rng.standard_normal(n_in)

        def f(v, A=A):
            return ad.tanh(A @ v)

        t_fwd, t_rev, t_rows = interleaved(
            [
                lambda f=f, x0=x0: ad.jacobian(f, mode="fwd")(x0),
                lambda f=f, x0=x0: ad.jacobian(f, mode="rev")(x0),
                lambda f=f, x0=x0: rowwise_jacobian(f, x0),
            ],
            1,
            max(3, repeats // 3),
        )
        print(
            f"| {n_in} | {m_out} | {t_fwd * 1e3:.2f} ms | {t_rev * 1e3:.2f} ms | "
            f"{'forward' if t_fwd < t_rev else 'reverse'} | {t_rows * 1e3:.2f} ms | "
            f"{t_rows / t_rev:.0f}x |"
        )
    w0 = rng.standard_normal((8, 16))
    g = lambda w: ad.sum(ad.tanh(w @ np.ones(16)) ** 2)  # noqa: E731
    t_h, t_rows = interleaved(
        [lambda: ad.hessian(g)(w0), lambda: rowwise_hessian(g, w0)], 1, max(3, repeats // 3)
    )
    print(
        f"| hessian, 128 parameters | | {t_h * 1e3:.2f} ms (vmap of jvp of grad) | | | "
        f"{t_rows * 1e3:.2f} ms (one hvp per column) | {t_rows / t_h:.0f}x |"
    )


def rowwise_jacobian(f: Callable, x: np.ndarray) -> np.ndarray:
    """The Jacobian by one vjp call per output element (how jacobian worked before vmap)."""
    out, pullback = ad.vjp(f, x)
    eye = np.eye(out.size).reshape((out.size,) + out.shape)
    return np.stack([pullback(e)[0] for e in eye]).reshape(out.shape + x.shape)


def rowwise_hessian(f: Callable, x: np.ndarray) -> np.ndarray:
    """The Hessian by one Hessian-vector product per input element."""
    eye = np.eye(x.size).reshape((x.size,) + x.shape)
    return np.stack([ad.hvp(f, (x,), (e,)) for e in eye], axis=-1).reshape(x.shape + x.shape)


if __name__ == "__main__":
    main()
