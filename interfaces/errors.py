"""Exit codes per failure kind, and turning errors into one clear message (never a traceback)."""

from __future__ import annotations

import os
import sqlite3
import sys
import traceback
from pathlib import Path
from typing import NoReturn

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2  # bad command-line usage (click's own code)
EXIT_CODES = {
    "input": 3,
    "not_found": 4,
    "conflict": 5,
    "locked": 6,
    "schema": 7,
    "permission": 8,
    "storage": 9,  # the disk refused: full, permission denied, read-only (warehouse/errors.py StorageError)
    "internal": EXIT_INTERNAL,
}
EXIT_PARTIAL = 10  # finished, but some items failed (rows rejected, prompts errored)


def user_facing(exc: BaseException) -> BaseException:
    """`exc` as the error a user can act on: an OS refusal to read or write a file (disk full,
    permission denied, read-only file system), however a library wrapped it, becomes a
    `StorageError` naming the file and the setting that places it; anything else is unchanged."""
    if getattr(exc, "kind", None) not in (None, "storage"):
        return exc
    if isinstance(exc, sqlite3.OperationalError) and "database is locked" in str(exc):
        return _threads_busy()  # SQLite: the only SQLite file spm writes is the threads file
    from warehouse.errors import storage_error

    problem = storage_error(exc)
    if problem is None or problem.placed:
        return exc if problem is None else problem
    problem.placed = True
    setting = _setting_for(problem.path)
    if setting is not None:
        problem.hint = f"{problem.hint} ({setting[0]} sets where spm keeps {setting[1]}.)"
    elif problem.path is None:
        problem.hint = f"{problem.hint} spm writes {_locations()}."
    return problem


_PLACES = (
    ("SPM_WAREHOUSE", "the warehouse", "warehouse"),
    ("SPM_THREADS_DB", "conversation threads", "threads_db"),
    ("SPM_MEMORY_DIR", "the memory store", "memory_dir"),
    ("SPM_CACHE_DIR", "the cache folder (planner, series fits)", "cache_dir"),
    ("SPM_DEMO_WAREHOUSE", "the demo warehouse", "demo_warehouse"),
)


def _threads_busy() -> BaseException:
    from interfaces.settings import get_settings
    from warehouse.errors import WarehouseLockedError

    settings = get_settings()
    return WarehouseLockedError(
        f"The conversation threads file {settings.threads_db} was busy (another process writing it) "
        f"for longer than {settings.lock_timeout:g} s.",
        "Try again; set SPM_LOCK_TIMEOUT to wait longer (SPM_THREADS_DB sets where the threads file is).",
    )


def _setting_for(path: str | None) -> tuple[str, str] | None:
    """(setting, what it holds) for a path that is, or lies in, one of spm's own locations."""
    if path is None:
        return None
    from interfaces.settings import get_settings

    settings = get_settings()
    target = Path(path).expanduser().resolve()
    for env, what, field in _PLACES:
        place = Path(getattr(settings, field)).expanduser().resolve()
        # The warehouse's own temporary files (`.NAME.PID.building`, `NAME.wal`) sit beside it.
        if target == place or place in target.parents or (target.parent == place.parent and place.name in target.name):
            return env, what
    return None


def _locations() -> str:
    from interfaces.settings import get_settings

    settings = get_settings()
    return ", ".join(f"{what} at {getattr(settings, field)} ({env})" for env, what, field in _PLACES[:4])


def explain(exc: BaseException) -> str:
    """One line for a person, for interfaces that keep going after an error (chat, Slack, batch).

    Known errors give their message and hint; anything else names its type only (a stack trace
    or internal detail is for `SPM_DEBUG=1` on the command line, not for a chat window).
    """
    from pydantic import ValidationError

    exc = user_facing(exc)
    if getattr(exc, "kind", None) is not None:
        hint = getattr(exc, "hint", None)
        return f"{getattr(exc, 'message', exc)}" + (f" (hint: {hint})" if hint else "")
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(map(str, p['loc'])) or 'value'}: {p['msg']}" for p in exc.errors())
    return f"internal error ({type(exc).__name__}); rerun with SPM_DEBUG=1 and report it"


def fail(exc: BaseException) -> NoReturn:
    """Print `exc` for a user and exit with the code of its kind."""
    from pydantic import ValidationError
    from rich.markup import escape

    from interfaces.output import err

    exc = user_facing(exc)
    kind = getattr(exc, "kind", None)
    if kind is not None:
        # Messages quote names people chose (scenarios, users, files): text, never markup.
        err().print(f"[bold red]error:[/] {escape(str(getattr(exc, 'message', exc)))}", markup=True, highlight=False)
        hint = getattr(exc, "hint", None)
        if hint:
            err().print(f"[dim]hint:[/] {escape(hint)}")
        sys.exit(EXIT_CODES.get(kind, EXIT_INTERNAL))
    if isinstance(exc, ValidationError):
        for problem in exc.errors():
            field = ".".join(str(p) for p in problem["loc"]) or "value"
            err().print(f"[bold red]error:[/] {escape(field)}: {escape(problem['msg'])}")
        sys.exit(EXIT_CODES["input"])
    if isinstance(exc, KeyboardInterrupt):
        err().print("interrupted")
        sys.exit(130)
    if os.environ.get("SPM_DEBUG"):
        traceback.print_exception(exc)
    else:
        err().print(f"[bold red]internal error:[/] {type(exc).__name__}: {escape(str(exc))}", markup=True)
        err().print("[dim]hint:[/] rerun with SPM_DEBUG=1 for the traceback and report it.", markup=True)
    sys.exit(EXIT_INTERNAL)
