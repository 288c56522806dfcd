"""The KPIs, described once: name, unit, the breakdowns each allows, its rows (SQL), its total.

The metrics tool, its input model, the offline planner (the words that name a KPI) and every
view read this registry; adding a KPI is one `MetricSpec` here plus its rows function in
tools/metrics/kpis.py (docs/architecture.md walks through it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from tools.core.format import Unit
from tools.metrics import kpis
from warehouse.errors import InputError

ALL_DIMS = ("region", "segment", "product", "rep", "manager")


@dataclass(frozen=True)
class MetricSpec:
    name: str
    unit: Unit
    description: str  # for the model and --help: what the figure is
    rows: Callable[[kpis.Window], pd.DataFrame]  # a `value` per breakdown row
    total: Callable[[pd.DataFrame], float | None]  # the figure over all rows
    breakdowns: tuple[str, ...] = ALL_DIMS
    tables: tuple[str, ...] = ()  # warehouse tables read (its data fingerprint)
    started: bool = False  # only for periods that have started (actuals)
    words: str = ""  # regex of the words that name it in a question (offline planner)
    default_by: tuple[str, ...] = ()  # the breakdown when none is asked


METRICS: dict[str, MetricSpec] = {}


def register(spec: MetricSpec) -> MetricSpec:
    if spec.name in METRICS:
        raise ValueError(f"KPI {spec.name!r} is registered twice")
    METRICS[spec.name] = spec
    return spec


def unregister(name: str) -> None:
    """Remove a KPI (tests that register a throwaway one clean up with this)."""
    METRICS.pop(name, None)


def metric(name: str) -> MetricSpec:
    if name not in METRICS:
        raise InputError(f"Unknown KPI {name!r}.", f"Use one of: {', '.join(METRICS)}.")
    return METRICS[name]


OPPORTUNITY_TABLES = ("opportunities", "accounts", "reps")

register(
    MetricSpec(
        "coverage",
        "x",
        "pipeline closing in the period / target left to book",
        kpis.coverage,
        kpis.total_ratio("pipeline", "remaining_target"),
        breakdowns=("region", "segment"),
        tables=(*OPPORTUNITY_TABLES, "stages", "bookings", "targets"),
        words=r"coverage",
    )
)
register(
    MetricSpec(
        "win_rate",
        "share",
        "won / closed deals closed in the period, by count",
        kpis.win_rate,
        kpis.total_ratio("won", "closed"),
        tables=OPPORTUNITY_TABLES,
        started=True,
        words=r"win[- ]?rates?|close[- ]?rates?|conversion|hit rate",
    )
)
register(
    MetricSpec(
        "avg_deal_size",
        "USD",
        "mean amount of deals won in the period",
        kpis.avg_deal_size,
        kpis.total_weighted("avg_won_amount", "won"),
        tables=OPPORTUNITY_TABLES,
        started=True,
        words=r"deal sizes?|average deal|avg deal|\bacv\b|ticket size",
    )
)
register(
    MetricSpec(
        "cycle_length",
        "days",
        "mean days from creation to close of deals won in the period",
        kpis.cycle_length,
        kpis.total_weighted("cycle_days", "won"),
        tables=OPPORTUNITY_TABLES,
        started=True,
        words=r"cycle|how long|days (?:\w+ ){0,5}to close|time to close",
    )
)
register(
    MetricSpec(
        "headcount",
        "count",
        "AEs in seat at the period's end, plus open AE requisitions starting before it ends",
        kpis.headcount,
        kpis.total_sum,
        breakdowns=("region", "segment", "manager"),
        tables=("reps", "headcount_plan"),
        words=r"headcount|how many (?:[\w-]+ )?(?:aes?|reps?|sellers?|account executives|people)|team size|how big is",
    )
)
register(
    MetricSpec(
        "attainment",
        "share",
        "bookings / quota per AE (quotas pro-rated to the period)",
        kpis.attainment,
        kpis.total_ratio("booked", "quota"),
        breakdowns=("rep", "region", "segment", "manager"),
        tables=("bookings", "quotas", "reps"),
        started=True,
        words=r"attainment|% of quota|percent of quota|of quota|behind|under quota|above quota|on quota|"
        r"against (?:my |their |our )?quota|quota",
        default_by=("rep",),
    )
)
register(
    MetricSpec(
        "pipeline",
        "USD",
        "open deals closing in the period (amount)",
        kpis.pipeline,
        kpis.total_sum,
        tables=(*OPPORTUNITY_TABLES, "stages"),
        words=r"pipeline|pipe\b|open deals|open opportunities",
    )
)
register(
    MetricSpec(
        "bookings",
        "USD",
        "won amount booked in the period",
        kpis.bookings,
        kpis.total_sum,
        tables=("bookings", "reps"),
        started=True,
        words=r"book|bookings|revenue|sold|won|closed|sales",
    )
)
