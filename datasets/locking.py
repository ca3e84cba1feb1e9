"""A cross-process lock per file, so that one process downloads while the others wait.

:func:`file_lock` takes an exclusive ``fcntl.flock`` lock on a lock file next
to the file it protects (``.NAME.lock``). The kernel releases the lock when its
holder exits, even when it is killed, so a dead process never blocks the others.
The holder deletes the lock file when it is done; a process that locked a file
that has since been deleted (or replaced) locks again, so two processes can
never both believe they hold the lock.

Where ``fcntl`` is missing (Windows) the lock is a no-op: downloads stay
correct (each writes a private temporary file and renames it into place), but
several processes may then download the same file.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

from .errors import DownloadError

HAVE_LOCKS = fcntl is not None
POLL_INTERVAL = 0.05  # seconds between tries while another process holds the lock


def lock_path(path: Path) -> Path:
    """The lock file that guards ``path``."""
    return path.with_name(f".{path.name}.lock")


def _try_lock(lock: Path) -> int | None:
    """The descriptor of ``lock``, locked; None while another process holds it."""
    fd = os.open(lock, os.O_RDONLY | os.O_CREAT, 0o666)  # flock needs no write access
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    except BaseException:
        os.close(fd)
        raise
    try:
        current = os.stat(lock)
    except FileNotFoundError:
        current = None
    mine = os.fstat(fd)
    if current is None or (current.st_dev, current.st_ino) != (mine.st_dev, mine.st_ino):
        os.close(fd)  # the previous holder deleted the file after we opened it: try again
        return None
    return fd


@contextlib.contextmanager
def file_lock(
    path: Path, *, timeout: float, what: str, on_wait: Callable[[Path], None] | None = None
) -> Iterator[bool]:
    """Hold the cross-process lock of ``path`` for the duration of the ``with`` block.

    timeout: seconds to wait for another holder before raising :class:`DownloadError`.
    what: the operation, for that error message (e.g. "downloading 'x.gz'").
    on_wait: called once with the lock file's path if the lock is busy.

    Yields True when a real lock is held, False where locks are unavailable.
    """
    if not HAVE_LOCKS:
        yield False
        return
    lock = lock_path(path)
    lock.parent.mkdir(parents=True, exist_ok=True)
    give_up = time.monotonic() + timeout
    waited = False
    while True:
        fd = _try_lock(lock)
        if fd is not None:
            break
        if not waited and on_wait is not None:
            on_wait(lock)
        waited = True
        if time.monotonic() >= give_up:
            raise DownloadError(
                f"{what}: waited {timeout:g} s for another process that holds the lock "
                f"{lock} (it is downloading or extracting the same file); try again later, "
                "or raise DownloadConfig.deadline"
            )
        time.sleep(POLL_INTERVAL)
    try:
        yield True
    finally:
        with contextlib.suppress(
            OSError
        ):  # gone already, or not ours to delete: harmless either way
            os.unlink(
                lock
            )  # before unlocking, so a waiter never locks a file that is about to vanish
        os.close(fd)
