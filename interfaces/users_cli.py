"""`spm users add|list|remove`: who may use the agent, with which role and data scope."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from interfaces.common import handles_errors, open_warehouse

if TYPE_CHECKING:
    from interfaces.recorded_write import RecordedWrite
    from warehouse.connection import Warehouse

app = typer.Typer(
    help="Users of the agent: role (what they may do) and scope (what data they see).", no_args_is_help=True
)


def _gate(ctx: typer.Context, wh: Warehouse, what: str) -> RecordedWrite:
    """The recorded write of a users change: only roles that may manage users (an audit run either way)."""
    from interfaces.identity import acting_user
    from interfaces.recorded_write import RecordedWrite, command_text

    return RecordedWrite(
        wh, acting_user(wh), "manage_users", what, command_text(ctx), tables=("users",), doing="manage users"
    )


def _scope(cur, text: str) -> tuple[str, str | None]:
    """'all', 'region=EMEA', 'segment=SMB', 'team=R-00012' (a manager's rep id) or 'own=R-00042'."""
    from warehouse.errors import InputError
    from warehouse.identity import SCOPE_KINDS

    kind, _, value = text.partition("=")
    kind = kind.strip().lower()
    if kind not in SCOPE_KINDS or (kind == "all") != (not value):
        raise InputError(
            f"Scope {text!r} is not one of all, region=NAME, segment=NAME, team=MANAGER_REP_ID, own=REP_ID."
        )
    if kind == "all":
        return "all", None
    table, column = {
        "region": ("regions", "name"),
        "segment": ("segments", "name"),
        "team": ("reps", "rep_id"),
        "own": ("reps", "rep_id"),
    }[kind]
    known = [r[0] for r in cur.execute(f"SELECT {column} FROM {table} ORDER BY 1").fetchall()]
    match = next((k for k in known if str(k).lower() == value.strip().lower()), None)
    if match is None:
        hint = ", ".join(map(str, known[:10]))
        raise InputError(
            f"No {kind} {value!r} in the warehouse.", f"Known: {hint}{', ...' if len(known) > 10 else ''}."
        )
    return kind, str(match)


@app.command("add")
@handles_errors
def add(
    ctx: typer.Context,
    user_id: str = typer.Argument(..., help="Short id, e.g. emea-lead."),
    role: str = typer.Option(..., "--role", help="admin, leader, manager, analyst or rep."),
    scope: str | None = typer.Option(
        None,
        "--scope",
        help="all, region=EMEA, segment=SMB, team=REP_ID, own=REP_ID (default all; with --replace: unchanged).",
        show_default=False,
    ),
    name: str | None = typer.Option(None, "--name", show_default=False, help="Display name."),
    email: str | None = typer.Option(None, "--email", show_default=False, help="Email (also accepted as --user)."),
    slack_id: str | None = typer.Option(
        None, "--slack-id", show_default=False, help="Slack member id, e.g. U0123ABCD."
    ),
    os_user: str | None = typer.Option(
        None, "--os-user", show_default=False, help="The OS login that is this user (the CLI acts as it)."
    ),
    may_act_as: str | None = typer.Option(
        None,
        "--may-act-as",
        show_default=False,
        help="Users this one may act as with --user / SPM_USER, comma-separated ids ('' for none).",
    ),
    replace: bool = typer.Option(
        False, "--replace", help="Update the user if the id exists (options not given keep their values)."
    ),
) -> None:
    """Add a user (or update one with --replace). Admins only; an audit run."""
    from datetime import datetime

    from interfaces.output import err
    from warehouse.errors import ConflictError, InputError
    from warehouse.identity import ROLES
    from warehouse.names import USER_ID_EXAMPLE, user_id_problem

    wh = open_warehouse(ctx, writable=True)
    with wh.held(), _gate(ctx, wh, "add_user").writing() as write:
        if role not in ROLES:
            raise InputError(f"Unknown role {role!r}.", f"Roles: {', '.join(ROLES)}.")
        problem = user_id_problem(user_id)
        if problem:
            raise InputError(
                problem[0].upper() + problem[1:] + ".", f"Example: spm users add {USER_ID_EXAMPLE} --role leader"
            )
        with wh.writer() as cur:
            cols = ["name", "email", "slack_id", "scope_kind", "scope_value", "os_user", "may_act_as"]
            row = cur.execute(f"SELECT {', '.join(cols)} FROM users WHERE user_id = ?", [user_id]).fetchone()
            if row and not replace:
                raise ConflictError(f"User {user_id} exists.", "Use --replace to update it.")
            old = dict(zip(cols, row, strict=True)) if row else {}
            kind, value = (
                _scope(cur, scope) if scope is not None else (old.get("scope_kind", "all"), old.get("scope_value"))
            )
            login = old.get("os_user") if os_user is None else (os_user.strip() or None)
            if login:
                taken = cur.execute(
                    "SELECT user_id FROM users WHERE os_user = ? AND user_id <> ?", [login, user_id]
                ).fetchone()
                if taken:
                    raise ConflictError(
                        f"The OS login {login!r} is already user {taken[0]}.",
                        f"One login is one user: spm users add {taken[0]} ... --os-user '' --replace first.",
                    )
            acts = old.get("may_act_as") if may_act_as is None else _user_ids(cur, may_act_as)
            given = {"name": name, "email": email, "slack_id": slack_id}
            kept = [old.get(k) if v is None else v for k, v in given.items()]
            cur.execute("DELETE FROM users WHERE user_id = ?", [user_id])
            cur.execute(
                "INSERT INTO users (user_id, name, email, slack_id, role, scope_kind, scope_value, created_at, "
                "os_user, may_act_as) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [user_id, *kept, role, kind, value, datetime.now(), login, acts],
            )
        shown = f"{role}, scope {kind}{'=' + value if value else ''}"
        shown += (f", OS login {login}" if login else "") + (f", may act as {acts}" if acts else "")
        write.args = {"user_id": user_id, "replaced": bool(row), "role": role, "scope": [kind, value]}
        write.args |= {"os_user": login, "may_act_as": acts}
        write.answer = f"{'Updated' if row else 'Added'} {user_id}: {shown}."
    err().print(write.answer, markup=False, highlight=False)


def _user_ids(cur: Any, text: str) -> str | None:
    """'rep, cro' -> 'rep,cro', each a known user id ('' -> None)."""
    from warehouse.errors import InputError

    ids = [u.strip() for u in text.split(",") if u.strip()]
    known = {r[0] for r in cur.execute("SELECT user_id FROM users").fetchall()}
    unknown = [u for u in ids if u not in known]
    if unknown:
        raise InputError(f"No user {', '.join(unknown)} to act as.", f"Known users: {', '.join(sorted(known))}.")
    return ",".join(ids) or None


@app.command("list")
@handles_errors
def list_(ctx: typer.Context, json_: bool = typer.Option(False, "--json", help="Print as JSON on stdout.")) -> None:
    """Every user with role and scope."""
    from interfaces.output import print_json
    from interfaces.render import table

    with open_warehouse(ctx).reader() as cur:
        cols = ["user_id", "name", "email", "slack_id", "role", "scope_kind", "scope_value", "os_user", "may_act_as"]
        rows = [
            dict(zip(cols, r, strict=True))
            for r in cur.execute(f"SELECT {', '.join(cols)} FROM users ORDER BY user_id").fetchall()
        ]
    if json_:
        print_json(rows)
    else:
        table("Users", rows, cols, limit=1000)


@app.command("remove")
@handles_errors
def remove(ctx: typer.Context, user_id: str = typer.Argument(..., help="The user to remove.")) -> None:
    """Remove a user: they can no longer ask, approve or be recognised in Slack. Admins only; an audit run."""
    from interfaces.output import err
    from warehouse.errors import NotFoundError

    wh = open_warehouse(ctx, writable=True)
    with wh.held(), _gate(ctx, wh, "remove_user").writing() as write:
        with wh.writer() as cur:
            if not cur.execute("SELECT 1 FROM users WHERE user_id = ?", [user_id]).fetchone():
                raise NotFoundError(f"No user {user_id!r}.", "List them with spm users list.")
            cur.execute("DELETE FROM users WHERE user_id = ?", [user_id])
        write.args = {"user_id": user_id}
        write.answer = f"Removed {user_id}."
    err().print(write.answer, markup=False, highlight=False)
