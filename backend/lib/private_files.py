"""Files only their owner may read (the generated master key, the demo tenant's API key).

Writing then chmod-ing leaves a moment in which the file exists with the umask's mode
(usually world-readable), and a crash can leave it half-written. Here the content goes to a
temporary file created 0600 in the same directory, is fsynced, and only then appears under
its name, in one step.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

_PRIVATE = 0o600


def _write_temporary(path: Path, text: str) -> Path:
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, _PRIVATE)
    try:
        os.write(fd, text.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    return temporary


def _sync_directory(directory: Path) -> None:
    """Make the new name itself durable (the rename or link lives in the directory)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def create_private_file(path: Path, text: str) -> bool:
    """Create `path` with `text`, mode 0600, unless it exists; True when this call created it.
    Linking the finished temporary file refuses to replace a file another process made first."""
    if path.exists():
        return False
    temporary = _write_temporary(path, text)
    try:
        os.link(temporary, path)
    except FileExistsError:
        return False
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
    _sync_directory(path.parent)
    return True


def replace_private_file(path: Path, text: str) -> None:
    """Write `path` with `text`, mode 0600, replacing any previous content in one step."""
    temporary = _write_temporary(path, text)
    try:
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _sync_directory(path.parent)
