"""Errors every layer raises for problems a user can fix.

Each error names the problem and the fix (`hint`). Its `kind` tells the interfaces which exit
code and wording to use, so no layer below `interfaces/` knows about exit codes or terminals.
"""

from __future__ import annotations

import errno
import os
import re
from typing import ClassVar, Literal

ErrorKind = Literal["input", "not_found", "conflict", "locked", "schema", "permission", "storage", "internal"]


class SpmError(Exception):
    """Base for user-facing errors: a message saying what is wrong, a hint saying how to fix it."""

    kind: ClassVar[ErrorKind] = "internal"

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}" if self.hint else self.message


class InputError(SpmError):
    """An argument or a file is invalid (wrong value, unknown name, malformed content)."""

    kind = "input"


class NotFoundError(SpmError):
    """Something named does not exist (the warehouse file, a run, a scenario)."""

    kind = "not_found"


class ConflictError(SpmError):
    """The request would overwrite or contradict existing state (use --force or another name)."""

    kind = "conflict"


class WarehouseLockedError(SpmError):
    """Another process holds the warehouse file and did not release it within the wait."""

    kind = "locked"


class SchemaError(SpmError):
    """The warehouse schema is older or newer than this version of spm-agent."""

    kind = "schema"


class PermissionDeniedError(SpmError):
    """The caller's role or data scope does not allow the request."""

    kind = "permission"


class StorageError(SpmError):
    """The operating system refused to read or write a file: disk full, permission denied,
    read-only file system. Nothing spm writes is left half-written by it (writes are atomic)."""

    kind = "storage"

    def __init__(self, message: str, hint: str | None = None, *, path: str | None = None) -> None:
        super().__init__(message, hint)
        self.path = path
        self.placed = False  # the interfaces added which setting places `path` to the hint


# errno -> (what happened, how to fix it); `{path}` is the file or folder concerned.
_STORAGE_PROBLEMS: dict[int, tuple[str, str]] = {
    errno.ENOSPC: (
        "No space left on the disk holding {path}.",
        "Free space on that disk, or point spm at a location on another disk, and run the command again.",
    ),
    errno.EDQUOT: (
        "The disk quota of this account is used up (writing {path}).",
        "Free space within your quota, or point spm at a location on another disk, and run the command again.",
    ),
    errno.EACCES: (
        "Permission denied on {path}.",
        "Let the account that runs spm read and write it (`chmod u+rw FILE`, `chmod u+rwx FOLDER`, or chown), "
        "or point spm at a location that account owns.",
    ),
    errno.EROFS: (
        "{path} is on a read-only file system.",
        "Point spm at a writable location (or remount the disk read-write).",
    ),
}
_STORAGE_PROBLEMS[errno.EPERM] = _STORAGE_PROBLEMS[errno.EACCES]

# The same problems as libraries word them when they give no errno (DuckDB, SQLite, chromadb).
_STORAGE_TEXTS: tuple[tuple[str, int], ...] = (
    ("no space left on device", errno.ENOSPC),
    ("database or disk is full", errno.ENOSPC),
    ("disk quota exceeded", errno.EDQUOT),
    ("permission denied", errno.EACCES),
    ("operation not permitted", errno.EPERM),
    ("read-only file system", errno.EROFS),
    ("attempt to write a readonly database", errno.EACCES),
)
_STORAGE_LIBRARIES = frozenset({"duckdb", "_duckdb", "sqlite3", "chromadb"})  # (a model API's 403 is no disk)
_QUOTED_PATH = re.compile(r"[\"']([^\"']*/[^\"']*)[\"']")


def storage_error(exc: BaseException, path: str | os.PathLike[str] | None = None) -> StorageError | None:
    """`exc`, or what caused it, as a `StorageError` when the OS refused a file operation for a
    reason the user can fix; None for anything else. `path` names the file when the error
    does not (the caller knows what it was writing)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, StorageError):
            return current
        code, named = _storage_code(current)
        if code is not None:
            where = str(path) if path is not None else named
            message, hint = _STORAGE_PROBLEMS[code]
            return StorageError(message.format(path=where or "a file spm writes"), hint, path=where)
        current = current.__cause__ or current.__context__
    return None


def _storage_code(exc: BaseException) -> tuple[int | None, str | None]:
    """(errno, the path the error names) of a storage problem, or (None, None)."""
    if isinstance(exc, OSError) and exc.errno in _STORAGE_PROBLEMS:
        return exc.errno, str(exc.filename) if exc.filename is not None else None
    if isinstance(exc, OSError | SpmError) or type(exc).__module__.split(".")[0] not in _STORAGE_LIBRARIES:
        return None, None  # another errno (a missing file, ...), or not a storage library's error
    text = str(exc).lower()
    for words, code in _STORAGE_TEXTS:
        if words in text:
            quoted = _QUOTED_PATH.search(str(exc))
            return code, quoted[1] if quoted else None
    return None, None
