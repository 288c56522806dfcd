"""Everything one forecast reads, read in one pass over the warehouse (scoped, read-only)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pandas as pd

from tools.core.context import PlanContext
from tools.core.lru import Lru
from tools.core.scenario import ScenarioUse, load_scenario
from tools.core.selection import Selection, resolve_filters
from tools.core.targets import load_quotas, load_targets
from tools.forecast import loader
from tools.forecast.models import FILTER_DIMS, ForecastInput
from tools.forecast.timeline import month_starts
from warehouse.connection import Warehouse
from warehouse.errors import InputError
from warehouse.fingerprint import fingerprint
from warehouse.identity import Scope

TRAINING_DEALS_PER_CELL = 4_000  # above this many deals, a cell's win model trains on a 1-in-N deal sample

# The monthly snapshots (the slowest read: every deal's state at every month start) of a data
# fingerprint, selection and as-of date: a planning session asks forecast, quota and capacity
# about the same data many times, and none of them changes the frames it is given.
_snapshots: Lru[pd.DataFrame] = Lru(8)


def clear_cache() -> None:
    _snapshots.clear()


@dataclass
class Loaded:
    ctx: PlanContext
    selection: Selection
    bookings: pd.DataFrame
    pipeline: pd.DataFrame  # deals open on the as-of date
    training: pd.DataFrame  # monthly snapshots before it, labelled where the outcome was known
    closed: pd.DataFrame  # deals closed in the last year
    stage_defaults: dict[str, float]
    targets: pd.DataFrame
    quotas: pd.DataFrame
    reps: pd.DataFrame
    fingerprint: str
    has_opportunities: bool
    deal_sample: dict[tuple[str, str], int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    scenario: ScenarioUse | None = None

    def data_key(self) -> tuple[Any, ...]:
        """Whose data the cells hold: the fingerprint, the as-of date, the scope and the filters that
        select data (rep, manager); region, segment and product filters only pick whole cells."""
        own = {d: v for d, v in self.selection.constraints.items() if d in ("rep", "manager")}
        return (
            self.fingerprint,
            self.ctx.as_of,
            self.scope.key(),
            tuple(sorted((d, tuple(v)) for d, v in own.items())),
        )

    @property
    def scope(self) -> Scope:
        return self.selection.scope


def load(warehouse: Warehouse, params: ForecastInput, scope: Scope) -> Loaded:
    with warehouse.reader() as cur:
        ctx = PlanContext.read(cur, params.as_of)
        sel = Selection.of(scope, resolve_filters(cur, params.filters, allowed=FILTER_DIMS))
        as_of = ctx.as_of
        booked = loader.bookings(cur, sel, before=ctx.booked_until)
        if booked.empty:
            raise InputError(
                f"No bookings up to {as_of} for {sel.describe()}: nothing to forecast from.",
                "Import bookings history (spm data import bookings.csv) or widen the filters.",
            )
        counts = loader.opportunity_counts(cur, sel)
        data_fp = fingerprint(cur, loader.fingerprint_tables(False))
        pipeline = training = closed = pd.DataFrame()
        notes: list[str] = []
        every = {cell: max(1, n // TRAINING_DEALS_PER_CELL) for cell, n in counts.items()}
        if counts:
            if loader.has_history(cur):  # one pass: monthly training snapshots and the pipeline today
                first = booked["date"].min().date()
                dates = [*month_starts(first + timedelta(days=90), as_of - timedelta(days=1)), as_of]
                # A cell's win model learns from at most MAX_TRAIN_ROWS snapshots, so on big
                # warehouses its training months keep whole histories of a 1-in-N sample of its
                # deals; the as-of date keeps every open deal.
                key = (data_fp, sel.key(), tuple(dates), tuple(sorted(every.items())))
                frames = _snapshots.get_or_make(
                    key,
                    lambda: loader.snapshots(
                        cur, sel, dates, label_before=as_of, sample_every=every, keep_all_on=as_of
                    ),
                )
                today = (frames["snapshot"] == pd.Timestamp(as_of)).to_numpy()
                pipeline = frames[today].reset_index(drop=True)
                training = frames[~today].reset_index(drop=True)
            else:
                if params.as_of is not None:
                    notes.append(
                        "The warehouse has no opportunity history: the pipeline is taken as it stands today, "
                        "not as of the requested date."
                    )
                pipeline = loader.open_pipeline(cur, sel, as_of)
            closed = loader.closed_deals(cur, sel, as_of - timedelta(days=365), ctx.booked_until)
        targets = load_targets(cur, sel)
        quotas = load_quotas(cur, sel)
        reps = loader.reps(cur, sel)
        stages = loader.stage_defaults(cur)
        use = None
        if params.scenario_id is not None:
            scenario = load_scenario(cur, params.scenario_id)
            scenario.check_scope(scope)
            use = ScenarioUse(scenario)
            if scenario.account_moves:
                pipeline = scenario.with_moves(pipeline)
                if len(pipeline):
                    pipeline["rep"] = pipeline["owner_rep_id"]
                use.used.append(
                    f"{len(scenario.account_moves)} account moves: their open deals go to the new owners "
                    "(booked history stays with whoever booked it)"
                )
            if scenario.quota_changes:
                quotas = scenario.overlay(quotas, "quotas")
                use.used.append(f"{len(scenario.quota_changes)} quota rows: the targets of rep and team series")
            territories = [c for c in scenario.changes if c.table == "accounts" and c.column == "territory_id"]
            if territories:
                use.ignored.append(f"{len(territories)} territory assignments (a forecast does not depend on them)")
        fp = data_fp if use is None else fingerprint(cur, loader.fingerprint_tables(True))
    return Loaded(
        ctx=ctx,
        selection=sel,
        bookings=booked,
        pipeline=pipeline,
        training=training,
        closed=closed,
        stage_defaults=stages,
        targets=targets,
        quotas=quotas,
        reps=reps,
        fingerprint=fp,
        has_opportunities=bool(counts),
        deal_sample=every,
        notes=notes,
        scenario=use,
    )
