"""datasets.real: the registry, the dataset loaders (MNIST, KMNIST, CIFAR-10 and its
records loader) and where they find their files: HTTP mirrors, local mirror folders and
root= copies.
"""

from __future__ import annotations

import gzip
import warnings
from pathlib import Path

import numpy as np
import pytest

import datasets
from datasets import download, real
from tests.datasets.helpers import (
    cache_files,
    cifar_bytes,
    idx_bytes,
    make_mnist,
    md5,
    mnist_spec,
    npz_bytes,
    sha256,
    tar_bytes,
)

pytestmark = pytest.mark.usefixtures("isolated")  # no internet, own cache (conftest.py)


# ----------------------------------------------------------------------------------------- registry


def test_registry_holds_official_urls_and_checksums():
    specs = real.DATASETS
    assert specs["mnist"].urls[0] == "https://ossci-datasets.s3.amazonaws.com/mnist/"
    assert (
        specs["mnist"].file("train-images-idx3-ubyte.gz").md5 == "f68b3c2dcbeaaa9fbdd348bbdeb94873"
    )
    assert (
        specs["fashion_mnist"].file("t10k-labels-idx1-ubyte.gz").md5
        == "bb300cfdad3c16e7a12a480ee83cd310"
    )
    assert specs["kmnist"].file("kmnist-train-imgs.npz").md5 == "a183fbc01ed9a345513b145673d3d0bb"
    assert specs["cifar10"].file("cifar-10-binary.tar.gz").md5 == "c32a1d4ab5d03f1284b67883e8d87530"
    assert specs["cifar10"].urls == ("https://www.cs.toronto.edu/~kriz/",)
    for spec in specs.values():
        assert set(spec.splits) == {"train", "test"}
        for names in spec.splits.values():
            for name in names:
                f = spec.file(name)
                assert f.md5 and len(f.md5) == 32
                if name.endswith(".gz"):
                    assert f.content_sha256 and len(f.content_sha256) == 64


# ------------------------------------------------------------------------------------------ loaders


def test_parse_error_of_downloaded_file_names_it(server, monkeypatch):
    """A file that matches its (test) checksum but is not IDX is reported by the parser."""
    arrays, gz, raw = make_mnist()
    gz["t10k-images-idx3-ubyte.gz"] = gzip.compress(
        idx_bytes(arrays["test"][1])
    )  # labels where images belong
    raw["t10k-images-idx3-ubyte.gz"] = idx_bytes(arrays["test"][1])
    server.serve(gz)
    monkeypatch.setitem(real.DATASETS, "mnist", mnist_spec([server.url], gz, raw))
    with pytest.raises(
        datasets.FormatError, match=r"t10k-images-idx3-ubyte\.gz: magic number 2049.*expected 2051"
    ):
        datasets.mnist(split="test", progress=False)


def test_kmnist_npz_download(server, monkeypatch):
    rng = np.random.default_rng(3)
    x, y = (
        rng.integers(0, 256, (4, 28, 28), dtype=np.uint8),
        rng.integers(0, 10, 4).astype(np.uint8),
    )
    files = {"kmnist-test-imgs.npz": npz_bytes(x), "kmnist-test-labels.npz": npz_bytes(y)}
    server.serve(files)
    spec = datasets.DatasetSpec(
        name="kmnist",
        title="Kuzushiji-MNIST",
        urls=(server.url,),
        files=tuple(datasets.FileSpec(n, md5=md5(b)) for n, b in files.items())
        + (
            datasets.FileSpec("kmnist-train-imgs.npz", md5="0" * 32),
            datasets.FileSpec("kmnist-train-labels.npz", md5="0" * 32),
        ),
        splits=real.DATASETS["kmnist"].splits,
    )
    monkeypatch.setitem(real.DATASETS, "kmnist", spec)
    x2, y2 = datasets.kmnist(split="test", progress=False)
    np.testing.assert_array_equal(x2, x)
    np.testing.assert_array_equal(y2, y)
    assert y2.dtype == np.int64


def test_cifar10_archive_download_and_cache(server, tiny_cifar, tmp_path):
    batches, _, _ = tiny_cifar
    x, y = datasets.cifar10(split="test", progress=False)
    np.testing.assert_array_equal(x, batches["test_batch.bin"][0])
    np.testing.assert_array_equal(y, batches["test_batch.bin"][1])
    assert x.shape == (3, 3, 32, 32)
    assert "cifar10/cifar-10-batches-bin/test_batch.bin" in cache_files(tmp_path / "cache")
    assert not any(".part" in f for f in cache_files(tmp_path / "cache"))
    server.routes.clear()
    x_tr, y_tr = datasets.cifar10(split="train", progress=False)  # extracted already: no network
    assert x_tr.shape == (15, 3, 32, 32)
    np.testing.assert_array_equal(x_tr[:3], batches["data_batch_1.bin"][0])
    np.testing.assert_array_equal(y_tr[12:], batches["data_batch_5.bin"][1])
    assert server.hits["/cifar-10-binary.tar.gz"] == 1


def test_cifar10_archive_with_escaping_member_is_refused(server, tiny_cifar, monkeypatch, tmp_path):
    _, members, _ = tiny_cifar
    bad = tar_bytes({**members, "../../escaped.bin": b"x"})
    spec = real.DATASETS["cifar10"]
    files = (datasets.FileSpec("cifar-10-binary.tar.gz", md5=md5(bad)),) + spec.files[1:]
    monkeypatch.setitem(
        real.DATASETS,
        "cifar10",
        datasets.DatasetSpec(
            name="cifar10", title="CIFAR-10", urls=spec.urls, files=files, splits=spec.splits
        ),
    )
    server.serve({"cifar-10-binary.tar.gz": bad})
    with pytest.raises(datasets.UnsafeArchiveError, match=r"'\.\./\.\./escaped\.bin'"):
        datasets.cifar10(split="test", progress=False)
    assert cache_files(tmp_path / "cache") == ["cifar10/cifar-10-binary.tar.gz"]
    assert not list(tmp_path.rglob("escaped.bin"))


def test_cifar10_from_records_with_index(tmp_path):
    images = np.random.default_rng(5).integers(0, 256, (4, 3, 32, 32), dtype=np.uint8)
    labels = np.array([6, 9, 9, 4])
    data = cifar_bytes(images, labels)
    (tmp_path / "subset.bin").write_bytes(data)
    (tmp_path / "subset.index.txt").write_text("0\n2\n7\n40000\n")
    with pytest.warns(UserWarning, match="without checksum verification"):
        x, y, index = datasets.cifar10_from_records(
            tmp_path / "subset.bin", tmp_path / "subset.index.txt"
        )
    np.testing.assert_array_equal(x, images)
    assert y.tolist() == [6, 9, 9, 4] and index.tolist() == [0, 2, 7, 40000]
    with pytest.raises(ValueError, match="verify=True needs sha256="):
        datasets.cifar10_from_records(tmp_path / "subset.bin", verify=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, _, index = datasets.cifar10_from_records(
            tmp_path / "subset.bin", verify=True, sha256=sha256(data)
        )
    assert index.tolist() == [0, 1, 2, 3]
    with pytest.raises(datasets.ChecksumError):
        datasets.cifar10_from_records(tmp_path / "subset.bin", verify=True, sha256="0" * 64)


def test_bad_split_name():
    with pytest.raises(
        ValueError, match=r"split must be one of \['test', 'train'\] or None, got 'val'"
    ):
        datasets.mnist(split="val")
    with pytest.raises(ValueError, match="unknown dataset 'svhn'"):
        datasets.load("svhn")


# ------------------------------------------------------------------------- mirrors and local copies


def test_http_mirror_from_environment(server, monkeypatch, tmp_path):
    arrays, gz, raw = make_mnist()
    server.serve(gz, prefix="/mirror/mnist/")
    # the official URL must not be used when a mirror is set
    monkeypatch.setitem(real.DATASETS, "mnist", mnist_spec([server.url + "official/"], gz, raw))
    monkeypatch.setenv(download.ENV_MIRROR, server.url + "mirror")
    x, y = datasets.mnist(split="test", progress=False)
    np.testing.assert_array_equal(y, arrays["test"][1])
    assert not any(path.startswith("/official/") for path in server.hits)
    assert cache_files(tmp_path / "cache") == [
        "mnist/t10k-images-idx3-ubyte.gz",
        "mnist/t10k-labels-idx1-ubyte.gz",
    ]


def test_http_mirror_serving_bare_cifar_batches(server, tiny_cifar, monkeypatch, tmp_path):
    batches, members, _ = tiny_cifar
    server.routes.clear()  # no archive anywhere: only the bare test batch, in a per-dataset folder
    server.serve(
        {"test_batch.bin": members["cifar-10-batches-bin/test_batch.bin"]}, prefix="/m/cifar10/"
    )
    x, y = datasets.cifar10(split="test", mirror=server.url + "m/", progress=False)
    np.testing.assert_array_equal(y, batches["test_batch.bin"][1])
    assert cache_files(tmp_path / "cache") == ["cifar10/cifar-10-batches-bin/test_batch.bin"]
    with pytest.raises(
        datasets.DownloadError
    ) as info:  # train: neither the batches nor the archive
        datasets.cifar10(split="train", mirror=server.url + "m/", progress=False)
    message = str(info.value)
    assert "m/cifar10/data_batch_1.bin: HTTP 404" in message
    assert (
        "Nor could the archive holding it be fetched" in message
        and "cifar-10-binary.tar.gz: HTTP 404" in message
    )


def test_local_mirror_folder_and_recompressed_copy(server, tiny_mnist, tmp_path, monkeypatch):
    arrays, gz, raw = tiny_mnist
    folder = tmp_path / "mirror" / "mnist"
    folder.mkdir(parents=True)
    for name, body in raw.items():  # re-compressed with another header, like Debian's package
        (folder / name).write_bytes(gzip.compress(body, mtime=1590000000, compresslevel=9))
    monkeypatch.setenv(download.ENV_MIRROR, str(tmp_path / "mirror"))
    (x_tr, y_tr), (x_te, y_te) = datasets.mnist()
    np.testing.assert_array_equal(x_tr, arrays["train"][0])
    np.testing.assert_array_equal(y_te, arrays["test"][1])
    assert sum(server.hits.values()) == 0
    assert cache_files(tmp_path / "cache") == []  # read in place, not copied


def test_local_copy_with_changed_content_is_refused_unless_verify_false(tiny_mnist, tmp_path):
    arrays, _, raw = tiny_mnist
    for name, body in raw.items():
        (tmp_path / name).write_bytes(gzip.compress(body))
    changed = bytearray(raw["t10k-images-idx3-ubyte.gz"])
    changed[100] ^= 0xFF
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(bytes(changed)))
    with pytest.raises(datasets.ChecksumError, match=r"t10k-images-idx3-ubyte\.gz.*verify=False"):
        datasets.mnist(split="test", root=tmp_path)
    with pytest.warns(UserWarning, match="without checksum verification"):
        x, _ = datasets.mnist(split="test", root=tmp_path, verify=False)
    assert (x != arrays["test"][0]).sum() == 1


def test_root_missing_file_fails_fast(server, tiny_mnist, tmp_path):
    (tmp_path / "copy").mkdir()
    with pytest.raises(datasets.DataNotFoundError) as info:
        datasets.mnist(split="train", root=tmp_path / "copy")
    message = str(info.value)
    assert (
        "'train-images-idx3-ubyte.gz' not found in root=" in message
        and "AUTODIFF_DATA_MIRROR" in message
    )
    assert sum(server.hits.values()) == 0


def test_mirror_folder_missing_kmnist_train_fails_fast(server, tmp_path, monkeypatch):
    folder = tmp_path / "mirror" / "kmnist"
    folder.mkdir(parents=True)
    (folder / "kmnist-train-labels.npz").write_bytes(npz_bytes(np.zeros(3, dtype=np.uint8)))
    with pytest.raises(datasets.DataNotFoundError) as info:
        datasets.kmnist(split="train", mirror=tmp_path / "mirror")
    message = str(info.value)
    assert "'kmnist-train-imgs.npz' not found in mirror folder" in message
    assert "http://codh.rois.ac.jp/kmnist/dataset/kmnist/kmnist-train-imgs.npz" in message
    assert sum(server.hits.values()) == 0


@pytest.mark.parametrize("layout", ["bare", "extracted"])
def test_cifar10_from_local_folder(tiny_cifar, server, tmp_path, layout):
    batches, members, _ = tiny_cifar
    folder = tmp_path / "copy" / ("cifar10" if layout == "bare" else "")
    for member, body in members.items():
        path = folder / (Path(member).name if layout == "bare" else member)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
    x, y = datasets.cifar10(split="test", root=tmp_path / "copy")
    np.testing.assert_array_equal(x, batches["test_batch.bin"][0])
    (x_tr, _), _ = datasets.cifar10(mirror=tmp_path / "copy")
    assert x_tr.shape == (15, 3, 32, 32)
    assert sum(server.hits.values()) == 0


def test_cifar10_train_missing_offline_points_to_records_loader(tiny_cifar, server, tmp_path):
    batches, members, _ = tiny_cifar
    (tmp_path / "copy").mkdir()
    (tmp_path / "copy" / "test_batch.bin").write_bytes(
        members["cifar-10-batches-bin/test_batch.bin"]
    )
    x, _ = datasets.cifar10(split="test", root=tmp_path / "copy")
    assert len(x) == 3
    with pytest.raises(
        datasets.DataNotFoundError, match=r"(?s)'data_batch_1\.bin' not found.*cifar10_from_records"
    ):
        datasets.cifar10(split="train", root=tmp_path / "copy")
    assert sum(server.hits.values()) == 0
