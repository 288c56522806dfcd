"""The warehouse's names and calendar, read once per run for the offline planner."""

from __future__ import annotations

from agent.planner.slots import Vocabulary
from tools.core.context import PlanContext
from warehouse.connection import Warehouse


def load_vocabulary(warehouse: Warehouse) -> Vocabulary:
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
    return vocab
