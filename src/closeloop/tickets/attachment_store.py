"""Attachment bytes on disk, addressed by their SHA-256: ``root/ab/cd/<sha256>``.

An upload is streamed into a temporary file next to the stored files (same file system, so the
final rename is atomic) while its digest and size are computed; it is fsynced and then renamed
under its digest. Identical content is therefore stored once. A file without a database row is
harmless (it is only reachable by its digest); the caller writes the row after :meth:`save`.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

CHUNK_SIZE = 64 * 1024
# How many leading bytes ``inspect_head`` receives: enough for every magic number we sniff.
HEAD_SIZE = 16
_SHA256 = re.compile(r"[0-9a-f]{64}")


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class SizeLimitExceeded(Exception):
    """The upload passed ``max_bytes``; nothing was kept."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"upload larger than {limit} bytes")
        self.limit = limit


@dataclass(frozen=True, slots=True)
class StoredFile:
    sha256: str
    size: int


class AttachmentStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path_of(self, sha256: str) -> Path:
        if _SHA256.fullmatch(sha256) is None:
            raise ValueError("not a SHA-256 hex digest")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def save(
        self,
        stream: Readable,
        *,
        max_bytes: int,
        inspect_head: Callable[[bytes], None] | None = None,
    ) -> StoredFile:
        """Store ``stream``; refuse it as soon as it passes ``max_bytes``.

        ``inspect_head`` sees the first :data:`HEAD_SIZE` bytes (fewer for a shorter file) before
        the file is kept; whatever it raises is passed on and the temporary file is deleted.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        descriptor, name = tempfile.mkstemp(dir=self.root, prefix=".upload-", suffix=".part")
        temporary = Path(name)
        try:
            digest, size = self._copy(stream, descriptor, max_bytes, inspect_head)
            target = self.path_of(digest)
            if target.exists():
                temporary.unlink()
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(temporary, target)
                _fsync_directory(target.parent)
                _fsync_directory(target.parent.parent)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        return StoredFile(sha256=digest, size=size)

    def open(self, sha256: str) -> BinaryIO:
        """The stored file for reading; FileNotFoundError when it is missing."""
        return self.path_of(sha256).open("rb")

    @staticmethod
    def _copy(
        stream: Readable,
        descriptor: int,
        max_bytes: int,
        inspect_head: Callable[[bytes], None] | None,
    ) -> tuple[str, int]:
        digest = hashlib.sha256()
        size = 0
        head = b""
        with os.fdopen(descriptor, "wb") as out:
            while chunk := stream.read(CHUNK_SIZE):
                size += len(chunk)
                if size > max_bytes:
                    raise SizeLimitExceeded(max_bytes)
                if inspect_head is not None and len(head) < HEAD_SIZE:
                    head += chunk[: HEAD_SIZE - len(head)]
                    if len(head) == HEAD_SIZE:
                        inspect_head(head)
                digest.update(chunk)
                out.write(chunk)
            if inspect_head is not None and len(head) < HEAD_SIZE:
                inspect_head(head)
            out.flush()
            os.fsync(out.fileno())
        return digest.hexdigest(), size


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable (the entry lives in the directory)."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
