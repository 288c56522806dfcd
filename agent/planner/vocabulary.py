"""The warehouse's names and calendar, read once per run for the offline planner."""

from __future__ import annotations

from datetime import date

from agent.planner.slots import Vocabulary
from warehouse.calendar import FiscalCalendar
from warehouse.connection import Warehouse


def load_vocabulary(warehouse: Warehouse) -> Vocabulary:
    with warehouse.reader() as cur:
        meta = dict(cur.execute("SELECT key, value FROM meta").fetchall())

        def names(sql: str) -> tuple[str, ...]:
            return tuple(str(r[0]) for r in cur.execute(sql).fetchall() if r[0])

        reps = {
            str(name): str(rep_id) for rep_id, name in cur.execute("SELECT rep_id, name FROM reps").fetchall() if name
        }
        vocab = Vocabulary(
            as_of=date.fromisoformat(meta["as_of"]) if "as_of" in meta else date.today(),
            calendar=FiscalCalendar(int(meta.get("fiscal_year_start_month", "1"))),
            regions=names("SELECT name FROM regions ORDER BY sort_order, name"),
            segments=names("SELECT name FROM segments ORDER BY sort_order, name"),
            products=names("SELECT name FROM products ORDER BY sort_order, name"),
            reps=reps,
            scenarios=names("SELECT name FROM scenarios ORDER BY created_at"),
        )
    return vocab
