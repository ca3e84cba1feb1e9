"""Optional check of the offline copies in ``../shared/data`` (skipped when the folder is absent).

The folder is found relative to the repository: this file's parent's parent's
parent, then ``shared/data``. It is read through the mirror mechanism only.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pytest

import datasets
from datasets import download, real

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"

pytestmark = pytest.mark.skipif(
    not (SHARED / "MANIFEST.md").is_file(), reason=f"offline data copies not present at {SHARED}"
)

_ROW = re.compile(
    r"^\| `([^`]+)` \| ([\d,]+) \| `([0-9a-f]{64})` \| `([0-9a-f]{32})` \|", re.MULTILINE
)


@pytest.fixture(autouse=True)
def mirror(monkeypatch, tmp_path):
    monkeypatch.setenv(download.ENV_MIRROR, str(SHARED))
    monkeypatch.setenv(download.ENV_CACHE, str(tmp_path / "cache"))
    monkeypatch.setenv(download.ENV_OFFLINE, "1")  # never fall back to the network
    return tmp_path / "cache"


def manifest_rows() -> list[tuple[str, int, str, str]]:
    text = (SHARED / "MANIFEST.md").read_text(encoding="utf-8")
    files_section = text.split("## Formats")[
        0
    ]  # later tables describe files that are not in the folder
    return [
        (p, int(size.replace(",", "")), sha, md5)
        for p, size, sha, md5 in _ROW.findall(files_section)
    ]


def test_manifest_checksums():
    rows = manifest_rows()
    assert len(rows) >= 10
    for path, size, sha256, md5 in rows:
        data = (SHARED / path).read_bytes()
        assert len(data) == size, path
        assert hashlib.sha256(data).hexdigest() == sha256, path
        assert hashlib.md5(data).hexdigest() == md5, path


def registered_rows() -> list[tuple[download.FileSpec, int, str]]:
    """(registry entry, manifest size, manifest md5) of each file of the mnist, kmnist and
    cifar10 registries that the manifest lists: 4 + 3 + 1 of them."""
    rows = {Path(p).name: (size, md5) for p, size, _, md5 in manifest_rows()}
    found = [
        (spec, *rows[spec.name])
        for key in ("mnist", "kmnist", "cifar10")
        for spec in real.DATASETS[key].files
        if spec.name in rows
    ]
    assert len(found) == 4 + 3 + 1
    return found


def test_registry_agrees_with_manifest():
    for spec, _, md5 in registered_rows():
        assert spec.md5 == md5, spec.name
    for spec in real.DATASETS["mnist"].files:  # the uncompressed sha256s of the registry
        assert download._gzip_content_sha256(SHARED / "mnist" / spec.name) == spec.content_sha256


def test_mnist_through_mirror(mirror):
    (x_tr, y_tr), (x_te, y_te) = datasets.mnist()
    assert (
        x_tr.shape == (60000, 28, 28) and x_te.shape == (10000, 28, 28) and x_tr.dtype == np.uint8
    )
    assert np.bincount(y_tr).tolist() == [
        5923,
        6742,
        5958,
        6131,
        5842,
        5421,
        5918,
        6265,
        5851,
        5949,
    ]
    assert np.bincount(y_te).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    x, y = datasets.select_classes(x_tr, y_tr, (3, 9), new_labels=(1, -1))
    assert len(x) == 6131 + 5949 and set(y.tolist()) == {1, -1}
    assert not mirror.exists()  # read in place, nothing cached


def test_kmnist_through_mirror():
    x, y = datasets.kmnist(split="test")
    assert x.shape == (10000, 28, 28) and np.bincount(y).tolist() == [1000] * 10
    with pytest.raises(
        datasets.DataNotFoundError, match=r"'kmnist-train-imgs\.npz' not found in mirror folder"
    ):
        datasets.kmnist(split="train")


def test_cifar10_through_mirror():
    x, y = datasets.cifar10(split="test")
    assert x.shape == (10000, 3, 32, 32) and np.bincount(y).tolist() == [1000] * 10
    with pytest.raises(datasets.DataNotFoundError, match="cifar10_from_records"):
        datasets.cifar10(split="train")
    with pytest.warns(UserWarning, match="without checksum verification"):
        x, y, index = datasets.cifar10_from_records(
            SHARED / "cifar10" / "train_exact_subset.bin",
            SHARED / "cifar10" / "train_exact_subset.index.txt",
        )
    assert x.shape == (38646, 3, 32, 32)
    assert np.bincount(y).tolist() == [3861, 3853, 3891, 3825, 3907, 3817, 3904, 3889, 3854, 3845]
    assert np.all(np.diff(index) > 0) and index[:4000].tolist() == list(range(4000))
    assert np.bincount(index // 10000).tolist() == [7596, 6574, 7375, 8151, 8950]
    assert y[:10].tolist() == [6, 9, 9, 4, 1, 1, 2, 7, 8, 3]  # the known start of data_batch_1


def test_registry_sizes_agree_with_manifest():
    for spec, size, _ in registered_rows():
        assert spec.size == size, spec.name
