"""Errors every layer raises for problems a user can fix.

Each error names the problem and the fix (`hint`). Its `kind` tells the interfaces which exit
code and wording to use, so no layer below `interfaces/` knows about exit codes or terminals.
"""

from __future__ import annotations

from typing import ClassVar, Literal

ErrorKind = Literal["input", "not_found", "conflict", "locked", "schema", "permission", "internal"]


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
