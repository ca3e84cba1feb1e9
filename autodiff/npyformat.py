"""Reading a .npy header without the data (numpy only).

Shared by the two readers of .npy members, `nn.Module.load` (state files) and
`datasets.read_npz_array` (.npz data files): both check a member's shape, dtype and size
from its header before any data is read.  It lives in the engine package because both may
depend on it, while datasets does not import nn, nor nn datasets.
"""

from __future__ import annotations

from typing import IO

import numpy as np

__all__ = ["NPY_MAGIC", "NpyVersionError", "read_npy_header"]

NPY_MAGIC = b"\x93NUMPY"  # the first bytes of every .npy stream


class NpyVersionError(ValueError):
    """A .npy stream in a format version other than 1.0 and 2.0; `version` is its
    (major, minor)."""

    def __init__(self, version: tuple[int, int]):
        super().__init__(f".npy format version {version[0]}.{version[1]} is not supported")
        self.version = version


def read_npy_header(stream: IO[bytes]) -> tuple[tuple[int, ...], np.dtype, int]:
    """(shape, dtype, header length in bytes) of the .npy stream `stream`, read from its
    start up to the data.  Versions 1.0 and 2.0 (what np.save writes); NpyVersionError for
    another version, ValueError (or EOFError) for a damaged header."""
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(stream)
    elif version == (2, 0):
        shape, _, dtype = np.lib.format.read_array_header_2_0(stream)
    else:
        raise NpyVersionError(version)
    return tuple(shape), dtype, stream.tell()
