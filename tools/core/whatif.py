"""The one shape of a what-if result, whatever the tool.

A tool asked for a what-if answers the question as asked: its top-level metrics and tables
are the what-if. Next to them it returns
* `metrics.baseline` and `metrics.what_if`: the same headline figures without and with the change;
* `metrics.what_if_inputs`: what was changed, in words;
* `tables.comparison`: one row per figure (and group), with `metric`, `unit`, `baseline`,
  `what_if` and `change`,
so the agent, chat, Slack and batch render every what-if with one code path
(`tools.core.whatif.comparison_lines`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tools.core import format as fmt


@dataclass(frozen=True)
class Figure:
    """A headline figure of a what-if: where it sits in the metrics, how to call it, its unit."""

    key: str  # dotted path into the headline dict, e.g. "share_reps_at_quota.p50"
    label: str
    unit: fmt.Unit


def lookup(data: Mapping[str, Any], path: str) -> Any:
    value: Any = data
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def _difference(before: Any, after: Any) -> float | None:
    if isinstance(before, int | float) and isinstance(after, int | float) and not isinstance(before, bool):
        return round(float(after) - float(before), 6)
    return None


def comparison(
    baseline: Mapping[str, Any],
    what_if: Mapping[str, Any],
    figures: Sequence[Figure],
    group: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Rows of `tables.comparison`: each figure with its baseline, what-if and change."""
    rows = []
    for f in figures:
        before, after = lookup(baseline, f.key), lookup(what_if, f.key)
        rows.append(
            {
                **(group or {}),
                "metric": f.label,
                "unit": f.unit,
                "baseline": before,
                "what_if": after,
                "change": _difference(before, after),
            }
        )
    return rows


def attach(
    metrics: dict[str, Any],
    tables: dict[str, list[dict[str, Any]]],
    *,
    baseline: Mapping[str, Any],
    what_if: Mapping[str, Any],
    inputs: Sequence[str],
    rows: list[dict[str, Any]],
) -> None:
    """Put a what-if's parts where every consumer looks for them."""
    metrics["baseline"] = dict(baseline)
    metrics["what_if"] = dict(what_if)
    metrics["what_if_inputs"] = list(inputs)
    tables["comparison"] = rows


def comparison_lines(rows: Sequence[Mapping[str, Any]], limit: int = 8) -> list[str]:
    """'P50 share of reps at quota: 55% -> 48% (-7 pts)' per comparison row (the rows that changed first)."""
    ordered = sorted(rows, key=lambda r: 0 if r.get("change") else 1)
    out = []
    for r in ordered[:limit]:
        unit = str(r.get("unit", ""))
        where = " ".join(str(r[k]) for k in r if k not in ("metric", "unit", "baseline", "what_if", "change"))
        label = f"{r['metric']}{' ' + where if where else ''}"
        out.append(
            f"{label}: {fmt.value(r.get('baseline'), unit)} -> {fmt.value(r.get('what_if'), unit)}"
            f" ({fmt.change(r.get('change'), unit)})"
        )
    return out
