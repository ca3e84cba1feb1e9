"""Files in the publishers' formats, built by the tests independently of datasets.formats,
and small helpers shared by the tests in tests/datasets."""

from __future__ import annotations

import gzip
import hashlib
import io
import struct
import tarfile
from pathlib import Path

import numpy as np

import datasets
from datasets import real


def idx_bytes(array: np.ndarray) -> bytes:
    """IDX bytes built with struct, independently of datasets.formats.write_idx."""
    code = {np.uint8: 0x08, np.int32: 0x0C}[array.dtype.type]
    header = struct.pack(">BBBB", 0, 0, code, array.ndim) + struct.pack(
        f">{array.ndim}I", *array.shape
    )
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def npz_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, arr_0=array)
    return buffer.getvalue()


def cifar_bytes(images: np.ndarray, labels: np.ndarray) -> bytes:
    records = np.concatenate(
        [labels.astype(np.uint8)[:, None], images.reshape(len(labels), -1)], axis=1
    )
    return records.tobytes()


def tar_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, body in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    return buffer.getvalue()


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def make_mnist(n_train=7, n_test=5, seed=0):
    """Tiny MNIST in the official layout: returns (arrays, {file name: gz bytes},
    {file name: raw bytes})."""
    rng = np.random.default_rng(seed)
    arrays = {
        "train": (
            rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
            rng.integers(0, 10, n_train).astype(np.uint8),
        ),
        "test": (
            rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
            rng.integers(0, 10, n_test).astype(np.uint8),
        ),
    }
    raw = {
        "train-images-idx3-ubyte.gz": idx_bytes(arrays["train"][0]),
        "train-labels-idx1-ubyte.gz": idx_bytes(arrays["train"][1]),
        "t10k-images-idx3-ubyte.gz": idx_bytes(arrays["test"][0]),
        "t10k-labels-idx1-ubyte.gz": idx_bytes(arrays["test"][1]),
    }
    gz = {name: gzip.compress(body, mtime=1234) for name, body in raw.items()}
    return arrays, gz, raw


def mnist_spec(urls, gz, raw) -> datasets.DatasetSpec:
    files = tuple(datasets.FileSpec(n, md5=md5(gz[n]), content_sha256=sha256(raw[n])) for n in gz)
    return datasets.DatasetSpec(
        name="mnist",
        title="MNIST",
        urls=tuple(urls),
        files=files,
        splits=real.DATASETS["mnist"].splits,
    )


def make_cifar(n=3, seed=1):
    rng = np.random.default_rng(seed)
    batches = {}
    for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
        batches[name] = (
            rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8),
            rng.integers(0, 10, n),
        )
    members = {f"cifar-10-batches-bin/{k}": cifar_bytes(*v) for k, v in batches.items()}
    members["cifar-10-batches-bin/batches.meta.txt"] = b"airplane\n"
    return batches, members


def cache_files(root: Path) -> list[str]:
    return (
        sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
        if root.exists()
        else []
    )
