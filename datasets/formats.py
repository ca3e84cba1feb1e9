"""Parsers for the publishers' file formats (our own code, no pickles).

- IDX (MNIST, Fashion-MNIST), optionally gzip-compressed: a 4-byte magic
  number ``0x00 0x00 <type code> <ndim>``, then ``ndim`` big-endian uint32
  sizes, then the data in row-major order. Images have magic 2051
  (uint8, 3 dims), labels 2049 (uint8, 1 dim).
- NumPy ``.npz`` (Kuzushiji-MNIST): one array ``arr_0``, read with
  ``allow_pickle=False``.
- CIFAR-10 binary records: 1 label byte (0-9) then 3072 pixel bytes, the red,
  green and blue 32x32 planes in turn, each row-major; 3073 bytes a record.

The file readers compare the size a header declares with the size of the file
*before* reading the data, so a header claiming more than the file holds is a
:class:`FormatError` naming the file and both sizes, never a huge allocation.
"""

from __future__ import annotations

import contextlib
import gzip
import math
import os
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np
from numpy.typing import DTypeLike

from autodiff.npyformat import NPY_MAGIC, NpyVersionError, read_npy_header

from .errors import FormatError

IDX_IMAGES_MAGIC = 2051
IDX_LABELS_MAGIC = 2049
_IDX_DTYPES = {0x08: "u1", 0x09: "i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}

CIFAR_IMAGE_SHAPE = (3, 32, 32)
CIFAR_RECORD_BYTES = 1 + 3 * 32 * 32


def read_bytes(path: str | os.PathLike) -> bytes:
    """Return the content of ``path``, decompressed if it is gzip (detected by its magic bytes)."""
    data = Path(path).read_bytes()
    if data[:2] != b"\x1f\x8b":
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as exc:
        raise FormatError(f"decompressing {path}: gzip data truncated or corrupt ({exc})") from None


def _idx_header(
    data: bytes, source: str, magic: int | None
) -> tuple[tuple[int, ...], np.dtype, int]:
    """(shape, dtype, header length) from the first bytes of an IDX file (at least the whole
    header)."""
    if len(data) < 4:
        raise FormatError(
            f"parsing IDX file {source}: {len(data)} bytes, too short for the 4-byte magic number"
        )
    found = struct.unpack(">I", data[:4])[0]
    code, ndim = data[2], data[3]
    if data[:2] != b"\0\0" or code not in _IDX_DTYPES or (magic is not None and found != magic):
        expected = (
            f"{magic} (0x{magic:08x})"
            if magic is not None
            else "0x0000TTNN with a known type code TT"
        )
        raise FormatError(
            f"parsing IDX file {source}: magic number {found} (0x{found:08x}), expected {expected}"
        )
    header = 4 + 4 * ndim
    if len(data) < header:
        raise FormatError(
            f"parsing IDX file {source}: truncated header, {len(data)} bytes for {ndim} dimensions "
            f"(needs {header})"
        )
    return struct.unpack(f">{ndim}I", data[4:header]), np.dtype(_IDX_DTYPES[code]), header


def _idx_size_error(
    source: str, shape: tuple[int, ...], dtype: np.dtype, needed: int, found: int | str, short: bool
) -> FormatError:
    problem = "truncated" if short else "has trailing bytes"
    return FormatError(
        f"parsing IDX file {source}: {problem}; header shape {shape} of {dtype.name} needs "
        f"{needed} data bytes, found {found}"
    )


def parse_idx(data: bytes, source: str = "<bytes>", magic: int | None = None) -> np.ndarray:
    """Parse uncompressed IDX bytes into an array of native byte order.

    magic: if given, the expected magic number (e.g. 2051 for images).
    Raises :class:`FormatError` on a wrong magic number or when the data size
    disagrees with the sizes in the header.
    """
    shape, dtype, header = _idx_header(data, source, magic)
    expected_bytes = math.prod(shape) * dtype.itemsize  # Python ints: a header cannot overflow them
    if len(data) - header != expected_bytes:
        raise _idx_size_error(
            source,
            shape,
            dtype,
            expected_bytes,
            len(data) - header,
            short=len(data) - header < expected_bytes,
        )
    array = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=True)


# deflate expands at most about 1032:1; gzip adds a header and trailer of a few bytes
_GZIP_MAX_RATIO = 1032


def read_idx(path: str | os.PathLike, magic: int | None = None) -> np.ndarray:
    """Read an IDX file (plain or ``.gz``); see :func:`parse_idx`.

    The header's sizes are checked before the data is read: against the file's
    size for a plain file, and against the most a gzip file of this size can
    decompress to for a ``.gz`` file (then the data must end exactly where the
    header says).
    """
    path = Path(path)
    source = str(path)
    size = path.stat().st_size
    with open(path, "rb") as raw:
        compressed = raw.read(2) == b"\x1f\x8b"
        raw.seek(0)
        try:
            with gzip.GzipFile(fileobj=raw) if compressed else contextlib.nullcontext(raw) as f:
                head = f.read(4)
                if len(head) == 4:
                    head += f.read(4 * head[3])
                shape, dtype, header = _idx_header(head, source, magic)
                needed = math.prod(shape) * dtype.itemsize
                if not compressed and size - header != needed:
                    raise _idx_size_error(
                        source, shape, dtype, needed, size - header, short=size - header < needed
                    )
                if compressed and needed > _GZIP_MAX_RATIO * size:
                    raise FormatError(
                        f"parsing IDX file {source}: header shape {shape} of {dtype.name} needs "
                        f"{needed} data bytes, more than a {size}-byte gzip file can hold "
                        f"(at most about {_GZIP_MAX_RATIO * size})"
                    )
                data = f.read(needed)
                if len(data) < needed:
                    raise _idx_size_error(source, shape, dtype, needed, len(data), short=True)
                if f.read(1):
                    raise _idx_size_error(
                        source, shape, dtype, needed, f"more than {needed}", short=False
                    )
        except (OSError, EOFError, zlib.error) as exc:
            if not compressed:
                raise
            raise FormatError(
                f"decompressing {path}: gzip data truncated or corrupt ({exc})"
            ) from None
    array = np.frombuffer(data, dtype=dtype).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=True)


_DEFLATE_MAX_RATIO = 1032  # the most deflate can expand data


def _npy_header(member, source: str) -> tuple[tuple[int, ...], np.dtype, int]:
    """(shape, dtype, header length) of the .npy stream ``member``, read without its data."""
    try:
        return read_npy_header(member)
    except NpyVersionError as exc:
        raise FormatError(
            f"reading {source}: .npy format version {exc.version[0]}.{exc.version[1]} is not "
            "supported (expected 1.0 or 2.0)"
        ) from None
    except (ValueError, EOFError) as exc:
        raise FormatError(f"reading {source}: not a valid .npy header ({exc})") from None


def _check_npz_member(
    info: zipfile.ZipInfo, shape: tuple[int, ...], dtype: np.dtype, header: int, source: str
) -> None:
    """Refuse a member whose header disagrees with its size, or that holds Python objects."""
    if dtype.hasobject:
        raise FormatError(
            f"reading {source}: dtype {dtype} holds Python objects, which would need unpickling; "
            "refused (only plain numeric arrays are read)"
        )
    needed = math.prod(shape) * dtype.itemsize
    if info.file_size - header != needed:
        raise FormatError(
            f"reading {source}: header shape {shape} of {dtype} needs {needed} data bytes, "
            f"the member holds {info.file_size - header}; truncated or not a valid .npz archive"
        )
    if info.compress_type == zipfile.ZIP_STORED and info.compress_size != info.file_size:
        raise FormatError(
            f"reading {source}: stored member of {info.compress_size} bytes declares "
            f"{info.file_size} bytes; not a valid .npz archive"
        )
    if (
        info.compress_type == zipfile.ZIP_DEFLATED
        and info.file_size > _DEFLATE_MAX_RATIO * info.compress_size + 1024
    ):
        raise FormatError(
            f"reading {source}: member declares {info.file_size} bytes, more than its "
            f"{info.compress_size} compressed bytes can hold; not a valid .npz archive"
        )


def read_npz_array(
    path: str | os.PathLike,
    key: str = "arr_0",
    *,
    shape: tuple[int | None, ...] | None = None,
    dtype: DTypeLike = None,
) -> np.ndarray:
    """Read array ``key`` from a ``.npz`` file with ``allow_pickle=False``.

    The member's .npy header is read first: the bytes it describes must be the
    bytes the member holds, and, when given, its shape must match ``shape``
    (``None`` entries match any size) and its dtype ``dtype``. Otherwise
    :class:`FormatError` names the file and the expected vs actual sizes before
    any data is read.
    """
    path = Path(path)
    try:
        with open(path, "rb") as f:
            if f.read(len(NPY_MAGIC)) == NPY_MAGIC:
                raise FormatError(
                    f"reading {path}: expected a .npz archive, found a single .npy array"
                )
        with zipfile.ZipFile(path) as archive:
            names = {n[:-4] if n.endswith(".npy") else n: n for n in archive.namelist()}
            if key not in names:
                raise FormatError(
                    f"reading {path}: no array {key!r} in the archive, it holds {list(names)}"
                )
            info = archive.getinfo(names[key])
            source = f"{path} (array {key!r})"
            with archive.open(info) as member:
                found_shape, found_dtype, header = _npy_header(member, source)
            _check_npz_member(info, found_shape, found_dtype, header, source)
            if shape is not None and (
                len(shape) != len(found_shape)
                or any(e is not None and e != n for e, n in zip(shape, found_shape, strict=False))
            ):
                wanted = (
                    "("
                    + ", ".join("n" if e is None else str(e) for e in shape)
                    + ("," * (len(shape) == 1))
                    + ")"
                )
                raise FormatError(f"reading {source}: shape {found_shape}, expected {wanted}")
            if dtype is not None and found_dtype != np.dtype(dtype):
                raise FormatError(
                    f"reading {source}: dtype {found_dtype}, expected {np.dtype(dtype)}"
                )
            with archive.open(info) as member:
                array = np.lib.format.read_array(member, allow_pickle=False)
                member.read()  # to the end, so that the member's CRC is checked
            return array
    except FormatError:
        raise
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, zlib.error) as exc:
        raise FormatError(
            f"reading {path}: not a valid .npz archive or truncated ({type(exc).__name__}: {exc})"
        ) from None


def _check_cifar_size(size: int, source: str) -> None:
    if size == 0 or size % CIFAR_RECORD_BYTES:
        raise FormatError(
            f"parsing CIFAR-10 binary file {source}: {size} bytes is not a positive multiple "
            f"of the {CIFAR_RECORD_BYTES}-byte record (1 label byte + 3072 pixel bytes); "
            "truncated or not a CIFAR-10 binary batch"
        )


def parse_cifar_records(data: bytes, source: str = "<bytes>") -> tuple[np.ndarray, np.ndarray]:
    """Parse CIFAR-10 binary records.

    Returns images ``(n, 3, 32, 32)`` uint8 (channel, row, column) and labels ``(n,)`` int64.
    """
    _check_cifar_size(len(data), source)
    records = np.frombuffer(data, dtype=np.uint8).reshape(-1, CIFAR_RECORD_BYTES)
    labels = records[:, 0].astype(np.int64)
    bad = np.flatnonzero(labels > 9)
    if bad.size:
        raise FormatError(
            f"parsing CIFAR-10 binary file {source}: label byte {labels[bad[0]]} in record "
            f"{bad[0]}, expected 0-9 ({bad.size} bad records)"
        )
    images = records[:, 1:].reshape(-1, *CIFAR_IMAGE_SHAPE).copy()
    return images, labels


def read_cifar_records(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Read a CIFAR-10 binary batch file; see :func:`parse_cifar_records`.

    The file's size is checked (a positive multiple of the record) before it is read.
    """
    size = Path(path).stat().st_size
    _check_cifar_size(size, str(path))
    data = Path(path).read_bytes()
    if len(data) != size:
        raise FormatError(
            f"reading CIFAR-10 binary file {path}: {size} bytes expected from its size, read "
            f"{len(data)} (the file changed while being read)"
        )
    return parse_cifar_records(data, source=str(path))


def read_index_file(path: str | os.PathLike, count: int, upper: int) -> np.ndarray:
    """Read one non-negative integer per line (``count`` lines, each below ``upper``) as int64."""
    try:
        values = [int(line) for line in Path(path).read_text(encoding="ascii").split()]
    except (ValueError, UnicodeDecodeError) as exc:
        raise FormatError(
            f"reading index file {path}: expected one decimal integer per line ({exc})"
        ) from None
    index = np.asarray(values, dtype=np.int64)
    if index.shape != (count,):
        raise FormatError(
            f"reading index file {path}: {index.size} entries, expected {count} (one per record)"
        )
    if index.size and (index.min() < 0 or index.max() >= upper):
        raise FormatError(
            f"reading index file {path}: entries range {index.min()}..{index.max()}, "
            f"expected 0..{upper - 1}"
        )
    return index


def write_idx(path: str | os.PathLike, array: np.ndarray, compress: bool | None = None) -> None:
    """Write ``array`` as an IDX file (gzip-compressed if ``compress`` or the name ends with
    ``.gz``)."""
    array = np.asarray(array)
    codes = {np.dtype(v).newbyteorder("=").str: k for k, v in _IDX_DTYPES.items()}
    code = codes.get(array.dtype.newbyteorder("=").str)
    if code is None:
        raise FormatError(f"writing IDX file {path}: dtype {array.dtype} has no IDX type code")
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    data = header + array.astype(np.dtype(_IDX_DTYPES[code]), copy=False).tobytes()
    if compress or (compress is None and str(path).endswith(".gz")):
        data = gzip.compress(data)
    Path(path).write_bytes(data)
