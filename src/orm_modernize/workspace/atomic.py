"""Writing files so that no reader, and no crash, ever sees half of one."""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path


def write_atomically(path: Path, data: bytes) -> None:
    """Replace (or create) `path` with `data`: a reader sees the old file or the new
    one, whole. A replaced file keeps its mode bits."""
    import tempfile  # 5 ms of imports that a run writing nothing does not need

    mode = path.stat().st_mode & 0o7777 if path.exists() else 0o644
    if not mode & 0o222:
        # Replacing it would succeed (the directory is what permits it), but a
        # file its owner made read-only is not ours to rewrite.
        raise PermissionError(errno.EACCES, "the file is read-only", str(path))
    # Only SIGKILL can leave it behind (the original then intact): its name says
    # whose it is, for a user to delete; the tool cannot prove it is not theirs.
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.orm-modernize.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:  # an interruption too: no temporary file is left behind
        with contextlib.suppress(FileNotFoundError):  # already renamed
            os.unlink(temporary)
        raise
