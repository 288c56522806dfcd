"""Who may do what: the one table of role permissions (documented in docs/security.md).

Reading data is governed by scope (tools/scope.py), not by role; this table covers the
actions that change something or speak for the organisation. Approving a write also needs an
all-data scope (a regional leader cannot vouch for changes across regions).
"""

from __future__ import annotations

ROLES = ("admin", "leader", "manager", "analyst", "rep")
SCOPE_KINDS = ("all", "region", "segment", "team", "own")

PERMISSIONS: dict[str, tuple[str, ...]] = {
    "approve_write": ("admin", "leader"),  # apply a territory plan to account owners, publish quotas
    "add_note": ("admin", "leader", "manager", "analyst"),  # planning notes the agent will apply
    "forget_any_memory": ("admin",),  # authors may always forget their own
    "manage_users": ("admin",),  # spm users add|remove
}


def allowed(role: str, action: str) -> bool:
    return role in PERMISSIONS[action]


def roles_for(action: str) -> str:
    return " or ".join(PERMISSIONS[action])
