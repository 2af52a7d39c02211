"""Where document files live: content-addressed by SHA-256, behind a small interface.

The database holds a document's metadata and its digest; the bytes are in a `Storage`. The
filesystem implementation keeps them under VAR_DIR/documents/ab/cd/<sha256>, written to a
temporary file in the same directory tree and renamed into place, so a reader never sees half a
file and two uploads of the same content share one file. A deployment that keeps files
elsewhere (an object store, a shared volume) implements the same four methods and installs it
with `set_storage`.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import BinaryIO, Iterator, Protocol

CHUNK = 256 * 1024
_DIGEST = re.compile(r"[0-9a-f]{64}")


class Storage(Protocol):
    def put(self, stream: BinaryIO) -> str:
        """Store the stream's bytes (from its current position); returns their SHA-256 (hex)."""

    def open(self, sha256: str) -> BinaryIO:
        """The stored bytes for reading; FileNotFoundError if absent."""

    def exists(self, sha256: str) -> bool: ...

    def delete(self, sha256: str) -> None:
        """Remove the bytes (the caller makes sure no document refers to them any more)."""


def digest_of(stream: BinaryIO) -> tuple[str, int]:
    """SHA-256 and size of a stream, read in chunks from the start; leaves the position at 0."""
    stream.seek(0)
    hasher, size = hashlib.sha256(), 0
    while chunk := stream.read(CHUNK):
        hasher.update(chunk)
        size += len(chunk)
    stream.seek(0)
    return hasher.hexdigest(), size


class FileSystemStorage:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        if not _DIGEST.fullmatch(sha256):
            raise ValueError("not a SHA-256 digest")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, stream: BinaryIO) -> str:
        self.root.mkdir(parents=True, exist_ok=True)
        hasher = hashlib.sha256()
        fd, temp_name = tempfile.mkstemp(prefix=".upload-", dir=self.root)
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(CHUNK):
                    hasher.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            sha256 = hasher.hexdigest()
            target = self.path(sha256)
            try:
                # The same content is stored already. Touched, it is young again: the sweep of
                # unneeded files (service/documents/sweep.py) leaves it to the document being made.
                os.utime(target)
                os.unlink(temp_name)
                return sha256
            except FileNotFoundError:
                pass  # not stored (or swept this instant): store it
            target.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(temp_name, 0o640)
            os.replace(temp_name, target)  # atomic within one filesystem
            return sha256
        except BaseException:
            if os.path.exists(temp_name):
                os.unlink(temp_name)
            raise

    def open(self, sha256: str) -> BinaryIO:
        return open(self.path(sha256), "rb")

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def delete(self, sha256: str) -> None:
        try:
            os.unlink(self.path(sha256))
        except FileNotFoundError:
            pass


def read_chunks(storage: Storage, sha256: str, chunk_size: int = CHUNK) -> Iterator[bytes]:
    with storage.open(sha256) as handle:
        while chunk := handle.read(chunk_size):
            yield chunk


_storage: Storage | None = None


def get_storage() -> Storage:
    """The installed storage, else the filesystem under the current settings' VAR_DIR."""
    if _storage is not None:
        return _storage
    from service.config import get_settings

    return FileSystemStorage(get_settings().var_dir / "documents")


def set_storage(storage: Storage | None) -> None:
    global _storage
    _storage = storage
