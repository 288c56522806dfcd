"""Looking a user up in the warehouse's `users` table: their role and data scope."""

from __future__ import annotations

from typing import TYPE_CHECKING

from warehouse.errors import NotFoundError
from warehouse.identity import LOCAL_USER, Scope, User

if TYPE_CHECKING:
    from warehouse.connection import Warehouse


def find_user(warehouse: Warehouse, user_id: str | None) -> User:
    """The user named by id, email or Slack id; the local admin when none is named."""
    if user_id is None:
        return LOCAL_USER
    with warehouse.reader() as cur:
        row = cur.execute(
            "SELECT user_id, name, role, scope_kind, scope_value FROM users WHERE user_id = ? OR email = ? OR slack_id = ?",
            [user_id, user_id, user_id],
        ).fetchone()
        known = [r[0] for r in cur.execute("SELECT user_id FROM users ORDER BY user_id LIMIT 12").fetchall()]
    if row is None:
        raise NotFoundError(
            f"No user {user_id!r} in the warehouse.",
            f"Known users: {', '.join(known)}." if known else "Add users with spm users add (admins only).",
        )
    return User(row[0], row[2], Scope(row[3], row[4]), row[1])
