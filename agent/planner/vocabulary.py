"""The warehouse's names and calendar, read once per run for the offline planner."""

from __future__ import annotations

from dataclasses import replace

from agent.planner.slots import Vocabulary
from tools.core.context import PlanContext
from warehouse.connection import Warehouse
from warehouse.identity import Scope


def _within(names: tuple[str, ...], scope: Scope | None, kind: str) -> tuple[str, ...]:
    if scope is not None and scope.kind == kind and scope.value:
        return tuple(n for n in names if n.lower() == scope.value.lower())
    return names


def load_vocabulary(warehouse: Warehouse, scope: Scope | None = None) -> Vocabulary:
    """The names a request may use; a region- or segment-scoped user's "every region" is their own."""
    with warehouse.reader() as cur:
        ctx = PlanContext.read(cur)

        def names(sql: str) -> tuple[str, ...]:
            return tuple(str(r[0]) for r in cur.execute(sql).fetchall() if r[0])

        reps = {
            str(name): str(rep_id) for rep_id, name in cur.execute("SELECT rep_id, name FROM reps").fetchall() if name
        }
        vocab = Vocabulary(
            as_of=ctx.as_of,
            calendar=ctx.calendar,
            regions=names("SELECT name FROM regions ORDER BY sort_order, name"),
            segments=names("SELECT name FROM segments ORDER BY sort_order, name"),
            products=names("SELECT name FROM products ORDER BY sort_order, name"),
            reps=reps,
            scenarios=names("SELECT name FROM scenarios ORDER BY created_at"),
        )
    # Every name stays matchable (asking for APAC outside your scope must be refused, not
    # misread); "every region" of a region-scoped user is their own.
    return replace(vocab, every_region=_within(vocab.regions, scope, "region"))
