"""Exceptions raised by the ``datasets`` package.

Every error message names the operation, the file or URL concerned, what was
found and what was expected, and (where it helps) what to do next.
"""

from __future__ import annotations


class DatasetError(Exception):
    """Base class of all errors raised by ``datasets``."""


class DownloadError(DatasetError):
    """No source could deliver a file (network failure, HTTP error, bad content)."""


class ChecksumError(DatasetError):
    """A file's content does not match its published checksum."""


class DataNotFoundError(DatasetError):
    """A file is missing from a local copy (``root=`` or a mirror folder)."""


class UnsafeArchiveError(DatasetError):
    """An archive holds a member that could be written outside its target folder, a link or
    special file, or a member larger than its size limit."""


class FormatError(DatasetError, ValueError):
    """A file is truncated, has a wrong magic number, or has inconsistent sizes."""
