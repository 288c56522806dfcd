"""Which rows a request covers: the caller's scope and the request's filters, as one WHERE builder.

A scope is the filter the caller cannot lift: region EMEA is `region=EMEA`, a manager's team is
`manager=M`, a rep's own accounts `rep=R`. Scope and filters therefore go through the same SQL,
so a scoped result equals an admin's result filtered to that scope by construction (the
contract tests hold every tool and KPI to it).

Each subject (a table and its alias) says which column every dimension lives in; a dimension a
subject does not have selects nothing (a product filter on headcount matches no AE). Filter
values are checked against the warehouse's own names, case-insensitively; an unknown value is
an error listing the valid ones and the closest match, so a typo never returns an empty result.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from warehouse.errors import InputError
from warehouse.identity import Scope

Subject = Literal["bookings", "opportunities", "accounts", "reps", "quotas", "targets", "headcount"]
DIMENSIONS = ("region", "segment", "product", "rep", "manager", "territory")

# Dimension -> SQL listing its members (the names users type).
MEMBERS: dict[str, str] = {
    "region": "SELECT name FROM regions ORDER BY sort_order, name",
    "segment": "SELECT name FROM segments ORDER BY sort_order, name",
    "product": "SELECT name FROM products ORDER BY sort_order, name",
    "rep": "SELECT rep_id, name FROM reps ORDER BY rep_id",
    "manager": "SELECT rep_id, name FROM reps WHERE rep_id IN (SELECT manager_id FROM reps) ORDER BY rep_id",
    "territory": "SELECT territory_id, NULL FROM territories ORDER BY territory_id",
}
_TEAM = "(SELECT rep_id FROM reps WHERE manager_id IN ({marks}) OR rep_id IN ({marks}))"
_REPS_WHERE = "(SELECT rep_id FROM reps WHERE {column} IN ({marks}))"

# subject -> dimension -> column ("{a}" is the subject's alias, "{acc}" the joined account's).
# A `team:` column means "owned by a rep of the manager's team".
COLUMNS: dict[str, dict[str, str]] = {
    "bookings": {
        "region": "{a}.region",
        "segment": "{a}.segment",
        "product": "{a}.product",
        "rep": "{a}.rep_id",
        "manager": "team:{a}.rep_id",
    },
    "opportunities": {
        "region": "{acc}.region",
        "segment": "{acc}.segment",
        "product": "{a}.product",
        "rep": "{a}.owner_rep_id",
        "manager": "team:{a}.owner_rep_id",
    },
    "accounts": {
        "region": "{a}.region",
        "segment": "{a}.segment",
        "rep": "{a}.owner_rep_id",
        "manager": "team:{a}.owner_rep_id",
        "territory": "{a}.territory_id",
    },
    "reps": {
        "region": "{a}.region",
        "segment": "{a}.segment",
        "rep": "{a}.rep_id",
        "manager": "team:{a}.rep_id",
        "territory": "{a}.territory_id",
    },
    "quotas": {
        "region": "reps:region:{a}.rep_id",
        "segment": "reps:segment:{a}.rep_id",
        "rep": "{a}.rep_id",
        "manager": "team:{a}.rep_id",
    },
    # Company targets and open requisitions belong to a region and segment, never to a team or rep.
    "targets": {"region": "{a}.region", "segment": "{a}.segment"},
    "headcount": {"region": "{a}.region", "segment": "{a}.segment", "territory": "{a}.territory_id"},
}


def scope_filters(scope: Scope) -> dict[str, list[str]]:
    """The scope as the filter it amounts to."""
    if scope.kind == "all" or scope.value is None:
        return {}
    dim = {"region": "region", "segment": "segment", "team": "manager", "own": "rep"}[scope.kind]
    return {dim: [scope.value]}


def _condition(
    subject: Subject, dim: str, values: list[str], alias: str, account_alias: str | None
) -> tuple[str, list[Any]]:
    column = COLUMNS[subject].get(dim)
    if column is None:
        return "FALSE", []
    if subject == "opportunities" and "{acc}" in column and account_alias is None:
        raise ValueError("opportunities need the joined accounts alias to select by region or segment")
    marks = ", ".join("?" for _ in values)
    column = column.format(a=alias, acc=account_alias)
    if column.startswith("team:"):
        return f"{column[5:]} IN {_TEAM.format(marks=marks)}", [*values, *values]
    if column.startswith("reps:"):
        _, rep_column, own = column.split(":", 2)
        return f"{own} IN {_REPS_WHERE.format(column=rep_column, marks=marks)}", list(values)
    return f"{column} IN ({marks})", list(values)


def predicate(
    filters: Mapping[str, Iterable[str]], subject: Subject, alias: str, account_alias: str | None = None
) -> tuple[str, list[Any]]:
    """SQL condition (with parameters) limiting rows of `subject` to `filters`."""
    parts, params = ["TRUE"], []
    for dim, values in filters.items():
        sql, values_ = _condition(subject, dim, list(values), alias, account_alias)
        parts.append(sql)
        params += values_
    return " AND ".join(parts), params


@dataclass(frozen=True)
class Selection:
    """The rows a request covers: `scope` (from the caller) and resolved `filters` (from the request)."""

    scope: Scope = field(default_factory=Scope.everything)
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def of(cls, scope: Scope, filters: Mapping[str, Iterable[str]] | None = None) -> Selection:
        scope.check_filters({d: list(v) for d, v in (filters or {}).items()})
        return cls(scope, {d: tuple(v) for d, v in (filters or {}).items()})

    @property
    def constraints(self) -> dict[str, list[str]]:
        """Filters and scope together: every dimension value the rows must have."""
        out = {d: list(v) for d, v in self.filters.items()}
        for dim, values in scope_filters(self.scope).items():
            out[dim] = [v for v in out[dim] if v in values] if dim in out else list(values)
        return out

    def where(self, subject: Subject, alias: str, account_alias: str | None = None) -> tuple[str, list[Any]]:
        return predicate(self.constraints, subject, alias, account_alias)

    def without(self, *dims: str) -> Selection:
        """The same selection with some filters dropped (the scope always stays)."""
        return Selection(self.scope, {d: v for d, v in self.filters.items() if d not in dims})

    def describe(self) -> str:
        """'region EMEA, segment SMB', 'the team of manager R-00001', 'all data': the rows covered,
        worded the same whether a scope or a filter limits them."""
        words = {"manager": "the team of manager", "rep": "rep"}
        shown = ", ".join(f"{words.get(d, d)} {'/'.join(v)}" for d, v in self.constraints.items())
        return shown or "all data"

    def key(self) -> tuple[Any, ...]:
        """Hashable identity for caches."""
        return (self.scope.key(), tuple(sorted((d, tuple(v)) for d, v in self.filters.items())))


def parse_filters(items: Iterable[str] | None) -> dict[str, list[str]]:
    """['region=EMEA', 'segment=SMB,Mid-Market'] -> {'region': ['EMEA'], 'segment': [...]}."""
    out: dict[str, list[str]] = {}
    for item in items or []:
        if "=" not in item:
            raise InputError(f"Filter {item!r} is not DIM=VALUE.", "Example: --filter region=EMEA")
        dim, _, value = item.partition("=")
        dim = dim.strip().lower()
        values = [v.strip() for v in value.split(",") if v.strip()]
        if not values:
            raise InputError(f"Filter {item!r} has no value.", "Example: --filter region=EMEA")
        out.setdefault(dim, []).extend(values)
    return out


def members(cur: Any, dim: str) -> list[tuple[str, str | None]]:
    """(canonical value, display name) of every member of `dim`."""
    if dim not in MEMBERS:
        raise InputError(f"Unknown dimension {dim!r}.", f"Use one of: {', '.join(DIMENSIONS)}.")
    rows = cur.execute(MEMBERS[dim]).fetchall()
    return [(str(r[0]), (str(r[1]) if len(r) > 1 and r[1] is not None else None)) for r in rows]


def resolve_filters(cur: Any, filters: Mapping[str, Iterable[str]], allowed: Iterable[str]) -> dict[str, list[str]]:
    """Canonical member names for each filter value (reps by id or name), or an error naming the valid ones."""
    from rapidfuzz import process

    allowed = tuple(allowed)
    resolved: dict[str, list[str]] = {}
    for dim, values in filters.items():
        if dim not in allowed:
            raise InputError(f"Cannot filter by {dim!r} here.", f"Filter by one of: {', '.join(allowed)}.")
        valid = members(cur, dim)
        by_lower = {value.lower(): value for value, _ in valid}
        by_lower |= {name.lower(): value for value, name in valid if name and name.lower() not in by_lower}
        for value in values:
            match = by_lower.get(str(value).strip().lower())
            if match is None:
                shown_values = [v if n is None else f"{v} ({n})" for v, n in valid]
                close = process.extractOne(
                    str(value), [v for v, _ in valid] + [n for _, n in valid if n], score_cutoff=60
                )
                hint = f"Did you mean {close[0]}? " if close else ""
                listed = ", ".join(shown_values[:20]) + (" ..." if len(valid) > 20 else "")
                raise InputError(
                    f"Unknown {dim} {value!r}.",
                    f"{hint}Valid {dim} values: {listed or 'none in this warehouse'}.",
                )
            if match not in resolved.get(dim, []):
                resolved.setdefault(dim, []).append(match)
    return resolved


def validate_by(by: Iterable[str], allowed: Iterable[str]) -> list[str]:
    """Breakdown dimensions, lower-cased, each allowed and named once."""
    allowed = tuple(allowed)
    out: list[str] = []
    for dim in by:
        d = dim.strip().lower()
        if d not in allowed:
            raise InputError(f"Cannot group by {dim!r}.", f"Group by any of: {', '.join(allowed)}.")
        if d in out:
            raise InputError(f"{dim!r} is named twice in the breakdown.")
        out.append(d)
    return out
