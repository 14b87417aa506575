"""The write lock of an embedded store: one writer at a time (a Chroma server takes many)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from assistant.errors import StoreError
from assistant.settings import Settings


@contextlib.contextmanager
def write_lock(settings: Settings):
    """Hold the store's write lock for the block; StoreError naming the holder when another writer has it."""
    if settings.chroma_host:
        yield
        return
    from filelock import FileLock, Timeout

    try:
        settings.store_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"{settings.store_dir}: cannot be the store folder ({exc.strerror or exc}); give "
                         "--store a folder (it is made when missing)") from exc
    path = settings.store_dir / "write.lock"
    lock = FileLock(path, timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise StoreError(f"{settings.store_dir} is being indexed by {holder(path)}; wait for it to "
                         "finish (an embedded store takes one writer at a time; a Chroma server takes many)") \
            from None
    try:
        try:  # who holds it, for the message another writer gets; Windows may refuse a second handle
            path.write_text(f"process {os.getpid()}", encoding="utf-8")
        except OSError:
            pass
        yield
    finally:
        lock.release()


def holder(lock: Path) -> str:
    """Who holds a write lock, as its holder wrote it in the lock file."""
    try:
        return lock.read_text(encoding="utf-8").strip() or "another process"
    except OSError:
        return "another process"
