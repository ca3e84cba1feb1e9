"""DataLoader, array helpers and batch augmentations."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import datasets
from datasets import DataLoader


def _data(n=23):
    x = np.arange(n * 2, dtype=np.float64).reshape(n, 2)
    y = np.arange(n)
    return x, y


# ----------------------------------------------------------------------------- DataLoader


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 60),
    batch_size=st.integers(1, 20),
    shuffle=st.booleans(),
    drop_last=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_each_epoch_visits_every_example_once(n, batch_size, shuffle, drop_last, seed):
    x, y = _data(n)
    loader = DataLoader((x, y), batch_size, shuffle=shuffle, seed=seed, drop_last=drop_last)
    batches = list(loader)
    assert len(batches) == len(loader)
    seen = np.concatenate([yb for _, yb in batches]) if batches else np.array([], dtype=int)
    for xb, yb in batches:
        assert len(xb) == len(yb) <= batch_size
        np.testing.assert_array_equal(xb, x[yb])  # arrays stay aligned
    if drop_last:
        assert all(len(yb) == batch_size for _, yb in batches)
        assert len(seen) == (n // batch_size) * batch_size
        assert len(np.unique(seen)) == len(seen)
    else:
        assert sorted(seen.tolist()) == list(range(n))
    if not shuffle:
        assert seen.tolist() == list(range(len(seen)))


def test_shuffle_is_deterministic_per_seed_and_changes_per_epoch():
    x, y = _data(50)
    a = DataLoader((x, y), 8, shuffle=True, seed=7)
    b = DataLoader((x, y), 8, shuffle=True, seed=7)
    c = DataLoader((x, y), 8, shuffle=True, seed=8)

    def order(loader):
        return np.concatenate([yb for _, yb in loader])

    a0, a1 = order(a), order(a)
    assert a.epoch == 2
    np.testing.assert_array_equal(a0, order(b))
    np.testing.assert_array_equal(a1, order(b))
    assert not np.array_equal(a0, a1)
    assert not np.array_equal(a0, order(c))
    a.set_epoch(1)  # resume: epoch 1 again gives the same order
    np.testing.assert_array_equal(order(a), a1)
    assert a.epoch == 2


def test_unshuffled_batches_are_views_and_single_array_yields_arrays():
    x, y = _data(10)
    loader = DataLoader(x, 4)
    batches = list(loader)
    assert all(isinstance(b, np.ndarray) for b in batches)
    assert [len(b) for b in batches] == [4, 4, 2]
    assert np.shares_memory(batches[0], x)
    assert len(DataLoader(x, 4, drop_last=True)) == 2


def test_loader_rejects_misaligned_arrays_and_bad_batch_size():
    x, y = _data(10)
    with pytest.raises(ValueError, match=r"share their first dimension.*\(10, 2\).*\(9,\)"):
        DataLoader((x, y[:9]), 4)
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        DataLoader((x, y), 0)


def test_augment_hook_is_applied_to_inputs_only_and_is_seeded():
    x = np.arange(6 * 3 * 4 * 4, dtype=np.uint8).reshape(6, 3, 4, 4)
    y = np.arange(6)
    flip = datasets.random_flip(p=1.0)
    ((xb, yb),) = list(DataLoader((x, y), 6, augment=flip))
    np.testing.assert_array_equal(xb, x[..., ::-1])
    np.testing.assert_array_equal(yb, y)
    assert x[0, 0, 0, 0] == 0  # the dataset itself is untouched
    aug = datasets.compose(datasets.random_crop(2), datasets.random_flip())
    runs = [
        [xb.copy() for xb, _ in DataLoader((x, y), 4, shuffle=True, seed=3, augment=aug)]
        for _ in range(2)
    ]
    for a, b in zip(*runs, strict=False):
        np.testing.assert_array_equal(a, b)


# ----------------------------------------------------------------------------- augmentations


def test_random_crop_matches_per_image_reference():
    rng = np.random.default_rng(0)
    x = rng.integers(1, 256, (16, 3, 8, 8), dtype=np.uint8)
    out = datasets.random_crop(padding=2)(x, np.random.default_rng(1))
    assert out.shape == x.shape and out.dtype == x.dtype
    padded = np.pad(x, ((0, 0), (0, 0), (2, 2), (2, 2)))
    offsets = []
    for i in range(
        len(x)
    ):  # each output must be one 8x8 window of its padded input, all channels alike
        matches = [
            (top, left)
            for top in range(5)
            for left in range(5)
            if np.array_equal(out[i], padded[i, :, top : top + 8, left : left + 8])
        ]
        assert matches, f"image {i} is not a crop of its padded input"
        offsets.append(matches[0])
    assert len(set(offsets)) > 1  # offsets differ between images
    np.testing.assert_array_equal(datasets.random_crop(0)(x, rng), x)


def test_random_crop_grayscale_and_rejects_flat_input():
    x = np.ones((5, 6, 6), dtype=np.float32)
    out = datasets.random_crop(1)(x, np.random.default_rng(0))
    assert out.shape == (5, 6, 6)
    assert set(np.unique(out)) <= {0.0, 1.0}
    with pytest.raises(
        ValueError, match=r"random_crop: expected images \(n, \.\.\., H, W\), got shape \(5, 36\)"
    ):
        datasets.random_crop(1)(x.reshape(5, 36), np.random.default_rng(0))


def test_random_flip_flips_some_images_horizontally():
    x = np.random.default_rng(0).random((200, 3, 5, 5))
    out = datasets.random_flip(0.5)(x, np.random.default_rng(2))
    flipped = np.array([np.array_equal(o, a[..., ::-1]) for o, a in zip(out, x, strict=False)])
    same = np.array([np.array_equal(o, a) for o, a in zip(out, x, strict=False)])
    assert np.all(flipped ^ same)
    assert 60 < flipped.sum() < 140
    np.testing.assert_array_equal(datasets.random_flip(0.0)(x, np.random.default_rng(0)), x)


# ----------------------------------------------------------------------------- helpers


def test_normalize_and_flatten():
    x = np.array([[[0, 255], [51, 102]]], dtype=np.uint8)
    out = datasets.normalize(x)
    assert out.dtype == np.float32 and out.shape == (1, 2, 2)
    np.testing.assert_allclose(out.ravel(), [0.0, 1.0, 0.2, 0.4], rtol=1e-6)
    assert datasets.flatten(np.zeros((4, 3, 32, 32))).shape == (4, 3072)


def test_train_val_split_default_and_seeded():
    x = np.arange(60000).reshape(60000, 1)
    y = np.arange(60000)
    (x_tr, y_tr), (x_val, y_val) = datasets.train_val_split(x, y)
    assert len(y_tr) == 50000 and len(y_val) == 10000
    assert np.intersect1d(y_tr, y_val).size == 0
    np.testing.assert_array_equal(x_val[:, 0], y_val)
    assert np.all(np.diff(y_tr) > 0) and np.all(np.diff(y_val) > 0)  # original order kept
    (_, y_tr2), (_, y_val2) = datasets.train_val_split(x, y)
    np.testing.assert_array_equal(y_val, y_val2)
    (_, _), (_, y_val3) = datasets.train_val_split(x, y, seed=1)
    assert not np.array_equal(y_val, y_val3)
    (_, _), (_, y_val4) = datasets.train_val_split(x[:100], y[:100], val_size=0.2)
    assert len(y_val4) == 20
    with pytest.raises(ValueError, match="val_size=100 gives 100 validation examples out of 100"):
        datasets.train_val_split(x[:100], y[:100], val_size=100)
    with pytest.raises(ValueError, match="x has 100 examples"):
        datasets.train_val_split(x[:100], y[:99])


def test_select_classes_mnist_3_vs_9():
    y = np.array([3, 1, 9, 3, 9, 0, 3])
    x = np.arange(7)
    xs, ys = datasets.select_classes(x, y, (3, 9), new_labels=(1, -1))
    assert xs.tolist() == [0, 2, 3, 4, 6]
    assert ys.tolist() == [1, -1, 1, -1, 1] and ys.dtype == np.int64
    _, ys = datasets.select_classes(x, y, (9, 0, 3))
    assert ys.tolist() == [2, 0, 2, 0, 1, 2]
    with pytest.raises(ValueError, match="must be distinct and match new_labels"):
        datasets.select_classes(x, y, (3, 9), new_labels=(1,))


def test_one_hot():
    out = datasets.one_hot(np.array([2, 0, 1]), 4)
    assert out.dtype == np.float32 and out.shape == (3, 4)
    assert out.tolist() == [[0, 0, 1, 0], [1, 0, 0, 0], [0, 1, 0, 0]]
    assert datasets.one_hot(np.array([1, 3])).shape == (2, 4)
    with pytest.raises(ValueError, match=r"labels range 0..5, expected 0..3"):
        datasets.one_hot(np.array([0, 5]), 4)


def test_subset():
    x, y = _data(20)
    xs, ys = datasets.subset(x, y, 5)
    assert ys.tolist() == [0, 1, 2, 3, 4]
    _, ys1 = datasets.subset(x, y, 5, seed=1)
    _, ys2 = datasets.subset(x, y, 5, seed=1)
    assert (
        ys1.tolist() == ys2.tolist()
        and len(set(ys1.tolist())) == 5
        and ys1.tolist() == sorted(ys1.tolist())
    )
    with pytest.raises(ValueError, match="n=21 but there are only 20 examples"):
        datasets.subset(x, y, 21)
