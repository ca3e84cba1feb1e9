"""Closed-form dual activations shared by the NNGP experiments (doc 004, problems 5-12).

The dual activation of phi is  dual(xi) = E[phi(u) phi(v)],  (u, v) ~ N(0, [[1, xi], [xi, 1]]),
for xi in [-1, 1].  Every function here maps an array of xi (any shape) to an array of the same
shape; xi is clipped to [-1, 1] first, because Gram matrices of unit vectors computed in floating
point can leave that interval by a few ulps.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Dual = Callable[[np.ndarray], np.ndarray]


def _clip(xi: np.ndarray) -> np.ndarray:
    return np.clip(np.asarray(xi, dtype=np.float64), -1.0, 1.0)


def dual_identity(xi: np.ndarray) -> np.ndarray:
    """phi(x) = x  ->  xi  (problem 5)."""
    return _clip(xi)


def dual_exp(xi: np.ndarray, c: float) -> np.ndarray:
    """phi(x) = exp(-c^2 + c x)  ->  exp(-c^2 + c^2 xi)  (problem 6)."""
    return np.exp(-c * c + c * c * _clip(xi))


def dual_sin(xi: np.ndarray) -> np.ndarray:
    """phi(x) = sin(x)  ->  e^-1 sinh(xi)  (problem 7)."""
    return np.exp(-1.0) * np.sinh(_clip(xi))


def dual_cos(xi: np.ndarray) -> np.ndarray:
    """phi(x) = cos(x)  ->  e^-1 cosh(xi)  (problem 9)."""
    return np.exp(-1.0) * np.cosh(_clip(xi))


def dual_relu(xi: np.ndarray) -> np.ndarray:
    """phi(x) = max(0, x)  ->  (sqrt(1 - xi^2) + (pi - arccos xi) xi) / (2 pi), the first-order
    arc-cosine kernel; twice this is the normalised ReLU NNGP kernel of problems 11-12."""
    xi = _clip(xi)
    return (np.sqrt(1.0 - xi * xi) + (np.pi - np.arccos(xi)) * xi) / (2.0 * np.pi)


def dual_erf(xi: np.ndarray) -> np.ndarray:
    """phi(x) = erf(x)  ->  (2 / pi) arcsin(2 xi / 3), the arcsine kernel."""
    return (2.0 / np.pi) * np.arcsin(2.0 * _clip(xi) / 3.0)


def normalised(dual: Dual) -> Dual:
    """The normalised kernel xi -> dual(xi) / dual(1), so that k(x, x) = 1 on the unit sphere
    (by problem 8, the dual of phi / sqrt(dual(1)))."""
    scale = float(dual(np.array(1.0)))
    return lambda xi: dual(xi) / scale
