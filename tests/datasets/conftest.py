"""Fixtures of the dataset tests: no internet, an own cache, and one local HTTP server.

`isolated` (used by every module that downloads) refuses any non-loopback connection,
unsets the mirror and offline switches, points the cache into tmp_path and records the
back-off waits instead of sleeping. `server` is an HTTP server on 127.0.0.1 whose answer
per path the test sets, well-behaved or faulty; `tiny_mnist` and `tiny_cifar` replace
registry entries by generated files it serves.
"""

from __future__ import annotations

import collections
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import datasets
from datasets import download, real
from tests.datasets.helpers import make_cifar, make_mnist, md5, mnist_spec, tar_bytes

_real_connect = socket.socket.connect


def _loopback_only(sock, address):
    host = address[0] if isinstance(address, tuple) else address
    if host not in ("127.0.0.1", "::1", "localhost"):
        raise RuntimeError(f"test tried to reach {address}: only 127.0.0.1 is allowed")
    return _real_connect(sock, address)


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """Own cache, no mirror, fast retries with recorded (not slept) back-off, no internet."""
    monkeypatch.setattr(socket.socket, "connect", _loopback_only)
    for name in (download.ENV_MIRROR, download.ENV_OFFLINE):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(download.ENV_CACHE, str(tmp_path / "cache"))
    sleeps: list[float] = []
    monkeypatch.setattr(
        download,
        "CONFIG",
        download.DownloadConfig(attempts=3, backoff=0.5, timeout=5.0, sleep=sleeps.append),
    )
    return sleeps


class Server:
    """HTTP server on 127.0.0.1 whose answer per path is set by the test; counts requests
    and bytes sent per path.

    ``routes[path] = (kind, *args)`` calls the handler's ``_<kind>(*args)``; a path without
    a route answers 404. Kinds: ok, no_length, status, redirect, flaky, drop, hang, huge,
    trickle, gated, half_then_hang (see each method).
    """

    def __init__(self):
        self.routes: dict[str, tuple] = {}
        self.hits: collections.Counter = collections.Counter()
        self.sent: collections.Counter = collections.Counter()
        self.gate = threading.Event()
        self.closing = threading.Event()
        state = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                state.hits[self.path] += 1
                kind, *args = state.routes.get(self.path, ("status", 404))
                try:
                    getattr(self, "_" + kind)(*args)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client hung up: what a bounded client does

            def _ok(self, body, length=True):
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                if length:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self._write(body)

            def _no_length(self, body):  # HTTP/1.0: the body ends when the connection closes
                self._ok(body, length=False)

            def _status(self, code, headers=None):
                self.send_response(code)
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def _redirect(self, location, code=302):
                self._status(code, {"Location": location})

            def _flaky(self, failures, body, code=500, headers=None):
                """Answer `code` the first `failures` times, then the body."""
                if state.hits[self.path] <= failures:
                    self._status(code, headers)
                else:
                    self._ok(body)

            def _drop(self, body):  # announce the whole body, send half, close the connection
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self._write(body[: len(body) // 2])

            def _hang(self):  # answer nothing (until the server closes, 10 s at most)
                state.closing.wait(10)

            def _huge(self, announced):
                """Announce `announced` bytes, send zeros until the client hangs up."""
                self.send_response(200)
                self.send_header("Content-Length", str(announced))
                self.end_headers()
                zeros = bytes(1 << 16)
                while state.sent[self.path] < (64 << 20) and not state.closing.is_set():
                    self._write(zeros)

            def _trickle(self, body, interval):  # one byte every `interval` seconds
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                for i in range(len(body)):
                    self._write(body[i : i + 1])
                    if state.closing.wait(interval):
                        return

            def _gated(self, body):  # hold the answer until the test opens the gate
                state.gate.wait(30)
                self._ok(body)

            def _half_then_hang(self, body):
                self._drop(body)
                state.closing.wait(30)

            def _write(self, data):
                self.wfile.write(data)
                self.wfile.flush()
                state.sent[self.path] += len(data)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    def serve(self, files: dict[str, bytes], prefix: str = "/") -> None:
        for name, body in files.items():
            self.routes[prefix + name] = ("ok", body)

    def close(self):
        self.closing.set()
        self.gate.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = Server()
    yield s
    s.close()


@pytest.fixture
def tiny_mnist(monkeypatch, server):
    """MNIST registry entry replaced by generated files served by the local server."""
    arrays, gz, raw = make_mnist()
    server.serve(gz)
    monkeypatch.setitem(real.DATASETS, "mnist", mnist_spec([server.url], gz, raw))
    return arrays, gz, raw


@pytest.fixture
def tiny_cifar(monkeypatch, server):
    batches, members = make_cifar()
    archive = tar_bytes(members)
    files = [datasets.FileSpec("cifar-10-binary.tar.gz", md5=md5(archive))]
    files += [
        datasets.FileSpec(
            name,
            md5=md5(members[f"cifar-10-batches-bin/{name}"]),
            archive="cifar-10-binary.tar.gz",
            member=f"cifar-10-batches-bin/{name}",
        )
        for name in batches
    ]
    spec = datasets.DatasetSpec(
        name="cifar10",
        title="CIFAR-10",
        urls=(server.url,),
        files=tuple(files),
        splits=real.DATASETS["cifar10"].splits,
    )
    monkeypatch.setitem(real.DATASETS, "cifar10", spec)
    server.serve({"cifar-10-binary.tar.gz": archive})
    return batches, members, archive
