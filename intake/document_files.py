"""The digital copies of an online dossier's documents, stored by content hash on disk.

Only the reference (`sha256:<hex>`) travels in the dossier (Temporal's history holds no file):
a payload over 2 MB fails, and a history is for facts, not scans. A file is checked before it
is kept: its size, its type (declared and recognised by its first bytes, so a renamed
executable is not a "PDF"), and its hash against the one the sender names. Storing the same
content again is a no-op, so a retried upload never doubles anything.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ACCEPTED_TYPES", "DocumentFiles", "FileRejected", "StoredFile", "reference_of"]

# The types an applicant may upload, with the signature their content starts with.
ACCEPTED_TYPES: dict[str, tuple[bytes, ...]] = {
    "application/pdf": (b"%PDF-",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
}
_HEX = re.compile(r"^[0-9a-f]{64}$")
_REFERENCE = re.compile(r"^sha256:([0-9a-f]{64})$")


class FileRejected(ValueError):
    """A file that is not kept: `kind` is the error type a caller can act on."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class StoredFile:
    reference: str
    size: int
    content_type: str
    created: bool  # False: the same content was already there


def reference_of(sha256_hex: str) -> str:
    return f"sha256:{sha256_hex}"


class DocumentFiles:
    """Files under `directory`, named by their SHA-256 (two levels of fan-out)."""

    def __init__(self, directory: Path, max_bytes: int) -> None:
        self.directory = directory
        self.max_bytes = max_bytes

    def store(self, content: bytes, content_type: str, sha256_hex: str) -> StoredFile:
        """Keep `content` under its hash; raise FileRejected if it is not acceptable."""
        if not _HEX.match(sha256_hex):
            raise FileRejected(
                "InvalidReference", "the file's name must be its SHA-256 in 64 lowercase hex digits"
            )
        if len(content) > self.max_bytes:
            raise FileRejected("FileTooLarge", f"the file is over {self.max_bytes} bytes")
        if not content:
            raise FileRejected("EmptyFile", "the file is empty")
        declared = content_type.split(";")[0].strip().lower()
        signatures = ACCEPTED_TYPES.get(declared)
        if signatures is None:
            raise FileRejected(
                "UnsupportedFileType",
                f"files of type {declared[:60]!r} are not accepted (accepted: {', '.join(ACCEPTED_TYPES)})",
            )
        if not content.startswith(signatures):
            raise FileRejected("UnsupportedFileType", f"the file's content is not {declared}")
        actual = hashlib.sha256(content).hexdigest()
        if actual != sha256_hex:
            raise FileRejected(
                "HashMismatch", f"the file's SHA-256 is {actual}, not {sha256_hex}: it was altered on the way"
            )
        path = self._path(actual)
        if path.exists():
            return StoredFile(reference_of(actual), len(content), declared, created=False)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written whole under a temporary name, then renamed: a reader never sees half a file,
        # and two concurrent uploads of the same content both end with the same file.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(content)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return StoredFile(reference_of(actual), len(content), declared, created=True)

    def has(self, reference: str | None) -> bool:
        """Whether `reference` (`sha256:<hex>`) names a file kept here."""
        match = _REFERENCE.match(reference or "")
        return match is not None and self._path(match.group(1)).is_file()

    def read(self, reference: str) -> bytes:
        match = _REFERENCE.match(reference)
        if match is None:
            raise FileRejected("InvalidReference", "a reference is sha256:<64 lowercase hex digits>")
        return self._path(match.group(1)).read_bytes()

    def _path(self, sha256_hex: str) -> Path:
        return self.directory / sha256_hex[:2] / sha256_hex
