"""Fetching, verification and caching of dataset files.

One generic path serves every dataset: a :class:`DatasetSpec` lists the
publisher's files (:class:`FileSpec`, with their published checksums) and the
base URLs that serve them; :func:`fetch` returns local paths for some of those
files, looking in this order:

1. ``root=`` (a local folder) if given -- then nothing else is tried;
2. the cache, ``$AUTODIFF_DATA`` or a per-user cache folder (:func:`default_cache_dir`);
3. ``mirror=`` or ``$AUTODIFF_DATA_MIRROR``: a local folder (read in place, never
   copied) or an ``http(s)://`` base URL that replaces the official URLs;
4. the official URLs, in order.

A local folder may hold a file directly or in a per-dataset subfolder
(``mnist/``, ``kmnist/``, ...). Every file is checked against its published
checksum (md5 or sha256 of the file); a gzip file whose own checksum differs is
still accepted when its *decompressed* content has the published sha256, so an
exact re-compressed copy passes while any change of content does not.
A download is written to a temporary file in the cache folder and renamed only
after verification, so a file under its own name in the cache has passed
verification. With ``verify=False`` a copy that fails is kept as
``NAME.unverified``, which only later ``verify=False`` calls use.

Every download is bounded (:class:`DownloadConfig`): a size limit (the
registry's size of the file, :attr:`FileSpec.size`, else ``max_size``) refused
before anything beyond it is written, an overall deadline besides the per-read
timeout, at most ``max_redirects`` redirects and only to http(s), and
``Retry-After`` waits up to ``max_retry_after``. One process at a time
downloads a given file: the others wait on a per-file lock
(:mod:`datasets.locking`) and then use the verified file; temporary files left
by a killed process are removed by the next download of that file.
"""

from __future__ import annotations

import email.utils
import glob
import gzip
import hashlib
import http.client
import os
import secrets
import shutil
import sys
import tarfile
import time
import warnings
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import urljoin, urlsplit

import requests
import urllib3
from tqdm import tqdm

from .errors import (
    ChecksumError,
    DataNotFoundError,
    DownloadError,
    FormatError,
    UnsafeArchiveError,
)
from .locking import file_lock

ENV_CACHE = "AUTODIFF_DATA"
ENV_MIRROR = "AUTODIFF_DATA_MIRROR"
ENV_OFFLINE = "AUTODIFF_DATA_OFFLINE"

PathLike = str | os.PathLike


@dataclass(frozen=True)
class FileSpec:
    """One file as its publisher distributes it.

    name: the publisher's file name (also its name in the cache and in mirrors).
    md5, sha256: published checksums of the file itself (either may be None).
    content_sha256: sha256 of the decompressed content, for gzip files.
    archive, member: for a file shipped inside an archive (CIFAR-10), the
        archive's file name and the member's path inside it.
    size: the publisher's file size in bytes, if known; it bounds downloads and
        extraction (see :func:`size_limit`).
    """

    name: str
    md5: str | None = None
    sha256: str | None = None
    content_sha256: str | None = None
    archive: str | None = None
    member: str | None = None
    size: int | None = None

    @property
    def relative_paths(self) -> tuple[str, ...]:
        """Paths under which a local copy may hold this file."""
        return (self.name,) if self.member in (None, self.name) else (self.name, self.member)


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset's files, where they are published, and how they form splits.

    name: cache subfolder and preferred subfolder name in local copies.
    title: human-readable name used in messages.
    urls: official base URLs, first preferred (each ends with '/').
    files: every file of the dataset, archives included.
    splits: split name -> names of the files it needs, in load order.
    folders: other subfolder names under which local copies may hold the files.
    """

    name: str
    title: str
    urls: tuple[str, ...]
    files: tuple[FileSpec, ...]
    splits: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    folders: tuple[str, ...] = ()

    def file(self, name: str) -> FileSpec:
        for spec in self.files:
            if spec.name == name:
                return spec
        raise KeyError(
            f"{self.title}: no file named {name!r}; known: {[f.name for f in self.files]}"
        )


@dataclass(frozen=True)
class DownloadConfig:
    """Network settings and limits. Pass one as ``config=`` to :func:`fetch` or a
    loader, or replace :data:`CONFIG` (the default) to change them for all calls.

    attempts: tries per URL for transient failures (timeouts, dropped
        connections, HTTP 5xx/408/429); HTTP 4xx, redirect errors, size limits
        and checksum mismatches move on to the next URL at once.
    backoff: seconds to wait before the second try of a URL, doubled each try.
    timeout: seconds allowed for connecting and for each read.
    deadline: seconds allowed for one file's whole download (every URL, try
        and wait included). It is checked between reads, which are limited to
        the time left, so a trickling server is cut off at the deadline.
    max_size: the size limit of a file whose size the registry does not know.
        A larger download is refused before the excess is written.
    max_redirects: redirects followed per request (only to http or https URLs;
        a loop is an error at once).
    max_retry_after: the longest ``Retry-After`` (HTTP 429/503) honoured, in
        seconds; a server asking for longer fails that URL at once.
    chunk_size: bytes read at most per read.
    sleep: waits between tries (tests replace it).
    """

    attempts: int = 3
    backoff: float = 1.0
    timeout: float = 30.0
    deadline: float = 3600.0
    max_size: int = 1 << 30
    max_redirects: int = 5
    max_retry_after: float = 60.0
    chunk_size: int = 1 << 16
    sleep: Callable[[float], None] = time.sleep


CONFIG = DownloadConfig()


def default_cache_dir() -> Path:
    """``$AUTODIFF_DATA`` if set, else a per-user cache folder.

    Linux: ``$XDG_CACHE_HOME/autodiff-numpy`` (default ``~/.cache/autodiff-numpy``);
    macOS: ``~/Library/Caches/autodiff-numpy``; Windows: ``%LOCALAPPDATA%/autodiff-numpy``.
    """
    env = os.environ.get(ENV_CACHE)
    if env:
        return Path(env).expanduser()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "autodiff-numpy"


# ----------------------------------------------------------------------------- verification


def _digests(path: Path) -> tuple[str, str]:
    md5, sha256 = hashlib.md5(), hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            md5.update(block)
            sha256.update(block)
    return md5.hexdigest(), sha256.hexdigest()


def _is_gzip(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(2) == b"\x1f\x8b"


def _gzip_content_sha256(path: Path) -> str:
    sha256 = hashlib.sha256()
    with gzip.open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            sha256.update(block)
    return sha256.hexdigest()


def _compare(path: Path, spec: FileSpec) -> tuple[str | None, str]:
    """Return (the check that passed, or None; what was found) for ``path`` against ``spec``."""
    md5, sha256 = _digests(path)
    if spec.md5 and md5 == spec.md5:
        return "md5", ""
    if spec.sha256 and sha256 == spec.sha256:
        return "sha256", ""
    found = [
        f"md5 {md5} (published {spec.md5})"
        if spec.md5
        else f"sha256 {sha256} (published {spec.sha256})"
    ]
    if spec.content_sha256:
        if not _is_gzip(path):
            found.append("not gzip-compressed, so its content could not be checked")
        else:
            try:
                content = _gzip_content_sha256(path)
            except (OSError, EOFError, zlib.error) as exc:
                found.append(f"decompressing failed ({exc})")
            else:
                if content == spec.content_sha256:
                    return "uncompressed sha256", ""
                found.append(f"uncompressed sha256 {content} (expected {spec.content_sha256})")
    return None, f"{path.stat().st_size} bytes, " + "; ".join(found)


def verify_file(path: PathLike, spec: FileSpec) -> str:
    """Check ``path`` against ``spec``'s checksums; return which check passed.

    Passes when the file's md5 or sha256 equals the published value, or when it
    is gzip-compressed and its decompressed content has ``spec.content_sha256``
    (so an exact re-compressed copy passes). Raises :class:`ChecksumError`
    otherwise, also when ``spec`` has no checksum.
    """
    path = Path(path)
    if not (spec.md5 or spec.sha256 or spec.content_sha256):
        raise ChecksumError(
            f"verifying {path}: no checksum is known for {spec.name!r}; "
            "pass verify=False to load it unverified"
        )
    passed, found = _compare(path, spec)
    if passed is None:
        raise ChecksumError(
            f"checksum mismatch for {path} ({found}). The file is truncated, corrupt or not "
            f"the publisher's {spec.name!r}. Replace it with the publisher's file, or pass "
            "verify=False to load a knowingly different copy."
        )
    return passed


def _check(path: Path, spec: FileSpec, verify: bool) -> Path:
    if verify:
        verify_file(path, spec)
    else:
        warnings.warn(f"loading {path} without checksum verification (verify=False)", stacklevel=4)
    return path


# ----------------------------------------------------------------------------- download


def size_limit(spec: FileSpec, config: DownloadConfig | None = None) -> tuple[int, str]:
    """The most bytes a download or extraction of ``spec`` may write, and where that limit
    comes from.

    The registry's size when known (up to 1/8 more for a gzip file checked by
    its content, since a re-compressed copy of the same content may be a little
    larger); otherwise ``config.max_size``.
    """
    config = config or CONFIG
    if spec.size is None:
        return (
            config.max_size,
            f"the limit for files of unknown size (DownloadConfig.max_size = {config.max_size})",
        )
    if spec.content_sha256:
        limit = spec.size + spec.size // 8 + 1024
        return (
            limit,
            f"the publisher's size {spec.size} plus the margin for re-compressed copies ({limit})",
        )
    return spec.size, f"the publisher's size ({spec.size})"


def _temp_path(dest: Path) -> str:
    """A fresh name next to ``dest`` for writing before the verified rename."""
    return str(dest.with_name(f".{dest.name}.{os.getpid()}-{secrets.token_hex(4)}.part"))


def _unverified_path(dest: Path) -> Path:
    """Where a copy of ``dest`` that failed verification is kept (verify=False only)."""
    return dest.with_name(dest.name + ".unverified")


def _remove_stale_parts(dest: Path, locked: bool, config: DownloadConfig) -> None:
    """Remove temporary files of ``dest`` left by processes that died while writing them.

    Under the file's lock every such file is stale (only the lock holder
    writes them); without locks (Windows) only files untouched for longer than
    a download may last are.
    """
    oldest = time.time() - (config.deadline + config.timeout + 60)
    for part in dest.parent.glob(f".{glob.escape(dest.name)}.*.part"):
        try:
            if locked or part.stat().st_mtime < oldest:
                part.unlink()
        except FileNotFoundError:
            pass


class _Permanent(Exception):
    """A failure that retrying the same URL will not fix."""


class _Transient(Exception):
    """A failure that retrying the same URL may fix (HTTP 5xx, short transfer).

    retry_after: the seconds a server asked to wait (HTTP Retry-After), if any.
    """

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class _Mismatch(Exception):
    """A finished file failed verification; the message says what was found."""


class _DeadlineExceeded(Exception):
    """The download's overall deadline has passed: no further tries."""


_REDIRECTS = (301, 302, 303, 307, 308)


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), None if absent or
    unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None or when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - time.time())


def _remaining(deadline: float, config: DownloadConfig, url: str) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise _DeadlineExceeded(
            f"the deadline of {config.deadline:g} s for this download passed (DownloadConfig."
            f"deadline); last URL {url}"
        )
    return left


def _get(url: str, deadline: float, config: DownloadConfig) -> requests.Response:
    """GET ``url``, following at most ``config.max_redirects`` redirects, only to http(s),
    never in a loop."""
    chain = [url]
    while True:
        timeout = min(config.timeout, _remaining(deadline, config, chain[-1]))
        response = requests.get(
            chain[-1],
            stream=True,
            timeout=timeout,
            allow_redirects=False,
            headers={"Accept-Encoding": "identity"},
        )
        if response.status_code not in _REDIRECTS:
            return response
        location = response.headers.get("Location")
        response.close()
        if not location:
            raise _Permanent(f"HTTP {response.status_code} redirect without a Location header")
        target = urljoin(chain[-1], location)
        route = " -> ".join(chain + [target])
        if urlsplit(target).scheme not in ("http", "https"):
            raise _Permanent(
                f"redirected to {target!r}: only http and https redirects are followed ({route})"
            )
        if target in chain:
            raise _Permanent(f"redirect loop: {route}")
        if len(chain) > config.max_redirects:
            raise _Permanent(
                f"more than {config.max_redirects} redirects (DownloadConfig.max_redirects): "
                f"{route}"
            )
        chain.append(target)


def _receive(
    url: str, tmp: str, spec: FileSpec, deadline: float, progress: bool, config: DownloadConfig
) -> None:
    """Write the body of ``url`` to the new file ``tmp``, within the size limit and the deadline."""
    limit, limit_source = size_limit(spec, config)
    with _get(url, deadline, config) as response:
        if response.status_code != 200:
            message = f"HTTP {response.status_code} {response.reason}"
            wait = _retry_after(response.headers.get("Retry-After"))
            if response.status_code in (429, 503) and wait is not None:
                raise _Transient(f"{message} (Retry-After: {wait:g} s)", retry_after=wait)
            transient = response.status_code >= 500 or response.status_code in (408, 429)
            raise (_Transient if transient else _Permanent)(message)
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        if total is not None and total > limit:
            raise _Permanent(
                f"the server announces {total} bytes (Content-Length), more than {limit_source}; "
                "nothing was written"
            )
        raw = response.raw
        read = (
            getattr(raw, "read1", None) or raw.read
        )  # read1: returns what has arrived, so deadlines are checked
        received = 0
        with (
            open(tmp, "xb") as out,
            tqdm(
                total=total,
                unit="B",
                unit_scale=True,
                leave=False,
                desc=spec.name,
                disable=not progress,
            ) as bar,
        ):
            while True:
                _remaining(deadline, config, url)
                chunk = read(config.chunk_size, decode_content=False)
                if not chunk:
                    break
                if received + len(chunk) > limit:
                    raise _Permanent(
                        f"the server sent more than {limit_source}; stopped after {received} bytes"
                    )
                out.write(chunk)
                received += len(chunk)
                bar.update(len(chunk))
        if total is not None and received != total:
            raise _Transient(
                f"connection dropped during the transfer: closed after {received} of {total} bytes"
            )


def _install(
    tmp: str, dest: Path, spec: FileSpec, verify: bool, origin: str, stacklevel: int
) -> Path:
    """Rename the finished ``tmp`` to ``dest`` if it passes verification.

    A copy that fails is an error with ``verify``; without it, it is kept as
    ``NAME.unverified`` (with a warning) so that it never looks verified.
    """
    passed, found = _compare(Path(tmp), spec)
    if passed is not None:
        os.replace(tmp, dest)
        _unverified_path(dest).unlink(missing_ok=True)
        return dest
    if verify:
        raise _Mismatch(found)
    unverified = _unverified_path(dest)
    os.replace(tmp, unverified)
    warnings.warn(
        f"{origin} does not match the published checksum of {spec.name!r} ({found}); using it "
        f"without checksum verification (verify=False), kept as {unverified} so that verify=True "
        "calls never use it",
        stacklevel=stacklevel,
    )
    return unverified


_TRANSIENT = (
    _Transient,
    requests.RequestException,
    urllib3.exceptions.HTTPError,
    http.client.HTTPException,
    ConnectionError,
    TimeoutError,
)


def _describe(exc: Exception, config: DownloadConfig) -> str:
    if isinstance(exc, (requests.Timeout, urllib3.exceptions.TimeoutError, TimeoutError)):
        return f"timed out (limit {config.timeout} s): {exc}"
    if isinstance(
        exc,
        (
            requests.exceptions.ChunkedEncodingError,
            urllib3.exceptions.ProtocolError,
            http.client.IncompleteRead,
        ),
    ):
        return f"connection dropped during the transfer: {exc}"
    if isinstance(exc, _Transient):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def _ready_copy(dest: Path, spec: FileSpec, verify: bool) -> Path | None:
    """A copy of ``dest`` that another process finished while this one waited for the lock."""
    if dest.is_file() and _compare(dest, spec)[0] is not None:
        return dest
    unverified = _unverified_path(dest)
    if not verify and unverified.is_file():
        warnings.warn(
            f"loading {unverified}, a copy that failed checksum verification (verify=False)",
            stacklevel=5,
        )
        return unverified
    return None


def download(
    urls: Sequence[str],
    dest: PathLike,
    spec: FileSpec,
    *,
    verify: bool = True,
    progress: bool = True,
    hint: str = "",
    config: DownloadConfig | None = None,
) -> Path:
    """Download ``spec`` from the first URL that delivers a verified copy to ``dest``; return
    its path.

    Each URL is tried up to ``config.attempts`` times with exponential back-off
    (or the server's Retry-After) for transient failures, within the limits of
    ``config`` (size, deadline, redirects). Only one process at a time downloads
    ``dest``: the others wait for it and then return its verified file. With
    ``verify=False`` a copy that fails verification is returned as
    ``NAME.unverified`` with a warning. On failure raises :class:`DownloadError`
    naming every URL and what happened, followed by ``hint``; ``dest`` is then
    left untouched and no temporary file remains.
    """
    config = config or CONFIG
    dest = Path(dest)
    if os.environ.get(ENV_OFFLINE, "").strip() not in ("", "0"):
        raise DownloadError(f"not downloading {spec.name!r}: ${ENV_OFFLINE} is set. {hint}".strip())
    dest.parent.mkdir(parents=True, exist_ok=True)

    def waiting(lock: Path) -> None:
        if progress:
            print(
                f"waiting for another process to finish downloading {spec.name!r} (lock {lock})",
                file=sys.stderr,
                flush=True,
            )

    with file_lock(
        dest,
        timeout=config.deadline + config.timeout,
        what=f"downloading {spec.name!r} to {dest}",
        on_wait=waiting,
    ) as locked:
        _remove_stale_parts(dest, locked, config)
        ready = _ready_copy(dest, spec, verify)
        if ready is not None:
            return ready
        return _download_locked(urls, dest, spec, verify, progress, hint, config)


def _download_locked(
    urls: Sequence[str],
    dest: Path,
    spec: FileSpec,
    verify: bool,
    progress: bool,
    hint: str,
    config: DownloadConfig,
) -> Path:
    deadline = time.monotonic() + config.deadline
    failures = []

    def failed() -> DownloadError:
        return DownloadError(
            f"could not download {spec.name!r} to {dest}:\n"
            + "\n".join(failures)
            + f"\nNo partial file was kept. {hint}".rstrip()
        )

    for url in urls:
        for attempt in range(1, config.attempts + 1):
            tmp = _temp_path(dest)
            try:
                _receive(url, tmp, spec, deadline, progress, config)
                return _install(tmp, dest, spec, verify, origin=url, stacklevel=6)
            except _DeadlineExceeded as exc:
                failures.append(f"  {url}: {exc}")
                raise failed() from None
            except _Mismatch as exc:  # not retried on the same URL
                failures.append(
                    f"  {url}: checksum mismatch, the downloaded file is truncated, corrupt or not "
                    f"the publisher's ({exc})"
                )
                break
            except _Permanent as exc:
                failures.append(f"  {url}: {exc}")
                break
            except _TRANSIENT as exc:
                described = _describe(exc, config)
                wait = getattr(exc, "retry_after", None)
                if wait is not None and wait > config.max_retry_after:
                    failures.append(
                        f"  {url}: {described}; the server asks to wait {wait:g} s, more than "
                        f"DownloadConfig.max_retry_after = {config.max_retry_after:g} s"
                    )
                    break
                if attempt == config.attempts:
                    failures.append(f"  {url}: failed {attempt} time(s), last error: {described}")
                    break
                if wait is None:
                    wait = config.backoff * 2 ** (attempt - 1)
                if time.monotonic() + wait > deadline:
                    failures.append(
                        f"  {url}: {described}; waiting {wait:g} s before trying again would pass "
                        f"the deadline of {config.deadline:g} s (DownloadConfig.deadline)"
                    )
                    raise failed() from None
                config.sleep(wait)
            finally:
                if os.path.exists(tmp):
                    os.remove(tmp)
    raise failed()


# ----------------------------------------------------------------------------- archives


def _check_member(info: tarfile.TarInfo, archive: Path) -> None:
    parts = PurePosixPath(info.name).parts
    if (
        info.name.startswith(("/", "\\"))
        or ".." in parts
        or (parts and ":" in parts[0])
        or "\\" in info.name
    ):
        raise UnsafeArchiveError(
            f"refusing to extract {archive}: member {info.name!r} would be "
            "written outside the target folder"
        )
    if not (info.isfile() or info.isdir()):
        raise UnsafeArchiveError(
            f"refusing to extract {archive}: member {info.name!r} is a link or "
            "special file, expected only regular files and folders"
        )


def extract_members(
    archive: PathLike,
    target: PathLike,
    members: Sequence[FileSpec],
    *,
    verify: bool = True,
    config: DownloadConfig | None = None,
) -> list[Path]:
    """Extract ``members`` (by ``FileSpec.member``) from a tar archive into ``target``; return
    their paths.

    Every member of the archive is checked first: an absolute path, a ``..``
    component, a link or a special file makes the whole archive refused
    (:class:`UnsafeArchiveError`), and so does a wanted member larger than its
    :func:`size_limit`; with ``verify`` a wanted member whose size differs from
    the registry's is a :class:`ChecksumError`. All of this happens before
    anything is written. Each extracted file goes through a temporary file and
    is verified before it is renamed into place; with ``verify=False`` one that
    fails is kept as ``NAME.unverified`` (with a warning) and that path is
    returned. Members already in place and verified are not extracted again.
    One process at a time extracts from a given archive into ``target``.
    """
    archive, target = Path(archive), Path(target)
    config = config or CONFIG
    target.mkdir(parents=True, exist_ok=True)
    with file_lock(
        target / f"{archive.name}.extract",
        timeout=config.deadline + config.timeout,
        what=f"extracting from {archive} into {target}",
    ):
        paths: dict[str, Path] = {}
        todo = []
        for spec in members:
            dest = target / spec.member
            if target.resolve() not in dest.resolve().parents:
                raise UnsafeArchiveError(f"refusing to extract {spec.member!r} outside {target}")
            if dest.is_file() and _compare(dest, spec)[0] is not None:
                paths[spec.member] = dest  # another process has extracted it meanwhile
            else:
                todo.append(spec)
        if todo:
            try:
                with tarfile.open(archive, "r:*") as tar:
                    paths.update(_extract(tar, archive, target, todo, verify, config))
            except (tarfile.TarError, EOFError, zlib.error) as exc:
                raise FormatError(
                    f"reading archive {archive}: truncated or not a tar archive ({exc})"
                ) from None
    return [paths[spec.member] for spec in members]


def _extract(
    tar: tarfile.TarFile,
    archive: Path,
    target: Path,
    members: Sequence[FileSpec],
    verify: bool,
    config: DownloadConfig,
) -> dict[str, Path]:
    infos = tar.getmembers()
    for info in infos:
        _check_member(info, archive)
    by_name = {PurePosixPath(i.name).as_posix().removeprefix("./"): i for i in infos}
    wanted = []
    for spec in members:  # every check before anything is written
        info = by_name.get(spec.member)
        if info is None or not info.isfile():
            raise FormatError(
                f"extracting {spec.member!r} from {archive}: no such file in the "
                f"archive (it holds {len(infos)} members, e.g. {sorted(by_name)[:5]})"
            )
        limit, limit_source = size_limit(spec, config)
        if info.size > limit:
            raise UnsafeArchiveError(
                f"refusing to extract {spec.member!r} from {archive}: it is {info.size} "
                f"bytes, more than {limit_source}"
            )
        if verify and spec.size is not None and info.size != spec.size:
            raise ChecksumError(
                f"size mismatch for {spec.member!r} in {archive}: {info.size} bytes, the "
                f"publisher's is {spec.size}; the archive is not the publisher's. Replace it, "
                "or pass verify=False."
            )
        wanted.append((spec, info))
    paths = {}
    for spec, info in wanted:
        dest = target / spec.member
        dest.parent.mkdir(parents=True, exist_ok=True)
        # the member's own lock too: a download of the same file from a mirror writes there as well
        with file_lock(
            dest,
            timeout=config.deadline + config.timeout,
            what=f"extracting {spec.member!r} from {archive}",
        ) as locked:
            _remove_stale_parts(dest, locked, config)
            tmp = _temp_path(dest)
            try:
                with open(tmp, "xb") as out, tar.extractfile(info) as src:
                    shutil.copyfileobj(src, out, 1 << 20)
                try:
                    paths[spec.member] = _install(
                        tmp,
                        dest,
                        spec,
                        verify,
                        stacklevel=7,
                        origin=f"{dest} extracted from {archive}",
                    )
                except _Mismatch as exc:
                    raise ChecksumError(
                        f"checksum mismatch for {spec.member!r} extracted from {archive} ({exc}); "
                        "the archive is not the publisher's. Replace it, or pass verify=False."
                    ) from None
            finally:
                if os.path.exists(tmp):
                    os.remove(tmp)
    return paths


# ----------------------------------------------------------------------------- sources


def _is_url(location: str) -> bool:
    return location.startswith(("http://", "https://"))


def _locate(folder: Path, dataset: DatasetSpec, spec: FileSpec) -> Path | None:
    """Find ``spec`` in ``folder``: first in a per-dataset subfolder, then directly."""
    subfolders = (dataset.name, *dataset.folders, "")
    for sub in subfolders:
        for rel in spec.relative_paths:
            candidate = folder / sub / rel
            if candidate.is_file():
                return candidate
    return None


def _looked_in(folder: Path, dataset: DatasetSpec) -> str:
    return (
        ", ".join(f"{folder / sub}/" for sub in (dataset.name, *dataset.folders))
        + f" and {folder}/"
    )


def _how_to_provide(dataset: DatasetSpec, spec: FileSpec, cache: Path) -> str:
    origin = spec.archive or spec.name
    urls = ", ".join(base + origin for base in dataset.urls)
    return (
        f"To work offline, copy the publisher's file {origin!r} (from {urls}) into "
        f"{cache / dataset.name}, "
        f"or set ${ENV_MIRROR} to a folder or http(s) URL holding it (directly or in a "
        f"'{dataset.name}/' subfolder), or pass root=<folder>."
    )


@dataclass
class _Context:
    dataset: DatasetSpec
    root: Path | None
    mirror: str | None
    cache: Path
    verify: bool
    progress: bool
    config: DownloadConfig


def _cached(spec: FileSpec, ctx: _Context) -> Path | None:
    """The cached copy of ``spec`` if there is one that passes verification.

    With ``verify=False`` the copy under its own name is used unchecked, else a
    ``NAME.unverified`` copy kept by an earlier ``verify=False`` call.
    """
    paths = [ctx.cache / ctx.dataset.name / rel for rel in spec.relative_paths]
    for path in paths:
        if path.is_file():
            if not ctx.verify:
                return _check(path, spec, verify=False)
            try:
                verify_file(path, spec)
                return path
            except ChecksumError as exc:
                warnings.warn(f"cached file is damaged, fetching it again: {exc}", stacklevel=4)
    if not ctx.verify:
        for path in map(_unverified_path, paths):
            if path.is_file():
                warnings.warn(
                    f"loading {path}, a copy that failed checksum verification, without checksum "
                    "verification (verify=False)",
                    stacklevel=4,
                )
                return path
    return None


def _from_folder(folder: Path, where: str, spec: FileSpec, ctx: _Context) -> Path:
    """The file from a local folder (root= or a mirror folder; `where` names it in
    messages): found there and checked, else extracted from its archive there, else
    DataNotFoundError."""
    found = _locate(folder, ctx.dataset, spec)
    if found is not None:
        return _check(found, spec, ctx.verify)
    if spec.archive:
        return _from_archive(spec, ctx, where=where)
    raise DataNotFoundError(
        f"loading {ctx.dataset.title}: {spec.name!r} not found in {where} (looked in "
        f"{_looked_in(folder, ctx.dataset)}). {_how_to_provide(ctx.dataset, spec, ctx.cache)}"
    )


def _obtain(spec: FileSpec, ctx: _Context) -> Path:
    dataset = ctx.dataset
    if ctx.root is not None:
        return _from_folder(ctx.root, f"root={ctx.root}", spec, ctx)

    cached = _cached(spec, ctx)
    if cached is not None:
        return cached

    mirror = ctx.mirror
    if mirror and not _is_url(mirror):
        folder = Path(mirror).expanduser()
        return _from_folder(folder, f"mirror folder {folder}", spec, ctx)

    hint = _how_to_provide(dataset, spec, ctx.cache)
    dest = ctx.cache / dataset.name / (spec.member or spec.name)
    if mirror:  # like a mirror folder: the file directly or in a per-dataset subfolder
        base = mirror.rstrip("/") + "/"
        urls = [
            f"{base}{sub}{rel}" for sub in (f"{dataset.name}/", "") for rel in spec.relative_paths
        ]
    elif spec.archive:
        return _from_archive(spec, ctx, where="the network")
    else:
        urls = [base + spec.name for base in dataset.urls]
    try:
        return download(
            urls, dest, spec, verify=ctx.verify, progress=ctx.progress, hint=hint, config=ctx.config
        )
    except DownloadError as direct:
        if not spec.archive:
            raise
        try:
            return _from_archive(spec, ctx, where=f"mirror {mirror}")
        except DownloadError as via_archive:
            raise DownloadError(
                f"{direct}\nNor could the archive holding it be fetched: {via_archive}"
            ) from None


def _from_archive(spec: FileSpec, ctx: _Context, where: str) -> Path:
    dataset = ctx.dataset
    if ctx.root is not None:  # otherwise _obtain has looked in the cache already
        cached = _cached(spec, ctx)
        if cached is not None:
            return cached
    archive_spec = dataset.file(spec.archive)
    try:
        archive = _obtain(archive_spec, ctx)
    except DataNotFoundError as exc:
        raise DataNotFoundError(
            f"loading {dataset.title}: {spec.name!r} not found in {where}, nor the archive "
            f"{archive_spec.name!r} that holds it. Provide {spec.name!r} or {spec.member!r} "
            f"there, or the archive.\n(details: {exc})"
        ) from None
    target = ctx.cache / dataset.name
    members = [f for f in dataset.files if f.archive == spec.archive]
    paths = extract_members(archive, target, members, verify=ctx.verify, config=ctx.config)
    return paths[members.index(spec)]


def fetch(
    dataset: DatasetSpec,
    names: Sequence[str],
    *,
    root: PathLike | None = None,
    mirror: str | os.PathLike | None = None,
    cache_dir: PathLike | None = None,
    verify: bool = True,
    progress: bool = True,
    config: DownloadConfig | None = None,
) -> list[Path]:
    """Return verified local paths of the files ``names`` of ``dataset``.

    root: local folder holding the publisher's files (directly or in a
        per-dataset subfolder); when given, only it is used (no cache, no network).
    mirror: local folder or ``http(s)://`` base URL replacing the official URLs;
        defaults to ``$AUTODIFF_DATA_MIRROR``. A missing file in a mirror folder
        is an error (no fall-back to the network).
    cache_dir: where downloads and extracted files go; defaults to :func:`default_cache_dir`.
    verify: check published checksums (default). ``verify=False`` loads files
        unchecked and warns; a download that fails verification is then kept
        as ``NAME.unverified``, which ``verify=True`` calls never use.
    progress: show a progress bar while downloading (and a line while waiting
        for another process that downloads the same file).
    config: limits and network settings (:class:`DownloadConfig`); default :data:`CONFIG`.
    """
    if mirror is None:
        mirror = os.environ.get(ENV_MIRROR) or None
    ctx = _Context(
        dataset=dataset,
        root=Path(root).expanduser() if root is not None else None,
        mirror=os.fspath(mirror) if mirror is not None else None,
        cache=Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir(),
        verify=verify,
        progress=progress,
        config=config or CONFIG,
    )
    return [_obtain(dataset.file(name), ctx) for name in names]
