"""Seeded synthetic datasets of the source documents (``shared/seeds/00N_*.txt``).

Every generator draws from ``np.random.default_rng(seed)``, so equal arguments
give equal arrays. Inputs are float64 with examples along axis 0.
"""

from __future__ import annotations

import numpy as np


def parity(
    n: int | None = None,
    d: int = 10,
    seed: int = 0,
    enumerate_all: bool = False,
    mask: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sparse parity (doc 000, question 3): x uniform on {0,1}^d, y = (-1)^(v.x).

    The mask v is uniform on {0,1}^d, drawn first and independently of x
    (or given as ``mask``); v may select no coordinate, in which case y = 1.
    n: number of examples drawn (required unless ``enumerate_all``).
    enumerate_all: instead return all 2^d inputs, row i holding the binary
        digits of i (most significant first); needs d <= 24.

    Returns x ``(n, d)`` float64 in {0, 1}, y ``(n,)`` float64 in {-1, +1} and
    the mask v ``(d,)`` int64 in {0, 1}.
    """
    rng = np.random.default_rng(seed)
    if mask is None:
        v = rng.integers(0, 2, size=d)
    else:
        v = np.asarray(mask, dtype=np.int64)
        if v.shape != (d,) or not np.isin(v, (0, 1)).all():
            raise ValueError(
                f"parity: mask must be a 0/1 vector of shape ({d},), got shape {v.shape}"
            )
    if enumerate_all:
        if n is not None or d > 24:
            raise ValueError(
                f"parity: enumerate_all lists all 2^d inputs, so n must be None (got {n}) and "
                f"d <= 24 (got {d})"
            )
        codes = np.arange(2**d, dtype=np.int64)
        x = (codes[:, None] >> np.arange(d - 1, -1, -1)) & 1
    else:
        if n is None or n < 1:
            raise ValueError(f"parity: n must be a positive number of examples, got {n}")
        x = rng.integers(0, 2, size=(n, d))
    y = 1.0 - 2.0 * ((x @ v) % 2)
    return x.astype(np.float64), y, v.astype(np.int64)


def xor(n: int | None = None, noise: float = 0.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two-variable XOR on {-1, 1}^2 (doc 002, section 2.3): y = +1 iff both coordinates are equal.

    n: None returns the four corners once, in the order (-1,-1), (-1,1),
        (1,-1), (1,1); otherwise n examples cycling through the corners (so each
        corner appears n/4 times, up to one) in random order, plus Gaussian
        noise of standard deviation ``noise`` on x.
    Returns x ``(n, 2)`` float64 and y ``(n,)`` float64 in {-1, +1}, where y is
    x1 * x2 of the noiseless corner.
    """
    corners = np.array([[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]])
    if n is None:
        return corners.copy(), corners[:, 0] * corners[:, 1]
    if n < 1:
        raise ValueError(f"xor: n must be positive, got {n}")
    rng = np.random.default_rng(seed)
    which = rng.permutation(np.arange(n) % 4)
    x = corners[which] + noise * rng.standard_normal((n, 2))
    return x, corners[which, 0] * corners[which, 1]


def two_spirals(
    n: int = 400, noise: float = 0.0, turns: float = 1.5, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved spirals in the plane.

    Class 0 follows r = t, angle = 2 pi turns t for t in (0, 1]; class 1 is
    the same spiral rotated by pi. ``n - n // 2`` examples of class 0 and
    ``n // 2`` of class 1, in random order, plus Gaussian noise ``noise``.
    Returns x ``(n, 2)`` float64 (radius at most 1 before noise) and
    y ``(n,)`` int64 in {0, 1}.
    """
    if n < 2:
        raise ValueError(f"two_spirals: n must be at least 2, got {n}")
    rng = np.random.default_rng(seed)
    y = rng.permutation(np.arange(n) % 2)
    t = np.sqrt(rng.uniform(0.0, 1.0, n))  # sqrt: evenly spaced along the curve
    t = np.maximum(t, 1e-3)
    angle = 2.0 * np.pi * turns * t + np.pi * y
    x = np.stack([t * np.cos(angle), t * np.sin(angle)], axis=1) + noise * rng.standard_normal(
        (n, 2)
    )
    return x, y.astype(np.int64)


def blobs(
    n: int = 300,
    centers: int | np.ndarray = 3,
    dim: int = 2,
    std: float = 1.0,
    box: tuple[float, float] = (-10.0, 10.0),
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Isotropic Gaussian blobs.

    centers: number k of blobs, with centres drawn uniformly in ``box``^dim,
        or an explicit ``(k, dim)`` array.
    Labels are as balanced as possible (``n // k`` or one more each), in random order.
    Returns x ``(n, dim)`` float64, y ``(n,)`` int64 in 0..k-1 and the centres ``(k, dim)``.
    """
    rng = np.random.default_rng(seed)
    if np.ndim(centers) == 0:
        k = int(centers)
        if k < 1:
            raise ValueError(f"blobs: need at least one centre, got {k}")
        centres = rng.uniform(box[0], box[1], size=(k, dim))
    else:
        centres = np.asarray(centers, dtype=np.float64)
        if centres.ndim != 2:
            raise ValueError(
                f"blobs: centers must be an int or a (k, dim) array, got shape {centres.shape}"
            )
        k, dim = centres.shape
    y = rng.permutation(np.arange(n) % k)
    x = centres[y] + std * rng.standard_normal((n, dim))
    return x, y.astype(np.int64), centres


def nngp_regression(
    n: int = 100, n_test: int = 5000, d: int = 200, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Regression task of doc 004, problems 11-12.

    X ``(n, d)`` and X_test ``(n_test, d)`` have i.i.d. standard normal entries
    (X drawn first), then every row is scaled to unit Euclidean norm; the
    targets are y = f(x) = (1/d) sum_i sin(x_i) of the normalised rows.
    Returns ``X, y, X_test, y_test`` with y ``(n,)`` and y_test ``(n_test,)``, all float64.
    """
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d))
    x_test = rng.standard_normal((n_test, d))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    x_test /= np.linalg.norm(x_test, axis=1, keepdims=True)
    return x, np.sin(x).mean(axis=1), x_test, np.sin(x_test).mean(axis=1)


def linear_regression(
    n: int = 100, d: int = 10, p: int = 1, noise: float = 0.0, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Data for the linear networks f(x) = ABx of doc 004, problem 1 (and doc 000, section 2).

    X ``(n, d)`` standard normal, a true map W ``(p, d)`` standard normal, and
    Y = X W^T + noise * standard normal, of shape ``(n, p)``. (Doc 004 writes
    the data column-wise, X in R^{d x n} and y in R^{1 x n}: use ``X.T`` and ``Y.T``.)
    Returns ``X, Y, W``, all float64.
    """
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d))
    w = rng.standard_normal((p, d))
    y = x @ w.T + noise * rng.standard_normal((n, p))
    return x, y, w


def linear_autoencoder(n: int = 1, d: int = 100, seed: int = 0) -> np.ndarray:
    """Data of the linear autoencoder of doc 004, problem 3: z ~ N(0, I_d).

    The document autoencodes a single sample (n = 1) in d = 100 dimensions.
    Returns z ``(n, d)`` float64.
    """
    return np.random.default_rng(seed).standard_normal((n, d))
