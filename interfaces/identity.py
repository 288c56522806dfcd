"""Who a command acts as: the OS account running it, mapped to a warehouse user.

Every command that has an OS account behind it (each `spm` command, chat, batch) asks
`acting_user` and nothing else. The OS login comes from the process's real user id
(`pwd.getpwuid(os.getuid())`), not from USER or LOGNAME, which any process can set; SPM_USER
and `--user` only name a user to act as, allowed where the acting user may act as them
(warehouse/users.py decides both). Slack maps Slack user ids instead (interfaces/slack_cli.py).
"""

from __future__ import annotations

import os
import pwd
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from warehouse.connection import Warehouse
    from warehouse.identity import User


@dataclass(frozen=True)
class OsAccount:
    login: str
    uid: int


def os_account() -> OsAccount:
    """The OS account running this process (tests replace this function)."""
    uid = os.getuid()
    try:
        login = pwd.getpwuid(uid).pw_name
    except KeyError:  # a container user without a passwd entry: its uid is its name
        login = str(uid)
    return OsAccount(login, uid)


def owns_file(account: OsAccount, warehouse: Warehouse) -> bool:
    """Does the account own the warehouse file (a laptop's owner is its local admin)?"""
    try:
        return warehouse.path.stat().st_uid == account.uid
    except OSError:
        return False


def acting_user(warehouse: Warehouse, requested: str | None = None) -> User:
    """The user this command acts as: the OS login's user, or the one `requested` (--user, else
    SPM_USER) names where the login's user may act as them; a PermissionDeniedError otherwise."""
    from interfaces.common import settings
    from warehouse.users import act_as, user_for_login

    account = os_account()
    actor = user_for_login(warehouse, account.login, owns_file=owns_file(account, warehouse))
    return act_as(warehouse, actor, requested or settings().user)
