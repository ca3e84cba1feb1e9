"""Parsers for the publishers' file formats (our own code, no pickles).

- IDX (MNIST, Fashion-MNIST), optionally gzip-compressed: a 4-byte magic
  number ``0x00 0x00 <type code> <ndim>``, then ``ndim`` big-endian uint32
  sizes, then the data in row-major order. Images have magic 2051
  (uint8, 3 dims), labels 2049 (uint8, 1 dim).
- NumPy ``.npz`` (Kuzushiji-MNIST): one array ``arr_0``, read with
  ``allow_pickle=False``.
- CIFAR-10 binary records: 1 label byte (0-9) then 3072 pixel bytes, the red,
  green and blue 32x32 planes in turn, each row-major; 3073 bytes a record.
"""

from __future__ import annotations

import gzip
import os
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np

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


def parse_idx(data: bytes, source: str = "<bytes>", magic: int | None = None) -> np.ndarray:
    """Parse uncompressed IDX bytes into an array of native byte order.

    magic: if given, the expected magic number (e.g. 2051 for images).
    Raises :class:`FormatError` on a wrong magic number or when the data size
    disagrees with the sizes in the header.
    """
    if len(data) < 4:
        raise FormatError(f"parsing IDX file {source}: {len(data)} bytes, too short for the 4-byte magic number")
    found = struct.unpack(">I", data[:4])[0]
    code, ndim = data[2], data[3]
    if data[:2] != b"\0\0" or code not in _IDX_DTYPES or (magic is not None and found != magic):
        expected = f"{magic} (0x{magic:08x})" if magic is not None else "0x0000TTNN with a known type code TT"
        raise FormatError(f"parsing IDX file {source}: magic number {found} (0x{found:08x}), expected {expected}")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise FormatError(f"parsing IDX file {source}: truncated header, {len(data)} bytes for {ndim} dimensions "
                          f"(needs {header})")
    shape = struct.unpack(f">{ndim}I", data[4:header])
    dtype = np.dtype(_IDX_DTYPES[code])
    expected_bytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) - header != expected_bytes:
        problem = "truncated" if len(data) - header < expected_bytes else "has trailing bytes"
        raise FormatError(f"parsing IDX file {source}: {problem}; header shape {shape} of {dtype.name} needs "
                          f"{expected_bytes} data bytes, found {len(data) - header}")
    array = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=True)


def read_idx(path: str | os.PathLike, magic: int | None = None) -> np.ndarray:
    """Read an IDX file (plain or ``.gz``); see :func:`parse_idx`."""
    return parse_idx(read_bytes(path), source=str(path), magic=magic)


def read_npz_array(path: str | os.PathLike, key: str = "arr_0") -> np.ndarray:
    """Read array ``key`` from a ``.npz`` file with ``allow_pickle=False``."""
    try:
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            raise FormatError(f"reading {path}: expected a .npz archive, found a single .npy array")
        with loaded as archive:
            if key not in archive.files:
                raise FormatError(f"reading {path}: no array {key!r} in the archive, it holds {archive.files}")
            return archive[key]
    except FormatError:
        raise
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, zlib.error) as exc:
        raise FormatError(f"reading {path}: not a valid .npz archive or truncated ({type(exc).__name__}: {exc})") \
            from None


def parse_cifar_records(data: bytes, source: str = "<bytes>") -> tuple[np.ndarray, np.ndarray]:
    """Parse CIFAR-10 binary records.

    Returns images ``(n, 3, 32, 32)`` uint8 (channel, row, column) and labels ``(n,)`` int64.
    """
    if len(data) == 0 or len(data) % CIFAR_RECORD_BYTES:
        raise FormatError(f"parsing CIFAR-10 binary file {source}: {len(data)} bytes is not a positive multiple "
                          f"of the {CIFAR_RECORD_BYTES}-byte record (1 label byte + 3072 pixel bytes); "
                          "truncated or not a CIFAR-10 binary batch")
    records = np.frombuffer(data, dtype=np.uint8).reshape(-1, CIFAR_RECORD_BYTES)
    labels = records[:, 0].astype(np.int64)
    bad = np.flatnonzero(labels > 9)
    if bad.size:
        raise FormatError(f"parsing CIFAR-10 binary file {source}: label byte {labels[bad[0]]} in record {bad[0]}, "
                          f"expected 0-9 ({bad.size} bad records)")
    images = records[:, 1:].reshape(-1, *CIFAR_IMAGE_SHAPE).copy()
    return images, labels


def read_cifar_records(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Read a CIFAR-10 binary batch file; see :func:`parse_cifar_records`."""
    return parse_cifar_records(Path(path).read_bytes(), source=str(path))


def read_index_file(path: str | os.PathLike, count: int, upper: int) -> np.ndarray:
    """Read one non-negative integer per line (``count`` lines, each below ``upper``) as int64."""
    try:
        values = [int(line) for line in Path(path).read_text(encoding="ascii").split()]
    except (ValueError, UnicodeDecodeError) as exc:
        raise FormatError(f"reading index file {path}: expected one decimal integer per line ({exc})") from None
    index = np.asarray(values, dtype=np.int64)
    if index.shape != (count,):
        raise FormatError(f"reading index file {path}: {index.size} entries, expected {count} (one per record)")
    if index.size and (index.min() < 0 or index.max() >= upper):
        raise FormatError(f"reading index file {path}: entries range {index.min()}..{index.max()}, "
                          f"expected 0..{upper - 1}")
    return index


def write_idx(path: str | os.PathLike, array: np.ndarray, compress: bool | None = None) -> None:
    """Write ``array`` as an IDX file (gzip-compressed if ``compress`` or the name ends with ``.gz``)."""
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
