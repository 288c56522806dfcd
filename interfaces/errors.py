"""Exit codes per failure kind, and turning errors into one clear message (never a traceback)."""

from __future__ import annotations

import os
import sys
import traceback
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
    "internal": EXIT_INTERNAL,
}
EXIT_PARTIAL = 10  # finished, but some items failed (rows rejected, prompts errored)


def explain(exc: BaseException) -> str:
    """One line for a person, for interfaces that keep going after an error (chat, Slack, batch).

    Known errors give their message and hint; anything else names its type only (a stack trace
    or internal detail is for `SPM_DEBUG=1` on the command line, not for a chat window).
    """
    from pydantic import ValidationError

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

    kind = getattr(exc, "kind", None)
    if kind is not None:
        err().print(f"[bold red]error:[/] {getattr(exc, 'message', exc)}", markup=True, highlight=False)
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
        err().print(f"[bold red]internal error:[/] {type(exc).__name__}: {exc}", markup=True)
        err().print("[dim]hint:[/] rerun with SPM_DEBUG=1 for the traceback and report it.", markup=True)
    sys.exit(EXIT_INTERNAL)
