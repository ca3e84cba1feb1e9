"""datasets.download: verification, the cache, archive extraction, and downloads from the
local HTTP server of conftest.py (retries, back-off, timeouts, checksums, dropped
connections, several URLs, the offline switch).
"""

from __future__ import annotations

import gzip
import io
import os
import tarfile

import numpy as np
import pytest

import datasets
from datasets import download, real
from tests.datasets.helpers import (
    cache_files,
    idx_bytes,
    make_mnist,
    md5,
    mnist_spec,
    sha256,
    tar_bytes,
)

pytestmark = pytest.mark.usefixtures("isolated")  # no internet, own cache (conftest.py)


# ------------------------------------------------------------------------------------- verification


def test_verify_accepts_recompressed_gzip_but_not_changed_content(tmp_path):
    raw = idx_bytes(np.arange(784, dtype=np.uint8).reshape(1, 28, 28))
    official = gzip.compress(raw, mtime=1504176606)
    spec = datasets.FileSpec("f.gz", md5=md5(official), content_sha256=sha256(raw))
    (tmp_path / "official.gz").write_bytes(official)
    assert datasets.verify_file(tmp_path / "official.gz", spec) == "md5"
    recompressed = gzip.compress(
        raw, mtime=1590000000, compresslevel=9
    )  # other header, same content
    assert md5(recompressed) != spec.md5
    (tmp_path / "debian.gz").write_bytes(recompressed)
    assert datasets.verify_file(tmp_path / "debian.gz", spec) == "uncompressed sha256"
    changed = bytearray(raw)
    changed[-1] ^= 1
    (tmp_path / "changed.gz").write_bytes(gzip.compress(bytes(changed), mtime=1504176606))
    with pytest.raises(
        datasets.ChecksumError, match=r"changed\.gz.*uncompressed sha256 [0-9a-f]{64} \(expected"
    ):
        datasets.verify_file(tmp_path / "changed.gz", spec)
    (tmp_path / "cut.gz").write_bytes(official[:-10])
    with pytest.raises(datasets.ChecksumError, match="decompressing failed"):
        datasets.verify_file(tmp_path / "cut.gz", spec)
    (tmp_path / "plain").write_bytes(raw)
    with pytest.raises(datasets.ChecksumError, match="not gzip-compressed"):
        datasets.verify_file(tmp_path / "plain", spec)


def test_verify_without_checksum_is_refused(tmp_path):
    (tmp_path / "f").write_bytes(b"abc")
    with pytest.raises(datasets.ChecksumError, match="no checksum is known"):
        datasets.verify_file(tmp_path / "f", datasets.FileSpec("f"))
    assert (
        datasets.verify_file(tmp_path / "f", datasets.FileSpec("f", sha256=sha256(b"abc")))
        == "sha256"
    )


def test_default_cache_dir(monkeypatch, tmp_path):
    assert datasets.default_cache_dir() == tmp_path / "cache"
    monkeypatch.delenv(download.ENV_CACHE)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    if download.sys.platform.startswith("linux"):
        assert datasets.default_cache_dir() == tmp_path / "xdg" / "autodiff-numpy"
    assert datasets.default_cache_dir().name == "autodiff-numpy"


# ----------------------------------------------------------------------------------------- archives


@pytest.mark.parametrize(
    "bad_name", ["../evil.bin", "cifar-10-batches-bin/../../evil.bin", "/tmp/evil.bin"]
)
def test_tar_with_escaping_member_is_refused(tmp_path, bad_name):
    archive = tmp_path / "a.tar.gz"
    archive.write_bytes(
        tar_bytes({"cifar-10-batches-bin/test_batch.bin": bytes(3073), bad_name: b"x"})
    )
    target = tmp_path / "out" / "cifar10"
    spec = datasets.FileSpec(
        "test_batch.bin", member="cifar-10-batches-bin/test_batch.bin", md5=md5(bytes(3073))
    )
    with pytest.raises(datasets.UnsafeArchiveError, match="outside the target folder"):
        download.extract_members(archive, target, [spec])
    assert cache_files(tmp_path / "out") == []
    assert not (tmp_path / "out" / "evil.bin").exists() and not (tmp_path / "evil.bin").exists()


def test_tar_with_symlink_is_refused(tmp_path):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        link = tarfile.TarInfo("cifar-10-batches-bin/test_batch.bin")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(link)
    (tmp_path / "a.tar.gz").write_bytes(buffer.getvalue())
    spec = datasets.FileSpec(
        "test_batch.bin", member="cifar-10-batches-bin/test_batch.bin", md5="0" * 32
    )
    with pytest.raises(datasets.UnsafeArchiveError, match="link or special file"):
        download.extract_members(tmp_path / "a.tar.gz", tmp_path / "out", [spec])


def test_truncated_tar_is_a_format_error(tmp_path):
    data = tar_bytes({"cifar-10-batches-bin/test_batch.bin": np.random.default_rng(0).bytes(30730)})
    (tmp_path / "a.tar.gz").write_bytes(data[: len(data) // 2])
    spec = datasets.FileSpec(
        "test_batch.bin", member="cifar-10-batches-bin/test_batch.bin", md5="0" * 32
    )
    with pytest.raises(datasets.FormatError, match="truncated or not a tar archive"):
        download.extract_members(tmp_path / "a.tar.gz", tmp_path / "out", [spec], verify=False)
    assert cache_files(tmp_path / "out") == []


def test_archive_member_with_wrong_checksum_is_not_extracted(tmp_path):
    archive = tmp_path / "a.tar.gz"
    archive.write_bytes(tar_bytes({"cifar-10-batches-bin/test_batch.bin": bytes(3073)}))
    spec = datasets.FileSpec(
        "test_batch.bin", member="cifar-10-batches-bin/test_batch.bin", md5="0" * 32
    )
    with pytest.raises(
        datasets.ChecksumError,
        match=r"'cifar-10-batches-bin/test_batch\.bin' extracted from .*a\.tar",
    ):
        download.extract_members(archive, tmp_path / "out", [spec])
    assert cache_files(tmp_path / "out") == []
    with pytest.warns(UserWarning, match="without checksum verification"):
        paths = download.extract_members(archive, tmp_path / "out", [spec], verify=False)
    # kept under a marker name, so that it never looks verified
    assert cache_files(tmp_path / "out") == ["cifar-10-batches-bin/test_batch.bin.unverified"]
    assert paths == [tmp_path / "out" / "cifar-10-batches-bin" / "test_batch.bin.unverified"]


# ---------------------------------------------------------------------------------------- downloads


def test_download_success_then_cache_hit_without_network(server, tiny_mnist, tmp_path):
    arrays, gz, _ = tiny_mnist
    x, y = datasets.mnist(split="test", progress=True)
    np.testing.assert_array_equal(x, arrays["test"][0])
    np.testing.assert_array_equal(y, arrays["test"][1])
    assert x.dtype == np.uint8 and x.shape == (5, 28, 28) and y.dtype == np.int64
    # only the test split's files were fetched, and the cache holds exactly them
    assert set(server.hits) == {"/t10k-images-idx3-ubyte.gz", "/t10k-labels-idx1-ubyte.gz"}
    assert cache_files(tmp_path / "cache") == [
        "mnist/t10k-images-idx3-ubyte.gz",
        "mnist/t10k-labels-idx1-ubyte.gz",
    ]
    assert (tmp_path / "cache" / "mnist" / "t10k-images-idx3-ubyte.gz").read_bytes() == gz[
        "t10k-images-idx3-ubyte.gz"
    ]

    hits = dict(server.hits)
    server.routes.clear()  # the server would now answer 404 to everything
    x2, y2 = datasets.mnist(split="test")
    assert dict(server.hits) == hits
    np.testing.assert_array_equal(x2, x)
    np.testing.assert_array_equal(y2, y)

    server.serve(gz)
    (x_tr, y_tr), (x_te, _) = datasets.mnist()
    np.testing.assert_array_equal(x_tr, arrays["train"][0])
    np.testing.assert_array_equal(y_tr, arrays["train"][1])
    assert (
        server.hits["/t10k-images-idx3-ubyte.gz"] == 1
        and server.hits["/train-images-idx3-ubyte.gz"] == 1
    )


def test_checksum_mismatch_leaves_no_file(server, tiny_mnist, tmp_path, isolated):
    _, gz, _ = tiny_mnist
    good = gz["t10k-images-idx3-ubyte.gz"]
    server.serve({"t10k-images-idx3-ubyte.gz": gzip.compress(b"not mnist at all")})
    with pytest.raises(datasets.DownloadError) as info:
        datasets.mnist(split="test", progress=False)
    message = str(info.value)
    assert f"{server.url}t10k-images-idx3-ubyte.gz" in message
    assert "checksum mismatch" in message and md5(good) in message
    assert "No partial file was kept" in message and "AUTODIFF_DATA_MIRROR" in message
    assert (
        server.hits["/t10k-images-idx3-ubyte.gz"] == 1
    )  # a bad checksum is not retried on the same URL
    assert cache_files(tmp_path / "cache") == []


def test_truncated_body_leaves_no_file(server, tiny_mnist, tmp_path):
    _, gz, _ = tiny_mnist
    server.serve({"t10k-images-idx3-ubyte.gz": gz["t10k-images-idx3-ubyte.gz"][:-100]})
    with pytest.raises(
        datasets.DownloadError, match=r"t10k-images-idx3-ubyte\.gz.*checksum mismatch"
    ) as info:
        datasets.mnist(split="test", progress=False)
    assert "decompressing failed" in str(info.value)
    assert cache_files(tmp_path / "cache") == []


def test_http_404_is_not_retried(server, tiny_mnist, tmp_path, isolated):
    del server.routes["/t10k-images-idx3-ubyte.gz"]
    with pytest.raises(datasets.DownloadError) as info:
        datasets.mnist(split="test", progress=False)
    assert f"{server.url}t10k-images-idx3-ubyte.gz: HTTP 404" in str(info.value)
    assert server.hits["/t10k-images-idx3-ubyte.gz"] == 1
    assert isolated == []
    assert cache_files(tmp_path / "cache") == []


def test_http_500_is_retried_with_backoff(server, tiny_mnist, tmp_path, isolated):
    server.routes["/t10k-images-idx3-ubyte.gz"] = ("status", 500)
    with pytest.raises(
        datasets.DownloadError,
        match=r"failed 3 time\(s\), last error: HTTP 500 Internal Server Error",
    ):
        datasets.mnist(split="test", progress=False)
    assert server.hits["/t10k-images-idx3-ubyte.gz"] == 3
    assert isolated == [0.5, 1.0]  # exponential back-off between the tries
    assert cache_files(tmp_path / "cache") == []


def test_transient_500_then_success(server, tiny_mnist, isolated):
    arrays, gz, _ = tiny_mnist
    server.routes["/t10k-images-idx3-ubyte.gz"] = ("flaky", 1, gz["t10k-images-idx3-ubyte.gz"])
    x, _ = datasets.mnist(split="test", progress=False)
    np.testing.assert_array_equal(x, arrays["test"][0])
    assert server.hits["/t10k-images-idx3-ubyte.gz"] == 2 and isolated == [0.5]


def test_timeout(server, tiny_mnist, tmp_path, monkeypatch):
    monkeypatch.setattr(
        download,
        "CONFIG",
        download.DownloadConfig(attempts=2, backoff=0.0, timeout=0.2, sleep=lambda s: None),
    )
    server.routes["/t10k-images-idx3-ubyte.gz"] = ("hang",)
    with pytest.raises(
        datasets.DownloadError, match=r"failed 2 time\(s\), last error: timed out \(limit 0.2 s\)"
    ):
        datasets.mnist(split="test", progress=False)
    assert server.hits["/t10k-images-idx3-ubyte.gz"] == 2
    assert cache_files(tmp_path / "cache") == []


def test_connection_dropped_mid_file(server, tiny_mnist, tmp_path):
    _, gz, _ = tiny_mnist
    server.routes["/t10k-images-idx3-ubyte.gz"] = ("drop", gz["t10k-images-idx3-ubyte.gz"])
    with pytest.raises(datasets.DownloadError) as info:
        datasets.mnist(split="test", progress=False)
    message = str(info.value)
    assert "failed 3 time(s)" in message
    assert "last error: connection dropped during the transfer" in message
    assert server.hits["/t10k-images-idx3-ubyte.gz"] == 3
    assert cache_files(tmp_path / "cache") == []


def test_second_url_is_used_when_first_fails(server, monkeypatch):
    arrays, gz, raw = make_mnist()
    server.serve(gz, prefix="/second/")
    monkeypatch.setitem(
        real.DATASETS, "mnist", mnist_spec([server.url + "first/", server.url + "second/"], gz, raw)
    )
    x, _ = datasets.mnist(split="test", progress=False)
    np.testing.assert_array_equal(x, arrays["test"][0])
    assert server.hits["/first/t10k-images-idx3-ubyte.gz"] == 1
    assert server.hits["/second/t10k-images-idx3-ubyte.gz"] == 1


def test_offline_switch_refuses_network(server, tiny_mnist, monkeypatch):
    monkeypatch.setenv(download.ENV_OFFLINE, "1")
    with pytest.raises(datasets.DownloadError, match="AUTODIFF_DATA_OFFLINE is set"):
        datasets.mnist(split="test", progress=False)
    assert sum(server.hits.values()) == 0


def test_damaged_cache_file_is_fetched_again(server, tiny_mnist, tmp_path):
    arrays, gz, _ = tiny_mnist
    datasets.mnist(split="test", progress=False)
    cached = tmp_path / "cache" / "mnist" / "t10k-labels-idx1-ubyte.gz"
    cached.write_bytes(b"garbage")
    with pytest.warns(UserWarning, match="cached file is damaged"):
        _, y = datasets.mnist(split="test", progress=False)
    np.testing.assert_array_equal(y, arrays["test"][1])
    assert cached.read_bytes() == gz["t10k-labels-idx1-ubyte.gz"]
    assert server.hits["/t10k-labels-idx1-ubyte.gz"] == 2


def test_downloaded_files_get_default_permissions(server, tiny_mnist, tmp_path):
    umask = os.umask(0)
    os.umask(umask)
    datasets.mnist(split="test", progress=False)
    mode = (tmp_path / "cache" / "mnist" / "t10k-labels-idx1-ubyte.gz").stat().st_mode & 0o777
    assert mode == 0o666 & ~umask
