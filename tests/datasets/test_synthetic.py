"""Synthetic generators: shapes, labels, balance and determinism per seed."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import datasets


@settings(max_examples=30, deadline=None)
@given(d=st.integers(1, 12), n=st.integers(1, 50), seed=st.integers(0, 1000))
def test_parity_labels_are_minus_one_to_the_masked_sum(d, n, seed):
    x, y, v = datasets.parity(n, d, seed=seed)
    assert x.shape == (n, d) and y.shape == (n,) and v.shape == (d,)
    assert set(np.unique(x)) <= {0.0, 1.0} and set(np.unique(v)) <= {0, 1}
    for xi, yi in zip(x, y, strict=False):
        count = sum(int(a) * int(b) for a, b in zip(xi, v, strict=False))
        assert yi == (-1) ** count


def test_parity_determinism_and_mask():
    a = datasets.parity(100, 8, seed=3)
    b = datasets.parity(100, 8, seed=3)
    c = datasets.parity(100, 8, seed=4)
    for u, w in zip(a, b, strict=False):
        np.testing.assert_array_equal(u, w)
    assert not np.array_equal(a[0], c[0])
    mask = np.array([1, 1, 0, 0, 0, 0, 0, 0])
    x, y, v = datasets.parity(100, 8, seed=0, mask=mask)
    np.testing.assert_array_equal(v, mask)
    np.testing.assert_array_equal(y, np.where(x[:, 0] == x[:, 1], 1.0, -1.0))
    with pytest.raises(ValueError, match=r"mask must be a 0/1 vector of shape \(8,\)"):
        datasets.parity(10, 8, mask=[1, 2, 0, 0, 0, 0, 0, 0])


def test_parity_enumerate_all_and_balance():
    x, y, v = datasets.parity(d=5, enumerate_all=True, mask=np.array([1, 0, 1, 1, 0]))
    assert x.shape == (32, 5)
    assert {tuple(r) for r in x.astype(int)} == set(itertools.product((0, 1), repeat=5))
    np.testing.assert_array_equal(x[6], [0, 0, 1, 1, 0])  # row i = binary digits of i
    assert y.sum() == 0  # a nonzero mask splits {0,1}^d exactly in half
    np.testing.assert_array_equal(y, (-1.0) ** (x @ v))
    _, y, _ = datasets.parity(20000, 10, seed=1, mask=np.ones(10, dtype=int))
    assert abs(y.mean()) < 0.05
    with pytest.raises(ValueError, match="n must be None"):
        datasets.parity(10, 5, enumerate_all=True)


def test_xor():
    x, y = datasets.xor()
    assert x.tolist() == [[-1, -1], [-1, 1], [1, -1], [1, 1]]
    assert y.tolist() == [1, -1, -1, 1]
    x, y = datasets.xor(400, noise=0.1, seed=2)
    assert x.shape == (400, 2) and y.shape == (400,)
    assert (y == 1).sum() == 200
    np.testing.assert_array_equal(
        y, np.sign(x[:, 0]) * np.sign(x[:, 1])
    )  # noise 0.1 never crosses an axis here
    np.testing.assert_array_equal(datasets.xor(400, noise=0.1, seed=2)[0], x)


def test_two_spirals():
    x, y = datasets.two_spirals(301, seed=1)
    assert x.shape == (301, 2) and y.dtype == np.int64
    assert np.bincount(y).tolist() == [151, 150]
    assert np.all(np.linalg.norm(x, axis=1) <= 1.0 + 1e-12)
    # class 1 is class 0 rotated by pi: the same radius gives opposite points
    r0, r1 = np.linalg.norm(x[y == 0], axis=1), np.linalg.norm(x[y == 1], axis=1)
    assert 0.3 < r0.mean() < 0.9 and 0.3 < r1.mean() < 0.9
    np.testing.assert_array_equal(datasets.two_spirals(301, seed=1)[0], x)
    assert not np.array_equal(datasets.two_spirals(301, seed=2)[0], x)


def test_blobs():
    x, y, centres = datasets.blobs(301, centers=4, dim=3, std=0.1, seed=0)
    assert x.shape == (301, 3) and centres.shape == (4, 3)
    assert np.bincount(y).tolist() == [76, 75, 75, 75]
    assert np.abs(x - centres[y]).max() < 1.0
    x, y, c = datasets.blobs(10, centers=np.array([[0.0, 0.0], [5.0, 5.0]]), std=0.0)
    np.testing.assert_array_equal(x, c[y])


def test_nngp_regression_defaults():
    x, y, x_test, y_test = datasets.nngp_regression()
    assert x.shape == (100, 200) and y.shape == (100,)
    assert x_test.shape == (5000, 200) and y_test.shape == (5000,)
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0)
    np.testing.assert_allclose(np.linalg.norm(x_test, axis=1), 1.0)
    np.testing.assert_allclose(y, np.sum(np.sin(x), axis=1) / 200)
    np.testing.assert_allclose(y_test, np.sum(np.sin(x_test), axis=1) / 200)
    np.testing.assert_array_equal(datasets.nngp_regression(seed=0)[0], x)
    assert not np.array_equal(datasets.nngp_regression(seed=1)[0], x)


def test_linear_regression_and_autoencoder():
    x, y, w = datasets.linear_regression(n=50, d=4, p=2, seed=0)
    assert x.shape == (50, 4) and y.shape == (50, 2) and w.shape == (2, 4)
    np.testing.assert_allclose(y, x @ w.T)
    _, y_noisy, _ = datasets.linear_regression(n=50, d=4, p=2, noise=0.5, seed=0)
    assert 0.2 < np.std(y_noisy - y) < 0.8
    z = datasets.linear_autoencoder()
    assert z.shape == (1, 100)
    np.testing.assert_array_equal(z, datasets.linear_autoencoder(seed=0))
