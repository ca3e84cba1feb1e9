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
after verification, so the cache never holds a partial or corrupt file.
"""

from __future__ import annotations

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
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Callable, Mapping, Sequence

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
    """

    name: str
    md5: str | None = None
    sha256: str | None = None
    content_sha256: str | None = None
    archive: str | None = None
    member: str | None = None

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
        raise KeyError(f"{self.title}: no file named {name!r}; known: {[f.name for f in self.files]}")


@dataclass(frozen=True)
class DownloadConfig:
    """Network settings. Replace :data:`CONFIG` (e.g. in tests) to change them.

    attempts: tries per URL for transient failures (timeouts, dropped
        connections, HTTP 5xx/408/429); HTTP 4xx and checksum mismatches move
        on to the next URL at once.
    backoff: seconds to wait before the second try of a URL, doubled each try.
    timeout: seconds allowed for connecting and for each read.
    """

    attempts: int = 3
    backoff: float = 1.0
    timeout: float = 30.0
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
    found = [f"md5 {md5} (published {spec.md5})" if spec.md5 else f"sha256 {sha256} (published {spec.sha256})"]
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
        raise ChecksumError(f"verifying {path}: no checksum is known for {spec.name!r}; "
                            "pass verify=False to load it unverified")
    passed, found = _compare(path, spec)
    if passed is None:
        raise ChecksumError(
            f"checksum mismatch for {path} ({found}). The file is truncated, corrupt or not the publisher's "
            f"{spec.name!r}. Replace it with the publisher's file, or pass verify=False to load a knowingly "
            "different copy.")
    return passed


def _check(path: Path, spec: FileSpec, verify: bool) -> Path:
    if verify:
        verify_file(path, spec)
    else:
        warnings.warn(f"loading {path} without checksum verification (verify=False)", stacklevel=4)
    return path


# ----------------------------------------------------------------------------- download


def _temp_path(dest: Path) -> str:
    """A fresh name next to ``dest`` for writing before the verified rename."""
    return str(dest.with_name(f".{dest.name}.{os.getpid()}-{secrets.token_hex(4)}.part"))


class _Permanent(Exception):
    """A failure that retrying the same URL will not fix."""


class _Transient(Exception):
    """A failure that retrying the same URL may fix (HTTP 5xx, short transfer)."""


def _download_once(url: str, dest: Path, spec: FileSpec, verify: bool, progress: bool,
                   config: DownloadConfig) -> None:
    tmp: str | None = None
    try:
        with requests.get(url, stream=True, timeout=config.timeout,
                          headers={"Accept-Encoding": "identity"}) as response:
            if response.status_code != 200:
                message = f"HTTP {response.status_code} {response.reason}"
                transient = response.status_code >= 500 or response.status_code in (408, 429)
                raise (_Transient if transient else _Permanent)(message)
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            tmp = _temp_path(dest)
            received = 0
            with open(tmp, "xb") as out, tqdm(total=total, unit="B", unit_scale=True, leave=False,
                                                  desc=spec.name, disable=not progress) as bar:
                for chunk in response.raw.stream(config.chunk_size, decode_content=False):
                    out.write(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
            if total is not None and received != total:
                raise _Transient(f"connection closed after {received} of {total} bytes")
        if verify:
            passed, found = _compare(Path(tmp), spec)
            if passed is None:
                raise _Permanent(f"checksum mismatch, the downloaded file is truncated, corrupt or not the "
                                 f"publisher's ({found})")
        else:
            warnings.warn(f"{url} saved to {dest} without checksum verification (verify=False)",
                          stacklevel=5)
        os.replace(tmp, dest)
        tmp = None
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.remove(tmp)


_TRANSIENT = (_Transient, requests.RequestException, urllib3.exceptions.HTTPError, http.client.HTTPException,
              ConnectionError, TimeoutError)


def _describe(exc: Exception, config: DownloadConfig) -> str:
    if isinstance(exc, (requests.Timeout, urllib3.exceptions.TimeoutError, TimeoutError)):
        return f"timed out (limit {config.timeout} s): {exc}"
    if isinstance(exc, (requests.exceptions.ChunkedEncodingError, urllib3.exceptions.ProtocolError,
                        http.client.IncompleteRead)):
        return f"connection dropped during the transfer: {exc}"
    if isinstance(exc, _Transient):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def download(urls: Sequence[str], dest: PathLike, spec: FileSpec, *, verify: bool = True,
             progress: bool = True, hint: str = "", config: DownloadConfig | None = None) -> Path:
    """Download ``spec`` from the first URL that delivers a verified copy to ``dest``.

    Each URL is tried up to ``config.attempts`` times with exponential back-off
    for transient failures. On failure raises :class:`DownloadError` naming every
    URL and what happened, followed by ``hint``; ``dest`` is then left untouched
    and no temporary file remains.
    """
    config = config or CONFIG
    dest = Path(dest)
    if os.environ.get(ENV_OFFLINE, "").strip() not in ("", "0"):
        raise DownloadError(f"not downloading {spec.name!r}: ${ENV_OFFLINE} is set. {hint}".strip())
    dest.parent.mkdir(parents=True, exist_ok=True)
    failures = []
    for url in urls:
        for attempt in range(1, config.attempts + 1):
            if attempt > 1:
                config.sleep(config.backoff * 2 ** (attempt - 2))
            try:
                _download_once(url, dest, spec, verify, progress, config)
                return dest
            except _Permanent as exc:
                failures.append(f"  {url}: {exc}")
                break
            except _TRANSIENT as exc:
                if attempt == config.attempts:
                    failures.append(f"  {url}: failed {attempt} time(s), last error: {_describe(exc, config)}")
    raise DownloadError(
        f"could not download {spec.name!r} to {dest}:\n" + "\n".join(failures)
        + f"\nNo partial file was kept. {hint}".rstrip()
    )


# ----------------------------------------------------------------------------- archives


def _check_member(info: tarfile.TarInfo, archive: Path) -> None:
    parts = PurePosixPath(info.name).parts
    if (info.name.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0])
            or "\\" in info.name):
        raise UnsafeArchiveError(f"refusing to extract {archive}: member {info.name!r} would be "
                                 "written outside the target folder")
    if not (info.isfile() or info.isdir()):
        raise UnsafeArchiveError(f"refusing to extract {archive}: member {info.name!r} is a link or "
                                 "special file, expected only regular files and folders")


def extract_members(archive: PathLike, target: PathLike, members: Sequence[FileSpec], *,
                    verify: bool = True) -> None:
    """Extract ``members`` (by ``FileSpec.member``) from a tar archive into ``target``.

    Every member of the archive is checked first: an absolute path, a ``..``
    component, a link or a special file makes the whole archive refused
    (:class:`UnsafeArchiveError`). Each extracted file goes through a temporary
    file and is verified before it is renamed into place.
    """
    archive, target = Path(archive), Path(target)
    try:
        with tarfile.open(archive, "r:*") as tar:
            infos = tar.getmembers()
            for info in infos:
                _check_member(info, archive)
            by_name = {PurePosixPath(i.name).as_posix().removeprefix("./"): i for i in infos}
            for spec in members:
                info = by_name.get(spec.member)
                if info is None or not info.isfile():
                    raise FormatError(f"extracting {spec.member!r} from {archive}: no such file in the "
                                      f"archive (it holds {len(infos)} members, e.g. "
                                      f"{sorted(by_name)[:5]})")
                dest = target / spec.member
                if target.resolve() not in dest.resolve().parents:
                    raise UnsafeArchiveError(f"refusing to extract {spec.member!r} outside {target}")
                dest.parent.mkdir(parents=True, exist_ok=True)
                tmp = _temp_path(dest)
                try:
                    with open(tmp, "xb") as out, tar.extractfile(info) as src:
                        shutil.copyfileobj(src, out, 1 << 20)
                    if not verify:
                        warnings.warn(f"{dest} extracted from {archive} without checksum verification "
                                      "(verify=False)", stacklevel=4)
                    else:
                        passed, found = _compare(Path(tmp), spec)
                        if passed is None:
                            raise ChecksumError(f"checksum mismatch for {spec.member!r} extracted from {archive} "
                                                f"({found}); the archive is not the publisher's. Replace it, "
                                                "or pass verify=False.")
                    os.replace(tmp, dest)
                finally:
                    if os.path.exists(tmp):
                        os.remove(tmp)
    except (tarfile.TarError, EOFError, zlib.error) as exc:
        raise FormatError(f"reading archive {archive}: truncated or not a tar archive ({exc})") from None


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
    return ", ".join(f"{folder / sub}/" for sub in (dataset.name, *dataset.folders)) + f" and {folder}/"


def _how_to_provide(dataset: DatasetSpec, spec: FileSpec, cache: Path) -> str:
    origin = spec.archive or spec.name
    urls = ", ".join(base + origin for base in dataset.urls)
    return (f"To work offline, copy the publisher's file {origin!r} (from {urls}) into {cache / dataset.name}, "
            f"or set ${ENV_MIRROR} to a folder or http(s) URL holding it (directly or in a "
            f"'{dataset.name}/' subfolder), or pass root=<folder>.")


@dataclass
class _Context:
    dataset: DatasetSpec
    root: Path | None
    mirror: str | None
    cache: Path
    verify: bool
    progress: bool


def _cached(spec: FileSpec, ctx: _Context) -> Path | None:
    """The cached copy of ``spec`` if there is one that passes verification."""
    for rel in spec.relative_paths:
        path = ctx.cache / ctx.dataset.name / rel
        if path.is_file():
            if not ctx.verify:
                return _check(path, spec, verify=False)
            try:
                verify_file(path, spec)
                return path
            except ChecksumError as exc:
                warnings.warn(f"cached file is damaged, fetching it again: {exc}", stacklevel=4)
    return None


def _obtain(spec: FileSpec, ctx: _Context) -> Path:
    dataset = ctx.dataset
    if ctx.root is not None:
        found = _locate(ctx.root, dataset, spec)
        if found is not None:
            return _check(found, spec, ctx.verify)
        if spec.archive:
            return _from_archive(spec, ctx, where=f"root={ctx.root}")
        raise DataNotFoundError(
            f"loading {dataset.title}: {spec.name!r} not found in root={ctx.root} (looked in "
            f"{_looked_in(ctx.root, dataset)}). {_how_to_provide(dataset, spec, ctx.cache)}")

    cached = _cached(spec, ctx)
    if cached is not None:
        return cached

    mirror = ctx.mirror
    if mirror and not _is_url(mirror):
        folder = Path(mirror).expanduser()
        found = _locate(folder, dataset, spec)
        if found is not None:
            return _check(found, spec, ctx.verify)
        if spec.archive:
            return _from_archive(spec, ctx, where=f"mirror folder {folder}")
        raise DataNotFoundError(
            f"loading {dataset.title}: {spec.name!r} not found in mirror folder {folder} (looked in "
            f"{_looked_in(folder, dataset)}). {_how_to_provide(dataset, spec, ctx.cache)}")

    hint = _how_to_provide(dataset, spec, ctx.cache)
    dest = ctx.cache / dataset.name / (spec.member or spec.name)
    if mirror:  # like a mirror folder: the file directly or in a per-dataset subfolder
        base = mirror.rstrip("/") + "/"
        urls = [f"{base}{sub}{rel}" for sub in (f"{dataset.name}/", "") for rel in spec.relative_paths]
    elif spec.archive:
        return _from_archive(spec, ctx, where="the network")
    else:
        urls = [base + spec.name for base in dataset.urls]
    try:
        return download(urls, dest, spec, verify=ctx.verify, progress=ctx.progress, hint=hint)
    except DownloadError as direct:
        if not spec.archive:
            raise
        try:
            return _from_archive(spec, ctx, where=f"mirror {mirror}")
        except DownloadError as via_archive:
            raise DownloadError(f"{direct}\nNor could the archive holding it be fetched: {via_archive}") from None


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
            f"{archive_spec.name!r} that holds it. Provide {spec.name!r} or {spec.member!r} there, or "
            f"the archive.\n(details: {exc})") from None
    target = ctx.cache / dataset.name
    members = [f for f in dataset.files if f.archive == spec.archive]
    extract_members(archive, target, members, verify=ctx.verify)
    return target / spec.member


def fetch(dataset: DatasetSpec, names: Sequence[str], *, root: PathLike | None = None,
          mirror: str | os.PathLike | None = None, cache_dir: PathLike | None = None,
          verify: bool = True, progress: bool = True) -> list[Path]:
    """Return verified local paths of the files ``names`` of ``dataset``.

    root: local folder holding the publisher's files (directly or in a
        per-dataset subfolder); when given, only it is used (no cache, no network).
    mirror: local folder or ``http(s)://`` base URL replacing the official URLs;
        defaults to ``$AUTODIFF_DATA_MIRROR``. A missing file in a mirror folder
        is an error (no fall-back to the network).
    cache_dir: where downloads and extracted files go; defaults to :func:`default_cache_dir`.
    verify: check published checksums (default). ``verify=False`` loads files
        unchecked and warns.
    progress: show a progress bar while downloading.
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
    )
    return [_obtain(dataset.file(name), ctx) for name in names]
