"""The variance as people read it: the drivers table (the decomposition, biggest first, then the
context figures), the one-sentence answer, the assumptions and the warnings.

The headline bookings are the bookings table's (the metrics tool's figure for the same slice and
window); the drivers decompose the won deals behind them. Where the two differ (bookings loaded
without their deals), the difference is a row of its own, so the rows still add up to the gap.
Against plan there is no plan of the drivers: the gap to plan is the plan's ask above last year
(a row) plus the change from last year, decomposed into the drivers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tools.contract import DataWarning
from tools.core import format as fmt
from tools.core.selection import Selection
from tools.explain.decompose import DRIVERS, Decomposition, decompose
from tools.explain.loader import WindowFigures
from tools.explain.windows import Comparison

DRIVER_NAMES = {"deals_closed": "deals closed", "win_rate": "win rate", "deal_size": "deal size"}
DRIVER_UNITS = {"deals_closed": "count", "win_rate": "share", "deal_size": "USD"}
PLAN_ROW = "plan above last year"
UNMATCHED_ROW = "bookings without a won deal"
FEW_DEALS = 30  # closed deals below which a window's rates move a lot with one deal
CENT = 0.005
_LABEL_ORDER = ("region", "segment", "product", "manager", "rep", "territory")


@dataclass(frozen=True)
class Variance:
    comparison: Comparison
    label: str  # the slice, as the summary names it
    group: tuple[tuple[str, str], ...]  # (dimension, members) the slice is limited to (scope and filters)
    actual: WindowFigures
    baseline: WindowFigures  # the window the drivers are compared with (last year's, against plan)
    decomposition: Decomposition
    reference: float  # what the actual bookings are compared with (bookings, or the target to date)
    target_full: float | None  # against plan: the whole period's target

    @property
    def booked(self) -> float:
        return self.actual.booked

    @property
    def gap(self) -> float:
        return self.booked - self.reference

    @property
    def gap_pct(self) -> float | None:
        return self.gap / self.reference * 100 if self.reference else None

    @property
    def unmatched(self) -> float:
        """The part of the gap the won deals do not carry (bookings without a matching deal)."""
        return (self.actual.booked - self.actual.deals.bookings) - (self.baseline.booked - self.baseline.deals.bookings)

    @property
    def plan_ask(self) -> float | None:
        """What the plan asks above last year's bookings (against plan only)."""
        return None if self.comparison.against != "plan" else self.reference - self.baseline.booked

    @property
    def who(self) -> str:
        """The slice inside a sentence: 'EMEA', 'the team of R-00001', 'the company'."""
        return "the company" if self.label == "Total" else self.label

    @property
    def reference_when(self) -> str:
        """'last year', 'in FY2027-Q2': when the drivers' reference values were seen."""
        return "last year" if self.comparison.against != "last_period" else f"in {self.comparison.baseline_period.name}"

    @property
    def reference_of(self) -> str:
        """How the reference reads as a possessive: 'last year's', 'FY2027-Q2's'."""
        return (
            "last year's" if self.comparison.against != "last_period" else f"{self.comparison.baseline_period.name}'s"
        )

    def ranked(self) -> list[str]:
        """The three drivers, the largest contribution (in money, either sign) first."""
        return sorted(DRIVERS, key=lambda d: -abs(self.decomposition.contribution(d)))


def variance(
    comparison: Comparison,
    sel: Selection,
    actual: WindowFigures,
    baseline: WindowFigures,
    target_full: float | None,
) -> Variance:
    if comparison.against == "plan":
        if target_full is None:
            raise ValueError("a variance against plan needs the slice's target")
        reference = target_full * comparison.elapsed_share
    else:
        reference = baseline.booked
    return Variance(
        comparison,
        slice_label(sel),
        tuple((d, "/".join(values)) for d, values in sorted(sel.constraints.items())),
        actual,
        baseline,
        decompose(baseline.deals, actual.deals),
        reference,
        target_full,
    )


def slice_label(sel: Selection) -> str:
    """'EMEA', 'EMEA SMB', 'the team of R-00001', 'rep R-00014', 'Total': the same scoped or filtered."""
    parts = []
    constraints = sel.constraints
    for dim, values in sorted(constraints.items(), key=lambda item: _LABEL_ORDER.index(item[0])):
        shown = "/".join(values)
        parts.append({"manager": f"the team of {shown}", "rep": f"rep {shown}"}.get(dim, shown))
    return " ".join(parts) or "Total"


# --- the drivers table ----------------------------------------------------------------------


def _row(driver: str, unit: str, reference: Any, actual: Any, contribution: float | None, gap: float) -> dict[str, Any]:
    return {
        "driver": driver,
        "unit": unit,  # how reference, actual and change read in this row
        "reference": reference,
        "actual": actual,
        "change": None if actual is None or reference is None else actual - reference,
        "contribution": contribution,
        "share_of_gap": None if contribution is None or abs(gap) <= CENT else contribution / gap,
    }


def driver_rows(v: Variance) -> list[dict[str, Any]]:
    """The decomposition (largest |contribution| first; the contributions add up to the gap), then the context."""
    d, gap = v.decomposition, v.gap
    rows = [
        _row(DRIVER_NAMES[k], DRIVER_UNITS[k], d.reference[i], d.actual[i], d.contributions[i], gap)
        for i, k in enumerate(DRIVERS)
    ]
    if v.plan_ask is not None:
        rows.append(_row(PLAN_ROW, "USD", v.baseline.booked, v.reference, -v.plan_ask, gap))
    if abs(v.unmatched) > CENT:
        a, b = v.actual, v.baseline
        rows.append(
            _row(UNMATCHED_ROW, "USD", b.booked - b.deals.bookings, a.booked - a.deals.bookings, v.unmatched, gap)
        )
    rows.sort(key=lambda r: -abs(r["contribution"]))
    return rows + context_rows(v)


def context_rows(v: Variance) -> list[dict[str, Any]]:
    """Figures beside the decomposition (not part of its sum), actual vs the drivers' reference window."""
    a, b, gap = v.actual, v.baseline, v.gap
    rows = [
        _row("pipeline created", "USD", b.pipeline_created, a.pipeline_created, None, gap),
        _row("median sales cycle", "days", b.median_cycle_days, a.median_cycle_days, None, gap),
    ]
    if a.slipped is not None and b.slipped is not None:
        rows += [
            _row("slipped deals", "count", b.slipped.deals, a.slipped.deals, None, gap),
            _row("slipped amount", "USD", b.slipped.amount, a.slipped.amount, None, gap),
        ]
    if "product" not in dict(v.group):  # AEs do not belong to a product
        rows += [
            _row("active AEs", "count", b.active_aes, a.active_aes, None, gap),
            _row("bookings per AE", "USD", _per(b.booked, b.active_aes), _per(a.booked, a.active_aes), None, gap),
        ]
    return rows


def _per(amount: float, people: int) -> float | None:
    return amount / people if people else None


# --- words ----------------------------------------------------------------------------------


def period_words(c: Comparison) -> str:
    return f"{c.period.name} to date" if c.in_progress else c.period.name


def reference_words(v: Variance) -> str:
    """'last year's $1.50M', 'FY2027-Q2's $1.30M over the same 29 days', 'the plan's $400K to date (...)'."""
    c = v.comparison
    same_days = f" over the same {c.elapsed_days} days" if c.in_progress else ""
    if c.against == "plan":
        last_year = f"last year {fmt.money(v.baseline.booked)}"
        if c.in_progress:
            return (
                f"the plan's {fmt.money(v.reference)} to date ({fmt.money(v.target_full)} for all of "
                f"{c.period.name}; {last_year} over the same days)"
            )
        return f"the plan's {fmt.money(v.reference)} ({last_year})"
    if c.against == "last_period":
        return f"{c.baseline_period.name}'s {fmt.money(v.reference)}{same_days}"
    # Name the reference period too: "last year" alone leaves the reader to work out which one.
    return f"last year's ({c.baseline_period.name}) {fmt.money(v.reference)}{same_days}"


def _driver_value(driver: str, value: float | None) -> str:
    return fmt.value(value, DRIVER_UNITS[driver])


def summary(v: Variance) -> str:
    """One sentence, the answer first: the figure, the gap to the reference, the biggest drivers."""
    c, d = v.comparison, v.decomposition
    to_date = " to date" if c.in_progress else ""
    text = f"{v.label[:1].upper()}{v.label[1:]} {c.period.name} bookings{to_date} are {fmt.money(v.booked)}"
    if v.gap_pct is None:
        text += f", {fmt.change(v.gap, 'USD')} against {reference_words(v)}"
    elif abs(v.gap) <= CENT:
        text += f", level with {reference_words(v)}"
    else:
        text += f", {fmt.percent(abs(v.gap_pct))} {'behind' if v.gap < 0 else 'ahead of'} {reference_words(v)}"
    first, second = v.ranked()[:2]
    if abs(d.contribution(first)) <= CENT:
        return text + ("; no deals closed in either window." if not d.actual[0] and not d.reference[0] else ".")
    k = DRIVERS.index(first)
    prefix = "vs last year, " if c.against == "plan" else ""
    text += (
        f": {prefix}the biggest driver is {DRIVER_NAMES[first]} ({_driver_value(first, d.actual[k])} vs "
        f"{_driver_value(first, d.reference[k])}, {fmt.change(d.contribution(first), 'USD')})"
    )
    if abs(d.contribution(second)) > CENT:
        text += f", then {DRIVER_NAMES[second]} ({fmt.change(d.contribution(second), 'USD')})"
    return text + "."


def assumptions(v: Variance) -> list[str]:
    c = v.comparison
    out = [
        "Bookings = deals closed (won and lost, by close date) x win rate (won / closed, by count) x average "
        "deal size (won amount / won deals); the gap is split across the three by LMDI (log-mean Divisia), "
        "whose contributions add up exactly to the gap in money.",
        f"{period_words(c)}: {c.actual.describe()}; drivers compared with {c.baseline_period.name}: "
        f"{c.baseline.describe()}.",
    ]
    if c.in_progress:
        out.append(
            f"{c.period.name} is in progress ({c.elapsed_days} of {c.period_days} days to {c.as_of.isoformat()}): "
            f"it is compared like for like with the first {c.baseline.days} days of {c.baseline_period.name}."
        )
    if c.against == "plan":
        share = (
            f", pro-rated by the elapsed share of the period ({c.elapsed_days}/{c.period_days} days = "
            f"{fmt.share(c.elapsed_share)}): {fmt.money(v.reference)}"
            if c.in_progress
            else ""
        )
        out.append(
            f"The plan is the targets table's {fmt.money(v.target_full)} for {c.period.name}{share}. No plan of the "
            "drivers exists, so the gap to plan is shown as the plan's ask above last year (its own row) plus the "
            "change from last year, decomposed into the drivers; the context figures compare with last year too."
        )
    out.append(
        "Context figures (beside the decomposition, not part of its sum): pipeline created = amount of the deals "
        "created in the window; median sales cycle = median days from creation to close of the deals won in it; "
        "slipped deals = deals whose close date, as it stood before the window's end, fell in the window but at "
        "its end lay after it (opportunity history); active AEs = AEs in seat on any day of the window."
    )
    d = v.decomposition
    if min(_positive(d.actual), _positive(d.reference)) == 0 and abs(v.decomposition.gap) > CENT:
        out.append(
            "One window booked nothing, so the gap goes to the first driver that is zero there (the limit of LMDI)."
        )
    return out


def _positive(drivers: tuple[float | None, ...]) -> int:
    return int(all(x is not None and x > 0 for x in drivers))


def warnings(v: Variance) -> list[DataWarning]:
    c, a, b = v.comparison, v.actual, v.baseline
    out = []
    if abs(v.unmatched) > CENT:
        out.append(
            DataWarning(
                code="bookings_without_deals",
                message=f"The bookings table holds {fmt.money(a.booked)} for {period_words(c)} and "
                f"{fmt.money(b.booked)} for {c.baseline_period.name}, but their won deals add up to "
                f"{fmt.money(a.deals.bookings)} and {fmt.money(b.deals.bookings)}: the difference "
                f"({fmt.change(v.unmatched, 'USD')}) is its own row, not a driver.",
            )
        )
    if a.slipped is None:
        out.append(
            DataWarning(
                code="no_opportunity_history",
                message="The warehouse keeps no opportunity history, so slipped deals are not measured.",
            )
        )
    few = [(w, f.deals.closed) for w, f in ((period_words(c), a), (c.baseline_period.name, b))]
    few = [(w, n) for w, n in few if n < FEW_DEALS]
    if few:
        shown = " and ".join(f"{n:,} in {w}" for w, n in few)
        out.append(
            DataWarning(
                code="few_deals",
                message=f"Few closed deals ({shown}): win rate and deal size move a lot with a single deal.",
                count=min(n for _, n in few),
            )
        )
    return out


def metrics(v: Variance, filters: dict[str, list[str]]) -> dict[str, Any]:
    c = v.comparison
    top = v.ranked()[0]
    return {
        "actual": v.booked,
        "reference": v.reference,
        "gap": v.gap,
        "gap_pct": v.gap_pct,
        "against": c.against,
        "period": c.period.name,
        "slice": v.label,
        "reference_period": "plan" if c.against == "plan" else c.baseline_period.name,
        "drivers_compared_with": c.baseline_period.name,
        "window_start": c.actual.start.isoformat(),
        "window_end": c.actual.last_day.isoformat(),
        "reference_start": c.baseline.start.isoformat(),
        "reference_end": c.baseline.last_day.isoformat(),
        "in_progress": c.in_progress,
        "elapsed_days": c.elapsed_days,
        "period_days": c.period_days,
        "as_of": c.as_of.isoformat(),
        **(
            {"target_full": v.target_full, "target_to_date": v.reference, "last_year": v.baseline.booked}
            if c.against == "plan"
            else {}
        ),
        "biggest_driver": DRIVER_NAMES[top] if abs(v.decomposition.contribution(top)) > CENT else None,
        "deals_closed": v.actual.deals.closed,
        "filters": filters,
    }
