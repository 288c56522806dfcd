"""Parsing and validating `--filter DIM=VALUE` and `--by DIM` against the warehouse's names.

Values match case-insensitively; an unknown value is an error that lists the valid values and
suggests the closest (rapidfuzz), so a typo never silently returns an empty result.
"""

from __future__ import annotations

from typing import Any

from warehouse.errors import InputError

# Dimension -> SQL listing its members (name-like values users type).
DIMENSIONS: dict[str, str] = {
    "region": "SELECT name FROM regions ORDER BY sort_order, name",
    "segment": "SELECT name FROM segments ORDER BY sort_order, name",
    "product": "SELECT name FROM products ORDER BY sort_order, name",
    "rep": "SELECT rep_id FROM reps ORDER BY rep_id",
    "territory": "SELECT territory_id FROM territories ORDER BY territory_id",
}


def parse_filters(items: list[str] | None) -> dict[str, list[str]]:
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


def members(cur: Any, dim: str) -> list[str]:
    if dim not in DIMENSIONS:
        raise InputError(f"Unknown dimension {dim!r}.", f"Use one of: {', '.join(DIMENSIONS)}.")
    return [row[0] for row in cur.execute(DIMENSIONS[dim]).fetchall()]


def resolve_filters(cur: Any, filters: dict[str, list[str]], allowed: tuple[str, ...]) -> dict[str, list[str]]:
    """Canonical member names for each filter value, or an error naming the valid ones."""
    from rapidfuzz import process

    resolved: dict[str, list[str]] = {}
    for dim, values in filters.items():
        if dim not in allowed:
            raise InputError(f"Cannot filter by {dim!r} here.", f"Filter by one of: {', '.join(allowed)}.")
        valid = members(cur, dim)
        by_lower = {m.lower(): m for m in valid}
        for value in values:
            match = by_lower.get(value.lower())
            if match is None:
                close = process.extractOne(value, valid, score_cutoff=60) if valid else None
                hint = f"Did you mean {close[0]}? " if close else ""
                shown = ", ".join(valid[:20]) + (" ..." if len(valid) > 20 else "")
                raise InputError(
                    f"Unknown {dim} {value!r}.",
                    f"{hint}Valid {dim} values: {shown or 'none in this warehouse'}.",
                )
            resolved.setdefault(dim, []).append(match)
    return resolved


def validate_by(by: list[str], allowed: tuple[str, ...]) -> list[str]:
    out = []
    for dim in by:
        d = dim.strip().lower()
        if d not in allowed:
            raise InputError(f"Cannot group by {dim!r}.", f"Group by any of: {', '.join(allowed)}.")
        if d in out:
            raise InputError(f"{dim!r} is named twice in --by.")
        out.append(d)
    return out
