"""Data scope: which rows a caller may see, applied inside every tool's SQL.

The scope comes from the trusted context (CLI `--user`, the Slack user), never from model
arguments. `predicate()` returns a SQL condition for a table alias; tools AND it into every
query, so rows outside the scope are never read, aggregated or mentioned.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from warehouse.errors import InputError, PermissionDeniedError

ScopeKind = Literal["all", "region", "segment", "team", "own"]
Subject = Literal["bookings", "accounts", "opportunities", "reps", "targets", "quotas", "headcount"]

# Column holding the region / segment / rep for each subject (alias-qualified by the caller).
_REGION = {"bookings": "region", "accounts": "region", "reps": "region", "targets": "region", "headcount": "region"}
_SEGMENT = {
    "bookings": "segment",
    "accounts": "segment",
    "reps": "segment",
    "targets": "segment",
    "headcount": "segment",
}
_REP = {
    "bookings": "rep_id",
    "accounts": "owner_rep_id",
    "opportunities": "owner_rep_id",
    "reps": "rep_id",
    "quotas": "rep_id",
}


@dataclass(frozen=True)
class Scope:
    kind: ScopeKind = "all"
    value: str | None = None

    def __post_init__(self) -> None:
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

    def predicate(self, subject: Subject, alias: str, account_alias: str | None = None) -> tuple[str, list[Any]]:
        """SQL condition limiting `alias` (a row of `subject`) to this scope, with parameters.

        Opportunities take region and segment from their account: pass `account_alias` for
        the joined accounts row.
        """
        if self.kind == "all":
            return "TRUE", []
        if self.kind in ("region", "segment"):
            columns = _REGION if self.kind == "region" else _SEGMENT
            if subject == "opportunities":
                if account_alias is None:
                    raise ValueError("opportunities need the joined accounts alias for a region scope")
                return f"{account_alias}.{self.kind} = ?", [self.value]
            if subject == "quotas":
                return f"{alias}.rep_id IN (SELECT rep_id FROM reps WHERE {self.kind} = ?)", [self.value]
            return f"{alias}.{columns[subject]} = ?", [self.value]
        if subject in ("targets", "headcount"):
            return "FALSE", []  # company targets and requisitions are not split by team or rep
        column = f"{alias}.{_REP[subject]}"
        if self.kind == "own":
            return f"{column} = ?", [self.value]
        team = "SELECT rep_id FROM reps WHERE manager_id = ? OR rep_id = ?"
        return f"{column} IN ({team})", [self.value, self.value]

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
