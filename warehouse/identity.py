"""Who is asking: a user, their role, their data scope, and what each role may do.

A leaf module (it imports only the errors module): the tools, the agent, memory and the
interfaces all read identities from here, so none of them has to import another to know who a
caller is. The scope comes from the trusted context (the OS user mapped to a warehouse user,
the Slack user id), never from model arguments; how a scope limits SQL lives with the tools
(`tools.core.selection`), what a role may change lives in `PERMISSIONS` below (documented in
docs/security.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from warehouse.errors import InputError, PermissionDeniedError

ScopeKind = Literal["all", "region", "segment", "team", "own"]
ROLES: tuple[str, ...] = ("admin", "leader", "manager", "analyst", "rep")
SCOPE_KINDS: tuple[str, ...] = ("all", "region", "segment", "team", "own")

# Reading data is governed by scope, not by role; this table covers the actions that change
# something or speak for the organisation, whatever the entry point (the agent's approval gate,
# every CLI write: interfaces/recorded_write.py). Approving a write and changing the calendar
# also need an all-data scope (a regional leader cannot vouch for changes across regions).
PERMISSIONS: dict[str, tuple[str, ...]] = {
    "approve_write": ("admin", "leader"),  # apply a territory plan to account owners, publish quotas
    "change_calendar": ("admin", "leader"),  # spm data calendar --fiscal-start: the command is its approval
    "import_data": ("admin",),  # spm data import: replaces base data (quotas, owners) with no per-change approval
    "init_warehouse": ("admin",),  # spm data init --force over an empty warehouse, spm demo's rebuild of its own
    "destroy_warehouse": ("admin",),  # spm data init --force over a warehouse with data (with --yes; kept as backup)
    "submit_forecast_call": ("admin", "leader", "manager", "rep"),  # one's number for a period (scope-checked)
    "save_scenario": ROLES,  # a draft changes no base data; applying it needs approve_write
    "upgrade_schema": ROLES,  # spm data migrate: any writable open applies the same migrations (data kept)
    "add_note": ("admin", "leader", "manager", "analyst"),  # planning notes the agent will apply
    "forget_memory": ROLES,  # one's own notes; someone else's needs forget_any_memory
    "forget_any_memory": ("admin",),
    "manage_users": ("admin",),  # spm users add|remove
    "seal_audit": ("admin",),  # spm audit seal: vouch once for runs recorded before the ledger or the key
    "act_as_anyone": ("admin",),  # --user / SPM_USER naming any user (others: only those in their may_act_as)
    "read_all_audit": ("admin",),  # spm audit list|show|verify|replay of other users' runs
}


def allowed(role: str, action: str) -> bool:
    return role in PERMISSIONS[action]


def roles_for(action: str) -> str:
    return " or ".join(PERMISSIONS[action])


@dataclass(frozen=True)
class Scope:
    """The rows a caller may see: everything, a region, a segment, a manager's team, or a rep's own."""

    kind: ScopeKind = "all"
    value: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in SCOPE_KINDS:
            raise InputError(f"Unknown scope kind {self.kind!r}.", f"Use one of: {', '.join(SCOPE_KINDS)}.")
        if self.kind != "all" and not self.value:
            raise InputError(f"A {self.kind} scope needs a value (which {self.kind}).")

    @classmethod
    def everything(cls) -> Scope:
        return cls("all")

    def describe(self) -> str:
        return {
            "all": "all data",
            "region": f"region {self.value}",
            "segment": f"segment {self.value}",
            "team": f"the team of manager {self.value}",
            "own": f"the accounts of rep {self.value}",
        }[self.kind]

    def key(self) -> str:
        """'all', 'region:EMEA', ...: a stable text form (memory entries and caches carry it)."""
        return "all" if self.kind == "all" else f"{self.kind}:{self.value}"

    def check_filters(self, filters: dict[str, list[str]]) -> None:
        """Refuse a request for data outside the scope, naming the scope."""
        if self.kind in ("region", "segment"):
            asked = [v for v in filters.get(self.kind, []) if v.lower() != (self.value or "").lower()]
            if asked:
                raise PermissionDeniedError(
                    f"Your data scope is {self.describe()}; {', '.join(asked)} is outside it.",
                    f"Ask about {self.value}, or ask an admin to widen your scope.",
                )
        if self.kind == "own" and any(v != self.value for v in filters.get("rep", [])):
            raise PermissionDeniedError(f"Your data scope is {self.describe()}; other reps' numbers are outside it.")


@dataclass(frozen=True)
class User:
    user_id: str
    role: str
    scope: Scope
    name: str | None = None
    os_user: str | None = None  # the OS login that is this user (the CLI acts as its login's user)
    may_act_as: tuple[str, ...] = ()  # user ids this user may act as with --user / SPM_USER

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}; use one of {', '.join(ROLES)}")

    @property
    def may_approve(self) -> bool:
        return allowed(self.role, "approve_write")

    def describe(self) -> str:
        return f"{self.user_id} ({self.role}, {self.scope.describe()})"

    def may_act_for(self, other: User) -> bool:
        """May this user act as `other` (--user, SPM_USER)? Themselves, anyone for an admin, else
        only the users an admin listed in their `may_act_as`."""
        return other.user_id == self.user_id or allowed(self.role, "act_as_anyone") or other.user_id in self.may_act_as


# The person at their own laptop, with every right: who the CLI acts as when the OS login owns
# the warehouse file (or the warehouse has no users yet) and no users row names that login.
LOCAL_USER = User("local", "admin", Scope.everything(), "the local user")
