"""One gate for every write the CLI makes outside the agent: a role check and an audit run.

Imports, `spm data init --force`, calendar changes, schema upgrades, users, memory notes and
saved draft scenarios all go through `RecordedWrite`: the acting user's role must be allowed
the action in the one permission table (warehouse.identity.PERMISSIONS), and each attempt is an
audit run like an agent's (interface `cli`, the command as typed, who, the code version). The
run's `write` step holds what changed (counts, files) and the data fingerprints before and
after; a refusal is a run with status `refused`, a failure one with status `error`.

Order matters for honesty: the run starts before the write (a crash leaves it `incomplete`,
never missing), and once the write has committed the command reports success even if
recording its outcome fails (it says so; the run stays incomplete), so a command never
reports failure after committing nor success after failing.
"""

from __future__ import annotations

import shlex
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import typer

if TYPE_CHECKING:
    from tools.contract import ToolResult
    from warehouse.audit import AuditLog
    from warehouse.connection import Warehouse
    from warehouse.errors import SpmError
    from warehouse.identity import User

R = TypeVar("R", bound="ToolResult")

# Tables whose fingerprint shows a whole warehouse's content (imports and replacements).
DATA_TABLES = (
    "regions",
    "segments",
    "products",
    "stages",
    "geos",
    "territories",
    "territory_geos",
    "reps",
    "accounts",
    "opportunities",
    "opportunity_history",
    "bookings",
    "quotas",
    "targets",
    "comp_plans",
    "headcount_plan",
    "scenarios",
    "scenario_changes",
    "users",
    "imports",
    "forecast_calls",
    "meta",
)


def command_text(ctx: typer.Context) -> str:
    """The command as typed, normalised: `spm data import quotas.csv --strict` (arguments, then
    the options given with a value other than their default; global options such as -w are left
    out: the run lives in that warehouse)."""
    parts = ["spm", *ctx.command_path.split()[1:]]
    options: list[str] = []
    for param in ctx.command.params:
        value = ctx.params.get(param.name or "")
        if param.param_type_name == "argument":
            parts += [_text(v) for v in (value if isinstance(value, list | tuple) else [value]) if v is not None]
            continue
        if param.param_type_name != "option" or value is None or value in ((), []):
            continue
        if _text(value) == _text(param.default):
            continue
        flag = max((o for o in param.opts if o.startswith("--")), key=len, default=param.opts[0])
        if getattr(param, "is_flag", False):
            options += [flag] if value else []
        elif param.multiple:
            for item in value:
                options += [flag, _text(item)]
        else:
            options += [flag, _text(value)]
    return shlex.join(parts + options)


def _text(value: Any) -> str:
    return str(value.value if isinstance(value, Enum) else value)


@dataclass
class RecordedWrite:
    """One write's gate and audit run. Use `writing()` around the write, or, for a write recorded
    in another file than it was checked in (a replaced warehouse), `require()` then `done()`."""

    warehouse: Warehouse  # where the run is recorded
    user: User
    action: str  # a PERMISSIONS action
    what: str  # the write step's name, e.g. import_data
    question: str  # the command as typed
    tables: Iterable[str] = ()  # fingerprinted before and after
    doing: str | None = None  # the action in words ("change the calendar"), for refusals
    args: dict[str, Any] = field(default_factory=dict)  # what changed: counts, files, ids
    answer: str | None = None  # the one-line result
    run_id: str = field(default_factory=lambda: "run-" + uuid.uuid4().hex[:12])
    _log: AuditLog | None = None

    def _start(self) -> AuditLog:
        if self._log is None:
            from agent.version import code_version
            from interfaces.common import settings
            from interfaces.settings import audit_key
            from warehouse.audit import AuditLog

            self._log = AuditLog.start(
                self.warehouse.with_writes(),
                run_id=self.run_id,
                thread_id=None,
                user_id=self.user.user_id,
                interface="cli",
                question=self.question,
                model="-",
                code_version=code_version(),
                key=audit_key(settings()),
            )
        return self._log

    def fingerprint(self) -> str | None:
        from warehouse.fingerprint import fingerprint

        tables = tuple(self.tables)
        if not tables:
            return None
        with self.warehouse.reader() as cur:
            return fingerprint(cur, tables)

    def require(self) -> None:
        """Refuse (recorded) unless the user's role may do the action."""
        from warehouse.errors import PermissionDeniedError
        from warehouse.identity import allowed, roles_for

        if not allowed(self.user.role, self.action):
            self.refuse(
                PermissionDeniedError(
                    f"{self.user.user_id} ({self.user.role}) may not {self.doing or self.action.replace('_', ' ')}: "
                    f"`{self.question}` was refused and recorded.",
                    f"Needs role {roles_for(self.action)}; ask one to run it (spm audit list shows the refusal).",
                )
            )

    def refuse(self, exc: SpmError) -> NoReturn:
        """Record the attempt as a refused run, then raise `exc` (the reason)."""
        self._close("write", "refused", exc.message, {"action": self.action, "refused": exc.message})
        raise exc

    def _close(self, kind: str, status: str, answer: str, args: dict[str, Any]) -> None:
        """Record a run that changed nothing; the caller raises its error whatever happens here."""
        try:
            log = self._start()
            log.append(kind, self.what, args=args, summary=answer)
            log.finish(status, answer=answer)
        except Exception as exc:  # the write's own error is the one to report
            _warn(f"could not record run {self.run_id} ({type(exc).__name__}: {exc})")

    def done(self, before: str | None, after: str | None = None) -> None:
        """Record a committed write; a recording failure is a warning, never the command's failure."""
        try:
            log = self._start()
            after = after if after is not None else self.fingerprint()
            log.append(
                "write",
                self.what,
                args={**self.args, "action": self.action, "before": before, "after": after},
                summary=self.answer,
                data_fingerprint=after,
            )
            log.finish("ok", answer=self.answer)
        except Exception as exc:  # the write committed: report it as done
            _warn(
                f"the change was made, but recording it failed ({type(exc).__name__}: {exc}); "
                f"audit run {self.run_id} shows as incomplete"
            )

    @contextmanager
    def writing(self) -> Iterator[RecordedWrite]:
        """Gate, start the run, run the body (the write), record its outcome."""
        from warehouse.errors import PermissionDeniedError

        self.require()
        self._start()
        before = self.fingerprint()
        try:
            yield self
        except PermissionDeniedError as exc:  # a rule the write checks itself (an author, a scope)
            self.refuse(exc)
        except BaseException as exc:
            self.failed(exc)
            raise
        self.done(before)

    def failed(self, exc: BaseException) -> None:
        """Record a write that failed before committing (so nothing changed); the caller raises `exc`."""
        from warehouse.errors import SpmError

        message = exc.message if isinstance(exc, SpmError) else f"{type(exc).__name__}: {exc}"
        self._close("error", "error", f"Nothing changed: {message}", {"action": self.action})


def _warn(message: str) -> None:
    from rich.markup import escape

    from interfaces.output import err

    err().print(f"[bold yellow]warning:[/] {escape(message)}")


def run_as_user(ctx: typer.Context, wh: Warehouse, run: Callable[[User], R], *, saves: str | None = None) -> R:
    """Run a tool command as the acting user, whose data scope the tool applies (as the agent's
    tool calls do); one that saves a draft scenario (`saves`, its name) is a recorded write."""
    from interfaces.identity import acting_user

    with wh.held():  # one open for the identity, the tool's reads and the audit run
        user = acting_user(wh)
        if not saves:
            return run(user)
        write = RecordedWrite(
            wh,
            user,
            "save_scenario",
            "save_scenario",
            command_text(ctx),
            tables=("scenarios", "scenario_changes"),
            doing="save draft scenarios",
        )
        with write.writing():
            result = run(user)
            saved = result.metrics.get("saved_scenario") or {}
            write.args = {"tool": result.tool, "scenario": saved, "result_fingerprint": result.data_fingerprint}
            write.answer = (
                f"Saved draft scenario {saved.get('name', saves)} ({saved.get('changes', 0)} changes) "
                f"from {result.tool}, by {user.user_id}."
            )
        return result
