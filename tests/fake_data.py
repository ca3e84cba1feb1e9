"""Small, easy image datasets written in the publishers' formats and served through the
dataset mirror mechanism, for the quick runs of the data experiments.

``fake_mirror(monkeypatch, tmp_path, "mnist", n_train=600, n_test=200)`` writes the
files into ``tmp_path/mirror/<key>/``, replaces the registry entry of ``key`` with
one whose checksums are those of the generated files, and points
``$AUTODIFF_DATA_MIRROR`` there (and ``$AUTODIFF_DATA`` at an empty cache), so the
experiments load them exactly as they load the real files. Each class is a fixed
random template plus noise, so a small model separates the classes quickly.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
from pathlib import Path

import numpy as np

from datasets import download, real
from datasets.formats import write_idx

SHAPES = {"mnist": (28, 28), "fashion_mnist": (28, 28), "kmnist": (28, 28), "cifar10": (3, 32, 32)}


def easy_images(
    n: int, shape: tuple[int, ...], seed: int, classes: int = 10, noise: float = 40.0
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` uint8 images of ``shape`` (templates shared by every call) and labels 0..9,
    every class present when n >= classes."""
    templates = np.random.default_rng(12345).integers(0, 256, (classes, *shape)).astype(np.float64)
    rng = np.random.default_rng(seed)
    y = np.arange(n) % classes
    rng.shuffle(y)
    x = templates[y] + rng.normal(0.0, noise, (n, *shape))
    return np.clip(np.rint(x), 0, 255).astype(np.uint8), y.astype(np.uint8)


def _write(key: str, folder: Path, splits: dict[str, tuple]) -> dict[str, bytes]:
    """Write the split files of ``key`` into ``folder``; returns {file name: bytes}."""
    folder.mkdir(parents=True, exist_ok=True)
    spec = real.DATASETS[key]
    written: dict[str, bytes] = {}
    for split, (x, y) in splits.items():
        names = spec.splits[split]
        if key == "cifar10":
            parts = np.array_split(np.arange(len(y)), len(names))
            for name, part in zip(names, parts, strict=False):
                records = np.concatenate([y[part, None], x[part].reshape(len(part), -1)], axis=1)
                written[name] = records.astype(np.uint8).tobytes()
        elif key == "kmnist":
            for name, array in zip(names, (x, y), strict=False):
                buffer = io.BytesIO()
                np.savez_compressed(buffer, arr_0=array)
                written[name] = buffer.getvalue()
        else:
            for name, array in zip(names, (x, y), strict=False):
                raw = folder / (name + ".raw")
                write_idx(raw, array, compress=False)
                written[name] = gzip.compress(raw.read_bytes(), mtime=0)
                raw.unlink()
    for name, body in written.items():
        (folder / name).write_bytes(body)
    return written


def fake_mirror(
    monkeypatch,
    tmp_path: Path,
    key: str,
    n_train: int = 600,
    n_test: int = 200,
    seed: int = 0,
    noise: float = 40.0,
    splits: tuple[str, ...] = ("train", "test"),
) -> Path:
    """Generated ``key`` files in a mirror folder the loaders use; returns the mirror folder.
    ``splits`` chooses which splits' files are written (e.g. only "test")."""
    mirror = tmp_path / "mirror"
    shape = SHAPES[key]
    data = {
        "train": easy_images(n_train, shape, seed, noise=noise),
        "test": easy_images(n_test, shape, seed + 1, noise=noise),
    }
    written = _write(key, mirror / key, {s: data[s] for s in splits})
    spec = real.DATASETS[key]
    files = tuple(
        dataclasses.replace(
            f,
            md5=hashlib.md5(written[f.name]).hexdigest(),
            sha256=None,
            content_sha256=None,
            archive=None,
            member=None,
        )
        if f.name in written
        else f
        for f in spec.files
    )
    monkeypatch.setitem(real.DATASETS, key, dataclasses.replace(spec, files=files))
    monkeypatch.setenv(download.ENV_MIRROR, str(mirror))
    monkeypatch.setenv(download.ENV_CACHE, str(tmp_path / "cache"))
    monkeypatch.delenv(download.ENV_OFFLINE, raising=False)
    return mirror


def fake_cifar_subset(mirror: Path, n: int = 300, seed: int = 5) -> Path:
    """A file of CIFAR-10 training records (plus index file) like ../shared/data's exact
    subset, in ``mirror/cifar10/``; returns the records file."""
    folder = mirror / "cifar10"
    folder.mkdir(parents=True, exist_ok=True)
    x, y = easy_images(n, SHAPES["cifar10"], seed)
    records = np.concatenate([y[:, None], x.reshape(n, -1)], axis=1).astype(np.uint8)
    path = folder / "train_exact_subset.bin"
    path.write_bytes(records.tobytes())
    index = np.sort(np.random.default_rng(seed).choice(50000, n, replace=False))
    (folder / "train_exact_subset.index.txt").write_text("".join(f"{i}\n" for i in index))
    return path
