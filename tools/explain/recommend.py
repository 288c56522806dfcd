"""What to do about a variance: one recommendation on the driver that cost the most (or, when
none cost anything, the one that helped most), stating in money what the slice would have booked
with that driver at its reference value; and one from the context when it shows a problem (more
deals slipping out of the period than in the reference, or less pipeline created)."""

from __future__ import annotations

from tools.contract import Impact, Recommendation
from tools.core import format as fmt
from tools.explain.decompose import DRIVERS, with_reference_driver
from tools.explain.report import CENT, DRIVER_NAMES, DRIVER_UNITS, Variance, period_words

PIPELINE_DROP = 0.1  # pipeline created this much below the reference is worth a recommendation


def recommendations(v: Variance) -> list[Recommendation]:
    recs = []
    driver = _driver_recommendation(v)
    if driver is not None:
        recs.append(driver)
    context = _context_recommendation(v, driver_first=v.ranked()[0])
    if context is not None:
        recs.append(context)
    return recs[:2]


def _group(v: Variance) -> dict[str, str]:
    return dict(v.group)


def _driver_recommendation(v: Variance) -> Recommendation | None:
    d = v.decomposition
    costly = [k for k in v.ranked() if d.contribution(k) < -CENT]
    helped = [k for k in v.ranked() if d.contribution(k) > CENT]
    if not costly and not helped:
        return None
    k = (costly or helped)[0]
    i = DRIVERS.index(k)
    actual, reference = d.actual[i], d.reference[i]
    if actual is None or reference is None:
        return None
    unit, name, who, period = DRIVER_UNITS[k], DRIVER_NAMES[k], v.who, period_words(v.comparison)
    counterfactual = with_reference_driver(v.baseline.deals, v.actual.deals, k)
    moved = (
        f"{name.capitalize()}: {fmt.value(actual, unit)} vs {fmt.value(reference, unit)} {v.reference_when} "
        f"({fmt.change(d.contribution(k), 'USD')} of bookings)"
    )
    if costly:
        action = {
            "win_rate": f"Run a win/loss review of {who}'s {period} lost deals and tighten stage-exit criteria "
            "before deals are committed.",
            "deal_size": f"Hold price and scope on {who}'s late-stage deals: review discounts and multi-product "
            "attach before approval.",
            "deals_closed": f"Get more of {who}'s pipeline to a decision: review stalled deals and build pipeline "
            "for the coming periods.",
        }[k]
    else:
        action = f"Find what lifted {who}'s {name} in {period} and repeat it; plan on it once it holds another period."
    after = None if counterfactual is None else v.booked + (counterfactual - v.actual.deals.bookings)
    rationale = moved
    if after is not None and costly:
        rationale += f"; with {name} at {v.reference_of} level, {period} would have booked {fmt.money(after)}"
    if k == "deals_closed":
        a, b = v.actual.pipeline_created, v.baseline.pipeline_created
        rationale += f"; pipeline created {fmt.money(a)} vs {fmt.money(b)} {v.reference_when}"
    return Recommendation(
        action=action,
        rationale=rationale + ".",
        impact=Impact(
            metric=f"{v.label} {period} bookings with {name} at {v.reference_of}",
            before=v.booked,
            after=after,
            unit="USD",
        ),
        confidence=0.6 if costly else 0.4,
        group=_group(v),
    )


def _context_recommendation(v: Variance, driver_first: str) -> Recommendation | None:
    a, b = v.actual, v.baseline
    who, period, when = v.who, period_words(v.comparison), v.reference_when
    if a.slipped is not None and b.slipped is not None and a.slipped.deals > b.slipped.deals and a.slipped.amount > 0:
        return Recommendation(
            action=f"Tighten close-date discipline in {who}: re-qualify the deals that slipped out of {period} and "
            "are still open before they go back into commit.",
            rationale=f"{fmt.count(a.slipped.deals)} deals ({fmt.money(a.slipped.amount)}) slipped out of {period} vs "
            f"{fmt.count(b.slipped.deals)} ({fmt.money(b.slipped.amount)}) {when}.",
            impact=Impact(
                metric=f"{v.label} deals slipped out of {period}",
                before=float(a.slipped.deals),
                after=float(b.slipped.deals),
                unit="count",
            ),
            confidence=0.5,
            group=_group(v),
        )
    created, before = a.pipeline_created, b.pipeline_created
    if driver_first != "deals_closed" and before > 0 and created < before * (1 - PIPELINE_DROP):
        return Recommendation(
            action=f"Build pipeline in {who}: less was created in {period} than {when}, which will show in the "
            "deals closed of the next periods.",
            rationale=f"Pipeline created: {fmt.money(created)} vs {fmt.money(before)} {when} "
            f"({fmt.share(1 - created / before)} less).",
            impact=Impact(metric=f"{v.label} pipeline created in {period}", before=created, after=before, unit="USD"),
            confidence=0.5,
            group=_group(v),
        )
    return None
