"""`spm users add|list|remove`: who may use the agent, with which role and data scope."""

from __future__ import annotations

import typer

from interfaces.common import handles_errors, open_warehouse, settings

app = typer.Typer(
    help="Users of the agent: role (what they may do) and scope (what data they see).", no_args_is_help=True
)


def _require_admin(ctx: typer.Context) -> None:
    """Only an admin manages users; the machine's local user (no SPM_USER) counts as admin."""
    from warehouse.errors import PermissionDeniedError
    from warehouse.identity import allowed, roles_for
    from warehouse.users import find_user

    acting = find_user(open_warehouse(ctx), settings().user)
    if not allowed(acting.role, "manage_users"):
        raise PermissionDeniedError(
            f"{acting.user_id} ({acting.role}) may not manage users.", f"Needs {roles_for('manage_users')}."
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
    scope: str = typer.Option("all", "--scope", help="all, region=EMEA, segment=SMB, team=REP_ID, own=REP_ID."),
    name: str | None = typer.Option(None, "--name", show_default=False, help="Display name."),
    email: str | None = typer.Option(None, "--email", show_default=False, help="Email (also accepted as --user)."),
    slack_id: str | None = typer.Option(
        None, "--slack-id", show_default=False, help="Slack member id, e.g. U0123ABCD."
    ),
    replace: bool = typer.Option(False, "--replace", help="Update the user if the id exists."),
) -> None:
    """Add a user (or update one with --replace)."""
    from datetime import datetime

    from interfaces.output import err
    from warehouse.errors import ConflictError, InputError
    from warehouse.identity import ROLES
    from warehouse.names import USER_ID_EXAMPLE, user_id_problem

    _require_admin(ctx)
    if role not in ROLES:
        raise InputError(f"Unknown role {role!r}.", f"Roles: {', '.join(ROLES)}.")
    problem = user_id_problem(user_id)
    if problem:
        raise InputError(
            problem[0].upper() + problem[1:] + ".", f"Example: spm users add {USER_ID_EXAMPLE} --role leader"
        )
    with open_warehouse(ctx, writable=True).writer() as cur:
        kind, value = _scope(cur, scope)
        exists = cur.execute("SELECT 1 FROM users WHERE user_id = ?", [user_id]).fetchone()
        if exists and not replace:
            raise ConflictError(f"User {user_id} exists.", "Use --replace to update it.")
        cur.execute("DELETE FROM users WHERE user_id = ?", [user_id])
        cur.execute(
            "INSERT INTO users (user_id, name, email, slack_id, role, scope_kind, scope_value, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [user_id, name, email, slack_id, role, kind, value, datetime.now()],
        )
    err().print(
        f"{'Updated' if exists else 'Added'} {user_id}: {role}, scope {kind}{'=' + value if value else ''}.",
        markup=False,  # the scope value is a region or segment name from the data
    )


@app.command("list")
@handles_errors
def list_(ctx: typer.Context, json_: bool = typer.Option(False, "--json", help="Print as JSON on stdout.")) -> None:
    """Every user with role and scope."""
    from interfaces.output import print_json
    from interfaces.render import table

    with open_warehouse(ctx).reader() as cur:
        cols = ["user_id", "name", "email", "slack_id", "role", "scope_kind", "scope_value"]
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
    """Remove a user: they can no longer ask, approve or be recognised in Slack."""
    from interfaces.output import err
    from warehouse.errors import NotFoundError

    _require_admin(ctx)
    with open_warehouse(ctx, writable=True).writer() as cur:
        if not cur.execute("SELECT 1 FROM users WHERE user_id = ?", [user_id]).fetchone():
            raise NotFoundError(f"No user {user_id!r}.", "List them with spm users list.")
        cur.execute("DELETE FROM users WHERE user_id = ?", [user_id])
    err().print(f"Removed {user_id}.", markup=False)  # an id stored before ids had a rule may hold brackets
