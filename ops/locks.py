"""Locks that hold across processes on one machine: an exclusive `flock` on a file beside the data they guard,
and SQLite write transactions taken up front.

The kernel drops a lock when its process dies, so a crashed run never leaves one behind. A team database
can take this over later by turning `exclusive` into a row lock; callers only see the context manager.
"""

from __future__ import annotations

import fcntl
import os
import re
import socket
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ads.errors import AdpilotError

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class LockTimeoutError(AdpilotError):
    """Another process has held a lock for longer than we wait."""


def lock_path(directory: Path, name: str) -> Path:
    """The lock file for `name` (an account, a thread id) in `directory`, with a file-system-safe name."""
    return directory / f"{_UNSAFE.sub('_', name)}.lock"


@contextmanager
def exclusive(path: Path, *, what: str, timeout: float = 120.0) -> Iterator[None]:
    """Hold an exclusive lock on `path` (created if missing); waits up to `timeout` seconds for it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise LockTimeoutError(
                        f"{what} is busy in another adpilot process (waited {timeout:.0f} s); try again"
                    ) from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)


def process_owner() -> str:
    """Who this process is, as recorded on leases: host and pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


def owner_alive(owner: str) -> bool:
    """Whether the process named by `owner` still runs. A process on another host is assumed alive."""
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def write_transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """`BEGIN IMMEDIATE` … `COMMIT` on a connection in autocommit mode (`isolation_level=None`): the write lock is
    taken first, so a concurrent writer waits on the busy timeout instead of failing as a deadlock; any error
    rolls everything back."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
