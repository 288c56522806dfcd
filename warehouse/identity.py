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
# something or speak for the organisation. Approving a write also needs an all-data scope (a
# regional leader cannot vouch for changes across regions).
PERMISSIONS: dict[str, tuple[str, ...]] = {
    "approve_write": ("admin", "leader"),  # apply a territory plan to account owners, publish quotas
    "add_note": ("admin", "leader", "manager", "analyst"),  # planning notes the agent will apply
    "forget_any_memory": ("admin",),  # authors may always forget their own
    "manage_users": ("admin",),  # spm users add|remove
    "seal_audit": ("admin",),  # spm audit seal: vouch once for runs recorded before the ledger or the key
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

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}; use one of {', '.join(ROLES)}")

    @property
    def may_approve(self) -> bool:
        return allowed(self.role, "approve_write")

    def describe(self) -> str:
        return f"{self.user_id} ({self.role}, {self.scope.describe()})"


# Who runs a command when nobody is named: the person at their own laptop, with every right.
LOCAL_USER = User("local", "admin", Scope.everything(), "the local user")
