"""Looking users up in the warehouse's `users` table, and deciding who a command acts as.

Who acts is decided here once, for every interface that has an OS account behind it (the CLI,
chat, batch): `acting_user` maps the OS login to a users row, and lets `--user` / SPM_USER
name another user only where the acting user may act as them (docs/security.md). Slack maps
its own user ids through `find_user`. Reading the OS account is the caller's job
(interfaces/identity.py), so this module stays free of process state and is tested directly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from warehouse.errors import InputError, NotFoundError, PermissionDeniedError
from warehouse.identity import LOCAL_USER, Scope, User, roles_for

if TYPE_CHECKING:
    from warehouse.connection import Warehouse

_COLUMNS = "user_id, name, role, scope_kind, scope_value, os_user, may_act_as"


def _user(row: tuple[Any, ...]) -> User:
    act_as = tuple(u.strip() for u in (row[6] or "").split(",") if u.strip())
    return User(row[0], row[2], Scope(row[3], row[4]), row[1], os_user=row[5], may_act_as=act_as)


def find_user(warehouse: Warehouse, user_id: str | None) -> User:
    """The user named by id, email or Slack id; the local admin when none is named."""
    if user_id is None:
        return LOCAL_USER
    with warehouse.reader() as cur:
        row = cur.execute(
            f"SELECT {_COLUMNS} FROM users WHERE user_id = ? OR email = ? OR slack_id = ?",
            [user_id, user_id, user_id],
        ).fetchone()
        known = [r[0] for r in cur.execute("SELECT user_id FROM users ORDER BY user_id LIMIT 12").fetchall()]
    if row is None:
        raise NotFoundError(
            f"No user {user_id!r} in the warehouse.",
            f"Known users: {', '.join(known)}."
            if known
            else f"An admin adds one: spm users add {user_id} --role ROLE --scope SCOPE.",
        )
    return _user(row)


def user_for_login(warehouse: Warehouse, login: str, *, owns_file: bool) -> User:
    """The user the OS account `login` is: the users row whose `os_user` is the login; else, on a
    warehouse with no users yet or one whose file the login owns (a laptop's owner), the local
    admin; else a refusal that names the login and the fix."""
    with warehouse.reader() as cur:
        rows = cur.execute(f"SELECT {_COLUMNS} FROM users WHERE os_user = ? ORDER BY user_id", [login]).fetchall()
        users = int(cur.scalar("SELECT count(*) FROM users"))
    if len(rows) > 1:  # `spm users add` refuses this; a hand-edited table can still hold it
        raise InputError(
            f"The OS login {login!r} is the os_user of {len(rows)} users ({', '.join(r[0] for r in rows)}).",
            f"An admin keeps one: spm users add USER --os-user {login} --replace on the others without --os-user.",
        )
    if rows:
        return _user(rows[0])
    if users == 0 or owns_file:
        return LOCAL_USER
    raise PermissionDeniedError(
        f"The OS login {login!r} is not a user of the warehouse {warehouse.path} (nor does it own the file).",
        f"An admin adds it: spm users add USER_ID --role ROLE --scope SCOPE --os-user {login}.",
    )


def act_as(warehouse: Warehouse, actor: User, requested: str | None) -> User:
    """`actor`, or the user `requested` names (--user, SPM_USER) where `actor` may act as them."""
    if requested is None:
        return actor
    if requested == actor.user_id:
        return actor
    target = find_user(warehouse, requested)
    if not actor.may_act_for(target):
        scope = actor.scope.key().replace(":", "=", 1)
        grant = ",".join([*actor.may_act_as, target.user_id])
        login = f" --os-user {actor.os_user}" if actor.os_user else ""
        raise PermissionDeniedError(
            f"{actor.user_id} ({actor.role}) may not act as {target.user_id}.",
            f"Run it as yourself (no --user, no SPM_USER); or an admin (roles: {roles_for('act_as_anyone')}) "
            f"lets you: spm users add {actor.user_id} --role {actor.role} --scope {scope}{login} "
            f"--may-act-as {grant} --replace.",
        )
    return target
