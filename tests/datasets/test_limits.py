"""Downloads and files that stay bounded (issue 24): one test per fault, against a local server.

| fault                                     | test
| redirect loop                             | test_redirect_loop_is_one_clear_error_not_retried
| Content-Length: 10**15                    | test_huge_content_length_is_refused_before_writing
| 1 byte every 0.4 s, timeout 1 s           | test_trickling_server_is_cut_off_at_the_deadline
| 429 with Retry-After: 30                  | test_retry_after_is_honoured / _beyond_the_cap_...
| verify=False and a truncated body         | test_verify_false_truncated_body_is_not_cached_as_good
| process killed mid-download               | test_part_file_of_killed_process_is_removed
| 4 processes load the same dataset at once | test_concurrent_processes_download_once
| IDX header claiming 65536^4 elements      | test_idx_header_larger_than_the_file
| tar member of 4 MiB zeros, verify=False   | test_oversized_tar_member_is_refused_before_extraction

Everything is generated here and served on 127.0.0.1 (non-loopback connections are
refused); every download is bounded by a short deadline, subprocesses by timeouts.
"""

from __future__ import annotations

import dataclasses
import gzip
import io
import json
import os
import signal
import struct
import subprocess
import sys
import threading
import time
import zipfile
from email.utils import formatdate
from pathlib import Path

import numpy as np
import pytest

import datasets
from datasets import download, locking, real
from datasets.formats import parse_idx, read_cifar_records, read_idx, read_npz_array
from tests.datasets.helpers import cache_files, md5, npz_bytes, sha256, tar_bytes

REPO = Path(__file__).resolve().parents[2]
NAME = "t10k-labels-idx1-ubyte.gz"  # the smallest MNIST file: the one most tests fetch


@pytest.fixture(autouse=True)
def isolated(isolated, monkeypatch):
    """conftest.py's isolation (own cache, no mirror, recorded waits, no internet), and a
    10 s deadline on every download."""
    monkeypatch.setattr(download, "CONFIG", dataclasses.replace(download.CONFIG, deadline=10.0))
    return isolated


@pytest.fixture
def mnist(tiny_mnist):
    """(spec served by the server, {name: gz bytes}): conftest.py's tiny MNIST, every file
    served correctly until a test changes it."""
    _, gz, _ = tiny_mnist
    return real.DATASETS["mnist"], gz


def fetch_one(spec, name=NAME, **kwargs) -> Path:
    return datasets.fetch(spec, [name], progress=False, **kwargs)[0]


def bounded(seconds: float, fn, *args, **kwargs):
    """fn(*args, **kwargs) in a thread; the test fails if it is still running after `seconds`."""
    outcome = {}

    def target():
        try:
            outcome["value"] = fn(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        pytest.fail(
            f"{getattr(fn, '__name__', fn)} still running after {seconds} s: "
            "the limit under test failed"
        )
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


# ----------------------------------------------------------------------------- size limits


def test_registry_knows_the_sizes():
    for key, spec in real.DATASETS.items():
        for f in spec.files:
            if f.name != "kmnist-train-imgs.npz":  # not published with a size we could confirm
                assert f.size and f.size > 0, (key, f.name)
    assert real.DATASETS["mnist"].file("t10k-labels-idx1-ubyte.gz").size == 4542
    assert real.DATASETS["cifar10"].file("test_batch.bin").size == 10000 * 3073
    assert real.DATASETS["cifar10"].file("cifar-10-binary.tar.gz").size == 170052171


def test_size_limit_rules():
    config = download.DownloadConfig(max_size=1000)
    assert download.size_limit(datasets.FileSpec("a", md5="0" * 32), config)[0] == 1000
    assert download.size_limit(datasets.FileSpec("a", md5="0" * 32, size=300), config)[0] == 300
    limit, why = download.size_limit(
        datasets.FileSpec("a.gz", md5="0" * 32, content_sha256="0" * 64, size=8000)
    )
    assert limit == 8000 + 1000 + 1024 and "re-compressed" in why


def test_huge_content_length_is_refused_before_writing(server, mnist, tmp_path, isolated):
    spec, _ = mnist
    server.routes["/" + NAME] = ("huge", 10**15)
    with pytest.raises(datasets.DownloadError) as info:
        bounded(20, fetch_one, spec)
    message = str(info.value)
    assert "announces 1000000000000000 bytes (Content-Length)" in message
    assert f"max_size = {1 << 30}" in message and f"{server.url}{NAME}" in message
    assert server.hits["/" + NAME] == 1 and isolated == []  # not retried
    assert cache_files(tmp_path / "cache") == []
    assert server.sent["/" + NAME] < (
        40 << 20
    )  # the client hung up: the server could not push 40 MiB


@pytest.mark.parametrize("kind", ["ok", "no_length"])
def test_body_beyond_the_registry_size_is_refused(server, mnist, tmp_path, kind):
    spec, gz = mnist
    body = gz[NAME]
    small = datasets.DatasetSpec(
        name="mnist",
        title="MNIST",
        urls=(server.url,),
        files=(datasets.FileSpec(NAME, md5=md5(body), size=len(body) - 10),),
    )
    server.routes["/" + NAME] = (kind, body)
    with pytest.raises(datasets.DownloadError) as info:
        fetch_one(small)
    expected = (
        f"announces {len(body)} bytes"
        if kind == "ok"
        else f"sent more than the publisher's size ({len(body) - 10}); stopped after"
    )
    assert expected in str(info.value)
    assert server.hits["/" + NAME] == 1
    assert cache_files(tmp_path / "cache") == []


def test_max_size_can_be_set_by_the_caller(server, mnist, tmp_path):
    spec, gz = mnist
    assert len(gz[NAME]) > 10
    with pytest.raises(
        datasets.DownloadError,
        match=r"more than the limit for files of unknown size "
        r"\(DownloadConfig.max_size = 10\)",
    ):
        fetch_one(spec, config=download.DownloadConfig(max_size=10, deadline=10.0))
    assert (
        fetch_one(spec, config=download.DownloadConfig(max_size=len(gz[NAME]))).read_bytes()
        == gz[NAME]
    )


# ----------------------------------------------------------------------------- deadline


def test_trickling_server_is_cut_off_at_the_deadline(server, mnist, tmp_path, monkeypatch):
    spec, gz = mnist
    server.routes["/" + NAME] = (
        "trickle",
        gz[NAME],
        0.4,
    )  # 1 byte every 0.4 s: about 30 minutes in all
    config = download.DownloadConfig(timeout=1.0, deadline=1.5, sleep=lambda s: None)
    with pytest.raises(datasets.DownloadError) as info:
        bounded(15, fetch_one, spec, config=config)
    message = str(info.value)
    assert "the deadline of 1.5 s for this download passed (DownloadConfig.deadline)" in message
    assert server.hits["/" + NAME] == 1  # the deadline covers every try: no retry after it
    assert server.sent["/" + NAME] < 20  # a few bytes, not the whole file
    assert cache_files(tmp_path / "cache") == []


def fails_without_waiting(server, spec, isolated, code, retry_after, config, message):
    """A server answering `code` with Retry-After: `retry_after` (s) that `config` does not
    allow to wait for: one request, no wait, a DownloadError matching `message`."""
    server.routes["/" + NAME] = ("status", code, {"Retry-After": retry_after})
    with pytest.raises(datasets.DownloadError, match=message):
        fetch_one(spec, config=config)
    assert server.hits["/" + NAME] == 1 and isolated == []


def test_waiting_past_the_deadline_fails_at_once(server, mnist, isolated):
    config = download.DownloadConfig(deadline=2.0, sleep=isolated.append)
    message = r"waiting 5 s before trying again would pass the deadline of 2 s"
    fails_without_waiting(server, mnist[0], isolated, 503, "5", config, message)


# ----------------------------------------------------------------------------- redirects


def test_redirect_loop_is_one_clear_error_not_retried(server, mnist, tmp_path, isolated):
    spec, _ = mnist
    server.routes["/" + NAME] = ("redirect", "/elsewhere/" + NAME)
    server.routes["/elsewhere/" + NAME] = ("redirect", server.url + NAME)
    with pytest.raises(datasets.DownloadError) as info:
        fetch_one(spec)
    chain = f"{server.url}{NAME} -> {server.url}elsewhere/{NAME} -> {server.url}{NAME}"
    assert f"redirect loop: {chain}" in str(info.value)
    assert sum(server.hits.values()) == 2 and isolated == []  # each hop once, no retry
    assert cache_files(tmp_path / "cache") == []


def test_redirects_are_followed_a_bounded_number_of_times(server, mnist):
    spec, gz = mnist
    server.routes["/" + NAME] = ("redirect", "/r1", 301)
    server.routes["/r1"] = ("redirect", "/r2", 307)
    server.routes["/r2"] = ("ok", gz[NAME])
    assert fetch_one(spec).read_bytes() == gz[NAME]

    other = "t10k-images-idx3-ubyte.gz"
    for i in range(7):  # /t10k-images... -> /h0 -> /h1 -> ... -> /h6
        server.routes[f"/h{i}"] = ("redirect", f"/h{i + 1}")
    server.routes["/" + other] = ("redirect", "/h0")
    with pytest.raises(
        datasets.DownloadError,
        match=r"more than 5 redirects \(DownloadConfig.max_redirects\): "
        r"\S+ -> \S+/h0 -> .* -> \S+/h5\n",
    ):
        fetch_one(spec, other)
    assert sum(server.hits[f"/h{i}"] for i in range(7)) == 5


@pytest.mark.parametrize("target", ["file:///etc/passwd", "ftp://127.0.0.1/x.gz"])
def test_redirects_only_to_http(server, mnist, target):
    spec, _ = mnist
    server.routes["/" + NAME] = ("redirect", target)
    with pytest.raises(
        datasets.DownloadError, match=f"redirected to '{target}': only http and https"
    ):
        fetch_one(spec)
    assert server.hits["/" + NAME] == 1


# ----------------------------------------------------------------------------- Retry-After


def test_retry_after_is_honoured(server, mnist, isolated):
    spec, gz = mnist
    server.routes["/" + NAME] = ("flaky", 1, gz[NAME], 429, {"Retry-After": "30"})
    config = download.DownloadConfig(
        sleep=isolated.append
    )  # the defaults: cap 60 s, deadline 1 hour
    assert fetch_one(spec, config=config).read_bytes() == gz[NAME]
    assert isolated == [30.0]  # as told, not the back-off of 0.5 s
    assert server.hits["/" + NAME] == 2


def test_retry_after_as_http_date(server, mnist, isolated):
    spec, gz = mnist
    when = formatdate(time.time() + 20, usegmt=True)
    server.routes["/" + NAME] = ("flaky", 1, gz[NAME], 503, {"Retry-After": when})
    assert (
        fetch_one(spec, config=download.DownloadConfig(sleep=isolated.append)).read_bytes()
        == gz[NAME]
    )
    assert len(isolated) == 1 and 15 < isolated[0] <= 20


def test_retry_after_beyond_the_cap_fails_at_once(server, mnist, isolated):
    config = download.DownloadConfig(max_retry_after=10.0, sleep=isolated.append)
    message = (
        r"HTTP 429 Too Many Requests \(Retry-After: 30 s\); the server asks to wait 30 s, "
        r"more than DownloadConfig.max_retry_after = 10 s"
    )
    fails_without_waiting(server, mnist[0], isolated, 429, "30", config, message)


def test_retry_after_then_clear_failure(server, mnist, isolated):
    spec, _ = mnist
    server.routes["/" + NAME] = ("status", 503, {"Retry-After": "2"})
    with pytest.raises(
        datasets.DownloadError,
        match=r"failed 3 time\(s\), last error: HTTP 503 Service Unavailable "
        r"\(Retry-After: 2 s\)",
    ):
        fetch_one(spec)
    assert isolated == [2.0, 2.0] and server.hits["/" + NAME] == 3


# ----------------------------------------------------------------------------- verify=False


def test_verify_false_truncated_body_is_not_cached_as_good(server, mnist, tmp_path):
    spec, gz = mnist
    cut = gz[NAME][:-30]  # a complete transfer (its own Content-Length) of a truncated file
    server.routes["/" + NAME] = ("ok", cut)
    with pytest.warns(UserWarning, match="does not match the published checksum"):
        path = fetch_one(spec, verify=False)
    assert path.name == NAME + ".unverified" and path.read_bytes() == cut
    assert cache_files(tmp_path / "cache") == [
        f"mnist/{NAME}.unverified"
    ]  # never under its own name

    with pytest.warns(
        UserWarning, match="failed checksum verification"
    ):  # verify=False reuses it, no network
        assert fetch_one(spec, verify=False) == path
    assert server.hits["/" + NAME] == 1

    with pytest.raises(
        datasets.DownloadError, match="checksum mismatch"
    ):  # verify=True never uses it
        fetch_one(spec)
    assert server.hits["/" + NAME] == 2
    server.routes["/" + NAME] = ("ok", gz[NAME])
    good = fetch_one(spec)
    assert good.name == NAME and good.read_bytes() == gz[NAME]
    assert cache_files(tmp_path / "cache") == [f"mnist/{NAME}"]  # the unverified copy is gone


def test_verify_false_with_a_good_download_caches_it_as_verified(server, mnist, tmp_path):
    spec, gz = mnist
    path = fetch_one(spec, verify=False)
    assert path.name == NAME and cache_files(tmp_path / "cache") == [f"mnist/{NAME}"]
    fetch_one(spec)  # verify=True: the cached copy passes, no new request
    assert server.hits["/" + NAME] == 1


# ---------------------------------------------------------------------------- stale temporary files


def _child(code: str, args: dict) -> subprocess.Popen:
    """A Python subprocess running `code` from the repository root, with `ARGS` (a dict) from
    JSON."""
    env = {
        k: v for k, v in os.environ.items() if k not in (download.ENV_MIRROR, download.ENV_OFFLINE)
    }
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    script = "import json, sys\nARGS = json.loads(sys.argv[1])\n" + code
    return subprocess.Popen(
        [sys.executable, "-c", script, json.dumps(args)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


_FETCH = """
import datasets
files = tuple(datasets.FileSpec(**f) for f in ARGS["files"])
spec = datasets.DatasetSpec(name="mnist", title="MNIST", urls=(ARGS["url"],), files=files)
path = datasets.fetch(spec, [ARGS["name"]], cache_dir=ARGS["cache"], progress=ARGS["progress"])[0]
print("RESULT", path, flush=True)
"""


def _child_args(server, spec, cache, progress=False):
    files = [{"name": f.name, "md5": f.md5, "content_sha256": f.content_sha256} for f in spec.files]
    return {
        "url": server.url,
        "files": files,
        "cache": str(cache),
        "name": NAME,
        "progress": progress,
    }


def test_part_file_of_killed_process_is_removed(server, mnist, tmp_path):
    spec, gz = mnist
    cache = tmp_path / "cache"
    server.routes["/" + NAME] = ("half_then_hang", gz[NAME])
    child = _child(_FETCH, _child_args(server, spec, cache))
    try:
        give_up = time.monotonic() + 20
        while (
            not list((cache / "mnist").glob(".*.part"))
            and time.monotonic() < give_up
            and child.poll() is None
        ):
            time.sleep(0.02)
        parts = list((cache / "mnist").glob(".*.part"))
        assert parts, f"the child wrote no temporary file (exit {child.poll()})"
    finally:
        child.send_signal(signal.SIGKILL)
        child.communicate(timeout=10)
    assert parts[0].exists()  # killed mid-download: its temporary file stays behind ...

    server.routes["/" + NAME] = ("ok", gz[NAME])
    assert fetch_one(spec).read_bytes() == gz[NAME]
    assert cache_files(cache) == [
        f"mnist/{NAME}"
    ]  # ... until the next download of that file removes it


def test_lock_is_released_and_its_file_removed(tmp_path):
    target = tmp_path / "f.gz"
    with locking.file_lock(target, timeout=1, what="test") as locked:
        assert locked == locking.HAVE_LOCKS
        if locked:
            assert locking.lock_path(target).exists()
            with pytest.raises(
                datasets.DownloadError,
                match=r"test: waited 0.1 s for another process that "
                r"holds the lock",
            ):
                with locking.file_lock(target, timeout=0.1, what="test"):
                    pass
    assert not locking.lock_path(target).exists()
    with locking.file_lock(target, timeout=1, what="test"):  # free again
        pass


# ----------------------------------------------------------------------------- several processes


@pytest.mark.skipif(not locking.HAVE_LOCKS, reason="cross-process locks need fcntl (POSIX)")
def test_concurrent_processes_download_once(server, mnist, tmp_path):
    """Four processes fetch the same file at once: one downloads, the others wait for it and
    use its file."""
    spec, gz = mnist
    cache = tmp_path / "cache"
    server.routes["/" + NAME] = (
        "gated",
        gz[NAME],
    )  # the one download is held until the others wait
    children = [_child(_FETCH, _child_args(server, spec, cache, progress=True)) for _ in range(4)]
    waiting = threading.Semaphore(0)
    outputs = [[] for _ in children]

    def watch(child, lines):
        for line in child.stderr:
            lines.append(line)
            if "waiting for another process to finish downloading" in line:
                waiting.release()

    watchers = [
        threading.Thread(target=watch, args=(c, out), daemon=True)
        for c, out in zip(children, outputs, strict=False)
    ]
    for w in watchers:
        w.start()
    try:
        give_up = time.monotonic() + 30
        seen = sum(waiting.acquire(timeout=max(0.0, give_up - time.monotonic())) for _ in range(3))
        server.gate.set()
        results = [c.communicate(timeout=30)[0] for c in children]
    finally:
        for c in children:
            if c.poll() is None:
                c.kill()
    for w in watchers:
        w.join(5)
    assert [c.returncode for c in children] == [0] * 4, outputs
    assert seen == 3  # three processes waited while the first one downloaded
    assert server.hits["/" + NAME] == 1  # exactly one download
    paths = {
        line.split(" ", 1)[1].strip()
        for out in results
        for line in out.splitlines()
        if line.startswith("RESULT")
    }
    assert paths == {str(cache / "mnist" / NAME)}
    assert (cache / "mnist" / NAME).read_bytes() == gz[NAME]
    assert cache_files(cache) == [f"mnist/{NAME}"]  # no lock file or temporary file left


# ----------------------------------------------------------------------------- parsers


def _idx_header(shape) -> bytes:
    return bytes([0, 0, 0x08, len(shape)]) + struct.pack(f">{len(shape)}I", *shape)


def test_idx_header_larger_than_the_file(tmp_path):
    header = _idx_header((65536,) * 4)
    needed = 65536**4
    with pytest.raises(
        datasets.FormatError,
        match=rf"x\.idx: truncated; header shape \(65536, 65536, 65536, "
        rf"65536\) of uint8 needs {needed} data bytes, found 3",
    ):
        parse_idx(header + b"abc", source="x.idx")
    (tmp_path / "big.idx").write_bytes(header)
    with pytest.raises(
        datasets.FormatError, match=rf"big\.idx: truncated; .* needs {needed} data bytes, found 0"
    ):
        read_idx(tmp_path / "big.idx")
    (tmp_path / "big.gz").write_bytes(gzip.compress(header + bytes(1000)))
    with pytest.raises(
        datasets.FormatError,
        match=rf"big\.gz: header shape .* needs {needed} data bytes, more than "
        r"a \d+-byte gzip file can hold",
    ):
        read_idx(tmp_path / "big.gz")
    (tmp_path / "short.gz").write_bytes(gzip.compress(_idx_header((2, 28, 28)) + bytes(1000)))
    with pytest.raises(
        datasets.FormatError, match=r"short\.gz: truncated; .* needs 1568 data bytes, found 1000"
    ):
        read_idx(tmp_path / "short.gz")
    (tmp_path / "long.gz").write_bytes(gzip.compress(_idx_header((1, 28, 28)) + bytes(785)))
    with pytest.raises(
        datasets.FormatError,
        match=r"long\.gz: has trailing bytes; .* needs 784 data bytes, found "
        r"more than 784",
    ):
        read_idx(tmp_path / "long.gz")


def test_cifar_file_size_is_checked(tmp_path):
    (tmp_path / "b.bin").write_bytes(bytes(3073 * 2 + 5))
    with pytest.raises(
        datasets.FormatError,
        match=r"b\.bin: 6151 bytes is not a positive multiple of the 3073-byte",
    ):
        read_cifar_records(tmp_path / "b.bin")


def _npz_with_lying_header(path: Path, shape, data: bytes) -> None:
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "|u1", "fortran_order": False, "shape": shape}
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("arr_0.npy", header.getvalue() + data)


def test_npz_header_must_match_the_member(tmp_path):
    _npz_with_lying_header(tmp_path / "lie.npz", (10**12,), bytes(10))
    with pytest.raises(
        datasets.FormatError,
        match=r"lie\.npz \(array 'arr_0'\): header shape \(1000000000000,\) of "
        r"uint8 needs 1000000000000 data bytes, the member holds 10",
    ):
        read_npz_array(tmp_path / "lie.npz")
    (tmp_path / "small.npz").write_bytes(npz_bytes(np.zeros((3, 5), np.uint8)))
    with pytest.raises(
        datasets.FormatError,
        match=r"small\.npz \(array 'arr_0'\): shape \(3, 5\), expected "
        r"\(n, 28, 28\)",
    ):
        read_npz_array(tmp_path / "small.npz", shape=(None, 28, 28))
    with pytest.raises(datasets.FormatError, match=r"dtype uint8, expected int64"):
        read_npz_array(tmp_path / "small.npz", dtype=np.int64)
    np.testing.assert_array_equal(
        read_npz_array(tmp_path / "small.npz", shape=(3, None)), np.zeros((3, 5))
    )


def test_oversized_tar_member_is_refused_before_extraction(tmp_path):
    member = "cifar-10-batches-bin/test_batch.bin"
    archive = tmp_path / "a.tar.gz"
    # 4 MiB of zeros where 3073 bytes belong
    archive.write_bytes(tar_bytes({member: bytes(4 << 20)}))
    spec = datasets.FileSpec("test_batch.bin", member=member, md5=md5(bytes(3073)), size=3073)
    for verify in (True, False):
        with pytest.raises(
            datasets.UnsafeArchiveError,
            match=rf"refusing to extract '{member}' from .*a\.tar\.gz: it "
            rf"is {4 << 20} bytes, more than the publisher's size "
            r"\(3073\)",
        ):
            download.extract_members(archive, tmp_path / "out", [spec], verify=verify)
        assert cache_files(tmp_path / "out") == []
    unknown = datasets.FileSpec(
        "test_batch.bin", member=member, md5="0" * 32
    )  # no size: max_size applies
    with pytest.raises(datasets.UnsafeArchiveError, match=r"DownloadConfig.max_size = 1000"):
        download.extract_members(
            archive,
            tmp_path / "out",
            [unknown],
            verify=False,
            config=download.DownloadConfig(max_size=1000),
        )
    assert cache_files(tmp_path / "out") == []


def test_tar_member_of_another_size_is_a_checksum_error(tmp_path):
    member = "cifar-10-batches-bin/test_batch.bin"
    archive = tmp_path / "a.tar.gz"
    archive.write_bytes(tar_bytes({member: bytes(3073)}))
    spec = datasets.FileSpec("test_batch.bin", member=member, md5="0" * 32, size=2 * 3073)
    with pytest.raises(
        datasets.ChecksumError, match=r"size mismatch for .*: 3073 bytes, the publisher's is 6146"
    ):
        download.extract_members(archive, tmp_path / "out", [spec])
    assert cache_files(tmp_path / "out") == []


def test_cifar_archive_is_extracted_once_and_reused(server, tmp_path, monkeypatch):
    member = "cifar-10-batches-bin/test_batch.bin"
    records = bytes([3]) + bytes(3072)
    archive = tar_bytes({member: records})
    spec = datasets.DatasetSpec(
        name="cifar10",
        title="CIFAR-10",
        urls=(server.url,),
        files=(
            datasets.FileSpec("cifar-10-binary.tar.gz", md5=md5(archive), size=len(archive)),
            datasets.FileSpec(
                "test_batch.bin",
                md5=md5(records),
                archive="cifar-10-binary.tar.gz",
                member=member,
                size=len(records),
            ),
        ),
    )
    server.routes["/cifar-10-binary.tar.gz"] = ("ok", archive)
    path = fetch_one(spec, "test_batch.bin")
    assert path == tmp_path / "cache" / "cifar10" / member and path.read_bytes() == records
    assert cache_files(tmp_path / "cache") == [
        f"cifar10/{member}",
        "cifar10/cifar-10-binary.tar.gz",
    ]
    assert sha256(path.read_bytes()) == sha256(records)
