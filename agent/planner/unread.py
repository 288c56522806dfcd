"""Nothing silently dropped: the figures and names a question states that no call used.

"Rebalance within 20%, saved as X" must not quietly run at +-5%. After planning, every percent,
amount, count and region or segment the question names is looked for in the calls' arguments
(a percent may arrive as 20, -20 or 0.2); what is missing is said in the answer, so the reader
knows which part was not understood instead of trusting a plan that ignored it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from agent.planner.slots import Slots

_TOLERANCE = 1e-6


def _values(data: Any) -> Iterator[Any]:
    if isinstance(data, dict):
        for value in data.values():
            yield from _values(value)
    elif isinstance(data, list | tuple):
        for value in data:
            yield from _values(value)
    else:
        yield data


def _used_number(value: float, numbers: list[float], *, percent: bool) -> bool:
    forms = {abs(value)} | ({abs(value) / 100} if percent else set())
    return any(abs(abs(n) - f) <= _TOLERANCE * max(1.0, f) for n in numbers for f in forms)


def unread(slots: Slots, calls: list[dict[str, Any]], answer: str) -> list[str]:
    """What the question stated that neither the calls nor the answer carry, as the user wrote it."""
    values = [v for call in calls for v in _values(call.get("args") or {})]
    numbers = [float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    # Numbers inside text arguments count too: confidence "p80" is the question's 80%.
    numbers += [float(n) for v in values if isinstance(v, str) for n in re.findall(r"\d+(?:\.\d+)?", v)]
    words = " ".join(str(v) for v in values if isinstance(v, str)).lower() + " " + answer.lower()
    missing: list[str] = []
    for p in slots.percents:
        if not _used_number(p, numbers, percent=True):
            missing.append(f"{p:g}%")
    for p in slots.points:
        if not _used_number(p, numbers, percent=True):
            missing.append(f"{p:g} points")
    for a in slots.amounts:
        if not _used_number(a, numbers, percent=False):
            missing.append(f"${a:,.0f}")
    for c in slots.counts:
        if not _used_number(float(c), numbers, percent=False):
            missing.append(f"{c} people")
    for name in [*slots.regions, *slots.segments]:
        if name.lower() not in words:
            missing.append(name)
    return list(dict.fromkeys(missing))
