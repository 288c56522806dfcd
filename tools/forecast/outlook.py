"""The company's baseline for a slice and a planning period: the forecast's outlook.

Quota simulation and capacity ask here for expected bookings, so "FY2028 bookings" has one
value whichever tool quotes it. The outlook of a year, half or quarter is the forecast at the
default settings (the figure `spm forecast` shows) summed over the period's quarters, draw by
draw, plus what the period has already booked; its P10/P50/P90 are those of the sum. Periods
beyond the forecast's reach (more than 24 quarters ahead) have no outlook. Cached per data
fingerprint, as-of date, selection and period (thread-safe).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from tools.core import format as fmt
from tools.core.context import PlanContext
from tools.core.lru import Lru
from tools.core.selection import Selection
from tools.forecast import loader, warm_imports
from tools.forecast.load import load
from tools.forecast.models import ForecastInput
from tools.forecast.tool import compute
from warehouse.calendar import Period
from warehouse.connection import Warehouse
from warehouse.errors import InputError
from warehouse.fingerprint import fingerprint

MAX_QUARTERS = 24
_cache: Lru[Outlook | None] = Lru(32)


def clear_cache() -> None:
    _cache.clear()


@dataclass(frozen=True, eq=False)
class Outlook:
    period: str
    selection: str  # what the outlook covers, in words
    mean: float
    p10: float
    p50: float
    p90: float
    booked: float  # already booked in the period on the as-of date
    as_of: str
    data_fingerprint: str
    samples: np.ndarray  # the period's total in every trial, sorted (for tools that match it)

    def as_dict(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "covers": self.selection,
            "mean": round(self.mean, 2),
            "p10": round(self.p10, 2),
            "p50": round(self.p50, 2),
            "p90": round(self.p90, 2),
            "booked_to_date": round(self.booked, 2),
            "as_of": self.as_of,
            "source": "forecast (spm forecast, default settings)",
        }

    def describe(self) -> str:
        return f"the forecast's {self.period} outlook for {self.selection}: {fmt.quantiles(self.as_dict())}"


def outlook(warehouse: Warehouse, selection: Selection, period: Period, as_of: Any = None) -> Outlook | None:
    """The forecast of `period` for `selection` (None when the period is out of the forecast's reach
    or the selection has too little history to forecast)."""
    filters = {d: list(v) for d, v in selection.filters.items()}
    params = ForecastInput(
        horizon=1, grain="quarter" if period.grain != "month" else "month", filters=filters, as_of=as_of
    )
    with warehouse.reader() as cur:  # the key first: a remembered outlook reads nothing else
        ctx = PlanContext.read(cur, as_of)
        data_fp = fingerprint(cur, loader.fingerprint_tables(False))

    def make() -> Outlook | None:
        warm_imports.start()
        try:
            data = load(warehouse, params, selection.scope)
        except InputError:
            return None
        return _compute(data, params, period, selection)

    return _cache.get_or_make((data_fp, ctx.as_of, selection.key(), period.name, ctx.calendar.start_month), make)


def _compute(data: Any, params: ForecastInput, period: Period, selection: Selection) -> Outlook | None:
    cal, as_of = data.ctx.calendar, data.ctx.as_of
    grain = params.grain
    current = cal.period_of(as_of, grain)
    if period.end <= current.start:
        return None
    first = cal.shift(current, 1)
    steps = len(cal.periods(first.start, period.end, grain)) if period.end > first.start else 1
    if steps > MAX_QUARTERS * (3 if grain == "month" else 1):
        return None
    warm_imports.wait()
    try:
        f = compute(data, params.model_copy(update={"horizon": max(steps, 1)}), keep_samples=True)
    except InputError:
        return None
    tl = f.timeline
    inside = np.array([period.start <= p.start and p.end <= period.end for p in tl.periods])
    samples = f.baseline["samples"][:, 0, :][:, inside].sum(axis=1)
    mean = float(f.baseline["mean"][0, inside].sum())
    past = [t for t, p in enumerate(tl.history) if period.start <= p.start and p.end <= period.end]
    done = float((f.req.members[0] @ f.history)[past].sum()) if past else 0.0
    booked_now = float((f.req.members[0] @ f.booked)[0]) if inside[0] else 0.0
    totals = np.sort(samples + done)
    p10, p50, p90 = np.percentile(totals, [10, 50, 90])
    return Outlook(
        period=period.name,
        selection=selection.describe(),
        mean=mean + done,
        p10=float(p10),
        p50=float(p50),
        p90=float(p90),
        booked=done + booked_now,
        as_of=as_of.isoformat(),
        data_fingerprint=data.fingerprint,
        samples=totals,
    )
