"""Which paths a git repository tracks, read from its index file (`.git/index`)
without running git: a checkout's own configuration can make git run programs
(`core.fsmonitor`), and the tool never runs anything of the project it checks.

The index format (versions 2 to 4) is git's `Documentation/gitformat-index.txt`:
a header, then one entry per tracked file, each ending in its path.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator

# ctime, mtime (8 bytes each), dev, ino, mode, uid, gid, size (4 each), the object
# id (20 bytes, SHA-1), and 2 bytes of flags
FIXED = 62
EXTENDED = 0x4000  # (version 3+) two more bytes of flags follow


def repository_top(directory: str) -> str | None:
    """The top of the work tree holding `directory` (where `.git` is), if any."""
    while True:
        if os.path.exists(os.path.join(directory, ".git")):
            return directory
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent


def tracks_under(directory: str) -> bool:
    """Whether the repository holding `directory` (absolute) tracks a file in
    it. No repository, or an index this cannot read: False."""
    top = repository_top(directory)
    if top is None:
        return False
    prefix = os.path.relpath(directory, top).replace(os.sep, "/").encode() + b"/"
    try:
        return any(path.startswith(prefix) for path in _paths(_index_file(top)))
    except (OSError, ValueError, struct.error):
        return False


def _index_file(top: str) -> str:
    dot_git = os.path.join(top, ".git")
    if os.path.isfile(dot_git):  # a worktree or submodule: "gitdir: <path>"
        with open(dot_git, encoding="utf-8") as pointer:
            line = pointer.readline().strip()
        if not line.startswith("gitdir:"):
            raise ValueError(f"{dot_git}: not a gitdir pointer")
        dot_git = os.path.join(top, line.removeprefix("gitdir:").strip())
    return os.path.join(dot_git, "index")


def _paths(index: str) -> Iterator[bytes]:
    with open(index, "rb") as file:
        data = file.read()
    signature, version, count = struct.unpack_from(">4sII", data, 0)
    if signature != b"DIRC" or version not in (2, 3, 4):
        raise ValueError(f"{index}: not a git index of version 2 to 4")
    at, previous = 12, b""
    for _ in range(count):
        start = at
        (flags,) = struct.unpack_from(">H", data, at + FIXED - 2)
        at += FIXED + (2 if version >= 3 and flags & EXTENDED else 0)
        if version == 4:  # the path shares a prefix with the previous one
            strip, at = _varint(data, at)
            end = data.index(b"\0", at)
            path = previous[: len(previous) - strip] + data[at:end]
            at = end + 1
        else:  # NUL-padded to a multiple of 8 bytes from the entry's start
            end = data.index(b"\0", at)
            path = data[at:end]
            at = start + ((end - start) // 8 + 1) * 8
        previous = path
        yield path


def _varint(data: bytes, at: int) -> tuple[int, int]:
    """git's offset varint (as in `varint.c`): the value and where it ends."""
    byte = data[at]
    value = byte & 0x7F
    at += 1
    while byte & 0x80:
        byte = data[at]
        value = ((value + 1) << 7) | (byte & 0x7F)
        at += 1
    return value, at
