"""Training-step speed of the CIFAR-10 CNN of 003_3e2271feff96ec1f.txt (Part 4).

    python -m benchmarks.cnn            # 30 interleaved timed steps per implementation
    python -m benchmarks.cnn --quick    # 5
    python -m benchmarks.cnn --no-mallopt

The network: conv3x3 32 'same', conv3x3 32, maxpool 2, dropout .25, conv3x3 64 'same',
conv3x3 64, maxpool 2, dropout .25, dense 512, dropout .5, dense 10, ReLU activations,
softmax cross-entropy, SGD with momentum 0.7 (lr 0.01, Keras decay 1e-3), batches of 32
random float32 images.  One training step (forward, backward, update) of the `nn`/`optim`
model is timed against the same step hand-written in numpy with im2col, twice: in the
standard NCHW layout (one im2col copy per convolution, BLAS matmuls, col2im as a loop over
kernel offsets, max-pool through a window reshape and a mask), and in the (C, H, W, N)
layout that autodiff's conv2d uses internally, which isolates the cost of autodiff itself.
All run in this process, in alternation, from the same initial weights; medians are
reported, with the implied time of an epoch of 40,000 images.  (autodiff's conv2d also
splits its large window copies over two threads; the hand-written versions do not.)

Unless --no-mallopt is given, glibc's allocator is told at start-up (mallopt) to serve
every allocation from the heap and never return freed memory to the OS, so the large
temporaries of a step are not unmapped and faulted in again at every step; this applies
to both implementations alike.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numpy as np
from numpy.lib.stride_tricks import as_strided

from autodiff.testing.timing import tune_malloc

BATCH = 32
EPOCH_IMAGES = 40_000
ENGINE = "nn + optim (autodiff)"
COMPILED = "nn + optim, optim.compile_step"
NCHW = "numpy im2col, NCHW"
BATCH_INNER = "numpy im2col, (C,H,W,N) layout"


# --------------------------------------------------------------- nn / optim model
def build_model(seed: int = 0):
    import nn

    rng = np.random.default_rng(seed)

    def conv_block(c_in: int, c_out: int) -> list:
        """conv3x3 c_in -> c_out 'same', conv3x3 c_out -> c_out, ReLU after each, maxpool 2,
        dropout .25 (layers built, and their weights drawn, in this order)."""
        return [
            nn.Conv2d(c_in, c_out, 3, padding="same", rng=rng),
            nn.ReLU(),
            nn.Conv2d(c_out, c_out, 3, rng=rng),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Dropout(0.25, rng=rng),
        ]

    model = nn.Sequential(
        *conv_block(3, 32),
        *conv_block(32, 64),
        nn.Flatten(),
        nn.Linear(64 * 6 * 6, 512, rng=rng),
        nn.ReLU(),
        nn.Dropout(0.5, rng=rng),
        nn.Linear(512, 10, rng=rng),
    )
    return model


def engine_step(model, opt, x, y) -> float:
    import nn.functional as F

    loss = F.cross_entropy(model(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return float(loss.data)


def blas_products(model, x) -> list[tuple[tuple, tuple, bool]]:
    """The matrix products of one training step of `model` on the batch `x` (im2col for the
    convolutions): per layer the forward product, the weight gradient's and, except for the
    first layer, the input gradient's, as (shape of A, shape of B, B transposed)."""
    import autodiff as ad
    import nn

    products: list[tuple[tuple, tuple, bool]] = []
    value = ad.tensor(x)
    with ad.no_grad():
        for i, layer in enumerate(model):
            out = layer(value)
            if isinstance(layer, nn.Conv2d):
                o, c, kh, kw = layer.weight.shape
                k, cols = c * kh * kw, out.shape[0] * out.shape[2] * out.shape[3]
                products += [((o, k), (k, cols), False), ((o, cols), (cols, k), True)]
                products += [((k, o), (o, cols), False)] if i else []
            elif isinstance(layer, nn.Linear):
                o, k = layer.weight.shape
                n = value.shape[0]
                products += [((n, k), (k, o), True), ((o, n), (n, k), False)]
                products += [((n, o), (o, k), False)] if i else []
            value = out
    return products


def blas_floor(products: list, repeats: int) -> tuple[float, float]:
    """(seconds, GFLOP) of the products alone in float32: the sum of each one's median."""
    rng = np.random.default_rng(0)
    seconds = flops = 0.0
    for a_shape, b_shape, transposed in products:
        a = rng.random(a_shape, dtype=np.float32)
        b = rng.random(b_shape[::-1] if transposed else b_shape, dtype=np.float32)
        b = b.T if transposed else b
        np.dot(a, b)
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            np.dot(a, b)
            times.append(time.perf_counter() - t0)
        seconds += statistics.median(times)
        flops += 2.0 * a_shape[0] * a_shape[1] * b_shape[1]
    return seconds, flops / 1e9


# ------------------------------------------------------- hand-written numpy model
def _im2col(x, k, pad):
    """(N, C, H, W) -> (N*OH*OW, C*k*k), stride 1."""
    if pad:
        x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    n, c, h, w = x.shape
    oh, ow = h - k + 1, w - k + 1
    s0, s1, s2, s3 = x.strides
    windows = as_strided(x, (n, oh, ow, c, k, k), (s0, s2, s3, s1, s2, s3), writeable=False)
    return windows.reshape(n * oh * ow, c * k * k), (n, c, h, w, oh, ow)


def _col2im(dcols, geom, k, pad):
    n, c, h, w, oh, ow = geom
    d = dcols.reshape(n, oh, ow, c, k, k)
    dx = np.zeros((n, c, h, w), dcols.dtype)
    for i in range(k):
        for j in range(k):
            dx[:, :, i : i + oh, j : j + ow] += d[:, :, :, :, i, j].transpose(0, 3, 1, 2)
    return dx[:, :, pad : h - pad, pad : w - pad] if pad else dx


class NumpyCNN:
    """The same network with hand-written forward and backward passes."""

    def __init__(self, params: list[np.ndarray], seed: int = 1):
        self.p = [a.copy() for a in params]  # w1 b1 w2 b2 w3 b3 w4 b4 w5 b5 w6 b6
        self.v = [np.zeros_like(a) for a in self.p]
        self.rng = np.random.default_rng(seed)
        self.iterations = 0

    def _conv(self, x, w, b, pad):
        cols, geom = _im2col(x, w.shape[2], pad)
        out = cols @ w.reshape(w.shape[0], -1).T + b
        n, _, _, _, oh, ow = geom
        return out.reshape(n, oh, ow, -1).transpose(0, 3, 1, 2), (cols, geom, pad)

    @staticmethod
    def _conv_back(dout, w, cache, need_dx=True):
        cols, geom, pad = cache
        o = w.shape[0]
        d2 = dout.transpose(0, 2, 3, 1).reshape(-1, o)
        dw = (d2.T @ cols).reshape(w.shape)
        db = d2.sum(axis=0)
        dx = _col2im(d2 @ w.reshape(o, -1), geom, w.shape[2], pad) if need_dx else None
        return dx, dw, db

    @staticmethod
    def _pool(x):
        n, c, h, w = x.shape
        xr = x[:, :, : h // 2 * 2, : w // 2 * 2].reshape(n, c, h // 2, 2, w // 2, 2)
        out = xr.max(axis=(3, 5))
        mask = xr == out[:, :, :, None, :, None]
        return out, (mask, x.shape)

    @staticmethod
    def _pool_back(dout, cache):
        mask, shape = cache
        dx = np.zeros(shape, dout.dtype)
        n, c, oh, _, ow, _ = mask.shape
        dx[:, :, : oh * 2, : ow * 2] = (mask * dout[:, :, :, None, :, None]).reshape(
            n, c, oh * 2, ow * 2
        )
        return dx

    def _dropout(self, x, p):
        mask = (self.rng.random(x.shape, dtype=np.float32) >= p).astype(x.dtype) * (1 / (1 - p))
        return x * mask, mask

    def _block(self, x, wa, ba, wb, bb, drop):
        """One conv block forward: conv 'same', ReLU, conv, ReLU, maxpool 2, dropout .25
        (by `drop`); returns the output and what `_block_back` needs."""
        za, ca = self._conv(x, wa, ba, 1)
        zb, cb = self._conv(np.maximum(za, 0), wb, bb, 0)
        pooled, cp = self._pool(np.maximum(zb, 0))
        out, mask = drop(pooled, 0.25)
        return out, (za, ca, zb, cb, cp, mask)

    def _block_back(self, g, wa, wb, cache, need_dx=True):
        """The block's backward pass from the gradient g of its output: (gradient of its
        input or None, gw_a, gb_a, gw_b, gb_b)."""
        za, ca, zb, cb, cp, mask = cache
        g = self._pool_back(g * mask, cp) * (zb > 0)
        g, gwb, gbb = self._conv_back(g, wb, cb)
        g = g * (za > 0)
        g, gwa, gba = self._conv_back(g, wa, ca, need_dx=need_dx)
        return g, gwa, gba, gwb, gbb

    def step(self, x, y, lr=0.01, momentum=0.7, decay=1e-3, train=True) -> float:
        w1, b1, w2, b2, w3, b3, w4, b4, w5, b5, w6, b6 = self.p
        drop = (lambda a, p: self._dropout(a, p)) if train else (lambda a, p: (a, 1))
        # forward
        d1, block1 = self._block(x, w1, b1, w2, b2, drop)
        d2, block2 = self._block(d1, w3, b3, w4, b4, drop)
        f = d2.reshape(d2.shape[0], -1)
        z5 = f @ w5.T + b5
        a5 = np.maximum(z5, 0)
        d3, m3 = drop(a5, 0.5)
        z6 = d3 @ w6.T + b6
        zs = z6 - z6.max(axis=1, keepdims=True)
        logp = zs - np.log(np.exp(zs).sum(axis=1, keepdims=True))
        n = x.shape[0]
        loss = -logp[np.arange(n), y].mean()
        # backward
        g6 = np.exp(logp)
        g6[np.arange(n), y] -= 1
        g6 /= n
        gw6, gb6 = g6.T @ d3, g6.sum(0)
        g = (g6 @ w6) * m3 * (z5 > 0)
        gw5, gb5 = g.T @ f, g.sum(0)
        g, gw3, gb3, gw4, gb4 = self._block_back((g @ w5).reshape(d2.shape), w3, w4, block2)
        _, gw1, gb1, gw2, gb2 = self._block_back(g, w1, w2, block1, need_dx=False)
        grads = [gw1, gb1, gw2, gb2, gw3, gb3, gw4, gb4, gw5, gb5, gw6, gb6]
        # SGD with momentum and Keras time-based decay
        lr_t = lr / (1 + decay * self.iterations)
        for p, v, gr in zip(self.p, self.v, grads, strict=False):
            v *= momentum
            v -= lr_t * gr
            p += v
        self.iterations += 1
        self.last_grads = grads
        return float(loss)


class NumpyCNNBatchInner(NumpyCNN):
    """The same, with convolutions in the engine's memory layout: activations stored as
    (C, H, W, N), im2col matrices (C*k*k, OH*OW*N), weight @ cols.  Separates the cost of
    autodiff from the choice of layout."""

    @staticmethod
    def _conv(x, w, b, pad):
        n, c, h, wd = x.shape
        xt = x.transpose(1, 2, 3, 0)
        if pad:
            xp = np.zeros((c, h + 2 * pad, wd + 2 * pad, n), x.dtype)
            xp[:, pad : pad + h, pad : pad + wd] = xt
            xt = xp
        k, o = w.shape[2], w.shape[0]
        oh, ow = xt.shape[1] - k + 1, xt.shape[2] - k + 1
        s0, s1, s2, s3 = xt.strides
        cols = as_strided(
            xt, (c, k, k, oh, ow, n), (s0, s1, s2, s1, s2, s3), writeable=False
        ).reshape(c * k * k, oh * ow * n)
        out = w.reshape(o, -1) @ cols + b[:, None]
        return out.reshape(o, oh, ow, n).transpose(3, 0, 1, 2), (cols, (n, c, h, wd, oh, ow), pad)

    @staticmethod
    def _conv_back(dout, w, cache, need_dx=True):
        cols, (n, c, h, wd, oh, ow), pad = cache
        o, k = w.shape[0], w.shape[2]
        d2 = dout.transpose(1, 2, 3, 0).reshape(o, -1)
        dw = (d2 @ cols.T).reshape(w.shape)
        db = d2.sum(axis=1)
        if not need_dx:
            return None, dw, db
        dcols = (w.reshape(o, -1).T @ d2).reshape(c, k, k, oh, ow, n)
        dxp = np.zeros((c, h + 2 * pad, wd + 2 * pad, n), dout.dtype)
        for i in range(k):
            for j in range(k):
                dxp[:, i : i + oh, j : j + ow] += dcols[:, i, j]
        return dxp[:, pad : pad + h, pad : pad + wd].transpose(3, 0, 1, 2), dw, db


# --------------------------------------------------------------------------- main
def check_agreement(model, x, y) -> float:
    """Largest relative gradient difference between the autodiff model and each hand-written
    version on one batch, without dropout (a guard against timing different computations)."""
    import nn.functional as F

    model.eval()
    model.zero_grad()
    F.cross_entropy(model(x), y).backward()
    model.train()
    worst = 0.0
    for cls in (NumpyCNN, NumpyCNNBatchInner):
        ref = cls([p.data for p in model.parameters()])
        ref.step(x, y, train=False)
        for p, g in zip(model.parameters(), ref.last_grads, strict=False):
            worst = max(worst, float(np.max(np.abs(p.grad - g)) / (np.max(np.abs(g)) + 1e-30)))
    model.zero_grad()
    return worst


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="5 timed steps instead of 30")
    parser.add_argument("--steps", type=int, default=None, help="timed steps per implementation")
    parser.add_argument(
        "--no-mallopt", action="store_true", help="leave glibc's allocator settings alone"
    )
    args = parser.parse_args(argv)
    steps = args.steps or (5 if args.quick else 30)
    tuned = False if args.no_mallopt else tune_malloc()

    import optim

    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, 3, 32, 32)).astype(np.float32)
    y = rng.integers(0, 10, BATCH)
    model = build_model()
    agreement = check_agreement(model, x, y)
    start = [p.data for p in model.parameters()]
    impls = {
        ENGINE: None,
        COMPILED: None,
        NCHW: NumpyCNN(start),
        BATCH_INNER: NumpyCNNBatchInner(start),
    }
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.7, decay=1e-3)
    compiled_model = build_model()  # its own copy: same weights, its own dropout draws
    compiled_opt = optim.SGD(compiled_model.parameters(), lr=0.01, momentum=0.7, decay=1e-3)
    import nn.functional as F

    compiled_step = optim.compile_step(
        lambda x, y: F.cross_entropy(compiled_model(x), y), compiled_opt
    )

    def run(name):
        if name == ENGINE:
            engine_step(model, opt, x, y)
        elif name == COMPILED:
            compiled_step(x, y)
        else:
            impls[name].step(x, y)

    for _ in range(2):  # warm-up: allocator, BLAS threads, caches
        for name in impls:
            run(name)
    times: dict[str, list[float]] = {name: [] for name in impls}
    for _ in range(steps):
        for name in impls:
            t0 = time.perf_counter()
            run(name)
            times[name].append(time.perf_counter() - t0)

    per_epoch = EPOCH_IMAGES / BATCH
    print(
        f"CIFAR-10 CNN training step, batch {BATCH}, float32, {steps} interleaved steps each "
        f"(medians); numpy {np.__version__}, {platform.machine()}, {os.cpu_count()} cpus, "
        f"mallopt {'on' if tuned else 'off'}"
    )
    print(f"gradient agreement (no dropout, one batch): max relative difference {agreement:.1e}")
    print(f"{'implementation':<34}{'s/step':>9}{'min s/step':>12}{'s/epoch (40k)':>15}")
    med = {name: statistics.median(ts) for name, ts in times.items()}
    for name, ts in times.items():
        print(f"{name:<34}{med[name]:>9.4f}{min(ts):>12.4f}{med[name] * per_epoch:>15.1f}")
    for name in (NCHW, BATCH_INNER):
        print(
            f"ratio autodiff / {name}: {med[ENGINE] / med[name]:.2f}x, compiled "
            f"{med[COMPILED] / med[name]:.2f}x"
        )
    print(f"ratio compiled / eager autodiff: {med[COMPILED] / med[ENGINE]:.2f}x")
    products = blas_products(build_model(), x)  # a fresh model: no dropout draws taken
    seconds, gflop = blas_floor(products, steps)
    print(
        f"BLAS floor: the step's {len(products)} matrix products alone (im2col, {gflop:.2f} "
        f"GFLOP): {seconds:.4f} s/step ({gflop / seconds:.0f} GFLOP/s); compiled / floor "
        f"{med[COMPILED] / seconds:.2f}x"
    )


if __name__ == "__main__":
    main()
