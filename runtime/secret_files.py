"""Secrets generated once under the data directory, for the embedded dev server only."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

__all__ = ["InsecureSecretFile", "read_or_create"]


class InsecureSecretFile(ValueError):
    """A secret file that others than its owner may read or write: refused, not used."""


def read_or_create(path: Path, make: Callable[[], str]) -> str:
    """The text of `path` (mode 0600), written with `make()` on first use.

    Written in full under a private name, then linked into place: a process starting at the
    same moment either wins the link or reads the winner's complete file. A file the group or
    the world may read or write is refused (InsecureSecretFile): its key may have leaked.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as out:
                os.fchmod(out.fileno(), 0o600)
                out.write(make())
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink(missing_ok=True)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise InsecureSecretFile(
            f"{path} has mode {mode:04o}: group or others may read it; `chmod 600 {path}`"
            " (and replace the key if others could read it)"
        )
    return path.read_text()
