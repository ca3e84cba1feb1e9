"""Mini-batch iteration over aligned arrays."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from .transforms import Augment


class DataLoader:
    """Iterate over aligned arrays in mini-batches.

    arrays: one array or a sequence of arrays sharing their first dimension n
        (e.g. ``(x, y)``). Each batch is a tuple with one slice per array (or a
        bare array when a single array, not a sequence, was given).
    batch_size: examples per batch; the last batch may be smaller unless
        ``drop_last``.
    shuffle: visit the examples in a new random order each epoch.
    seed: the order of epoch k (and the augmentation draws) is a function of
        (seed, k) only, so runs are reproducible; None draws a fresh seed.
    augment: optional ``f(batch, rng) -> batch`` applied to the first array's
        batch, e.g. ``compose(random_crop(4), random_flip())`` for CIFAR-10.

    Nothing is copied per epoch but a permutation of n indices; a shuffled batch
    is gathered with fancy indexing, an unshuffled one is a view (copied only if
    ``augment`` changes it). ``epoch`` counts the epochs started so far; set it
    (or call :meth:`set_epoch`) to resume.
    """

    def __init__(
        self,
        arrays: np.ndarray | Sequence[np.ndarray],
        batch_size: int,
        shuffle: bool = False,
        seed: int | None = None,
        drop_last: bool = False,
        augment: Augment | None = None,
    ) -> None:
        self._single = isinstance(arrays, np.ndarray)
        self.arrays = (arrays,) if self._single else tuple(np.asarray(a) for a in arrays)
        if not self.arrays:
            raise ValueError("DataLoader: expected at least one array")
        lengths = [len(a) for a in self.arrays]
        if len(set(lengths)) != 1:
            raise ValueError(
                f"DataLoader: arrays must share their first dimension, got shapes "
                f"{[a.shape for a in self.arrays]}"
            )
        if int(batch_size) < 1:
            raise ValueError(f"DataLoader: batch_size must be >= 1, got {batch_size}")
        self.n = lengths[0]
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.augment = augment
        self.epoch = 0
        self._entropy = np.random.SeedSequence(seed).entropy

    def __len__(self) -> int:
        """Number of batches per epoch."""
        full, rest = divmod(self.n, self.batch_size)
        return full if self.drop_last or rest == 0 else full + 1

    def set_epoch(self, epoch: int) -> None:
        """Make the next iteration run epoch ``epoch`` (its order depends only on seed and
        epoch)."""
        self.epoch = int(epoch)

    def __iter__(self) -> Iterator[np.ndarray | tuple[np.ndarray, ...]]:
        order_seq, augment_seq = np.random.SeedSequence(
            self._entropy, spawn_key=(self.epoch,)
        ).spawn(2)
        self.epoch += 1
        order = np.random.default_rng(order_seq).permutation(self.n) if self.shuffle else None
        rng = np.random.default_rng(augment_seq)
        for b in range(len(self)):
            start, stop = b * self.batch_size, min((b + 1) * self.batch_size, self.n)
            index = slice(start, stop) if order is None else order[start:stop]
            batch = [a[index] for a in self.arrays]
            if self.augment is not None:
                batch[0] = self.augment(batch[0], rng)
            yield batch[0] if self._single else tuple(batch)
