"""Scenarios: saved overlays, evaluated by tools without touching base data, applied atomically."""

from __future__ import annotations

import pandas as pd
import pytest

from tools.forecast.models import ForecastInput
from tools.forecast.tool import run_forecast
from warehouse.connection import Warehouse
from warehouse.errors import ConflictError, InputError, NotFoundError, PermissionDeniedError
from warehouse.identity import Scope
from warehouse.scenarios import (
    Change,
    apply_scenario,
    get_scenario,
    list_scenarios,
    overlay,
    save_scenario,
    scenario_changes,
)


def _moves(wh: Warehouse, source: str, target: str) -> list[Change]:
    with wh.reader() as cur:
        accounts = [
            r[0]
            for r in cur.execute(
                "SELECT account_id FROM accounts WHERE owner_rep_id = ? ORDER BY 1", [source]
            ).fetchall()
        ]
    return [Change("accounts", (("account_id", a),), "owner_rep_id", source, target) for a in accounts]


def _busiest_reps(wh: Warehouse) -> tuple[str, str]:
    with wh.reader() as cur:
        rows = cur.execute(
            """SELECT o.owner_rep_id FROM opportunities o JOIN reps r ON r.rep_id = o.owner_rep_id
               WHERE NOT o.is_closed AND r.end_date IS NULL AND r.role = 'AE' AND r.region = 'NA'
               GROUP BY 1 ORDER BY sum(o.amount) DESC LIMIT 2"""
        ).fetchall()
    return rows[0][0], rows[1][0]


def test_save_list_get_and_changes_round_trip(demo_copy: Warehouse) -> None:
    a, b = _busiest_reps(demo_copy)
    moves = _moves(demo_copy, a, b)
    with demo_copy.writer() as cur:
        saved = save_scenario(cur, name="move-a-to-b", kind="territory", changes=moves, params={"x": 1})
    with demo_copy.reader() as cur:
        assert get_scenario(cur, "move-a-to-b").scenario_id == saved.scenario_id
        assert get_scenario(cur, saved.scenario_id).changes == len(moves)
        assert scenario_changes(cur, saved.scenario_id) == moves
        assert [s.name for s in list_scenarios(cur)] == ["move-a-to-b"]
        with pytest.raises(NotFoundError, match="nope") as info:
            get_scenario(cur, "nope")
        assert saved.scenario_id in (info.value.hint or "")
    with demo_copy.writer() as cur, pytest.raises(ConflictError):
        save_scenario(cur, name="move-a-to-b", kind="territory", changes=[])


def test_only_allow_listed_cells_can_change() -> None:
    with pytest.raises(InputError):
        Change("accounts", (("account_id", "A1"),), "arr", "1", "2")
    with pytest.raises(InputError):
        Change("quotas", (("rep_id", "R1"),), "amount", "1", "2")


def test_overlay_updates_and_inserts() -> None:
    quotas = pd.DataFrame({"rep_id": ["R1", "R2"], "period": ["FY2027-Q1"] * 2, "amount": [100.0, 200.0]})
    changes = [
        Change("quotas", (("rep_id", "R1"), ("period", "FY2027-Q1")), "amount", "100", "150"),
        Change("quotas", (("rep_id", "R3"), ("period", "FY2027-Q1")), "amount", None, "90"),
    ]
    out = overlay(quotas, changes, "quotas")
    assert out.set_index("rep_id")["amount"].to_dict() == {"R1": 150.0, "R2": 200.0, "R3": 90.0}
    assert quotas["amount"].tolist() == [100.0, 200.0]  # the input is not modified


def test_forecast_evaluates_a_territory_scenario(demo_copy: Warehouse) -> None:
    a, b = _busiest_reps(demo_copy)
    with demo_copy.writer() as cur:
        save_scenario(cur, name="consolidate", kind="territory", changes=_moves(demo_copy, a, b))
    params = {"by": ["rep"], "filters": {"region": ["NA"]}, "trials": 1000, "horizon": 2}
    base = pd.DataFrame(run_forecast(demo_copy, ForecastInput(**params)).tables["current_period"])
    moved = run_forecast(demo_copy, ForecastInput(**params, scenario_id="consolidate"))
    after = pd.DataFrame(moved.tables["current_period"])
    pipe = lambda f, rep: f.loc[f["rep"] == rep, "pipeline"].item()  # noqa: E731
    assert pipe(after, a) == 0 and pipe(base, a) > 0
    assert pipe(after, b) == pytest.approx(pipe(base, a) + pipe(base, b))
    total = lambda f: f.loc[f["rep"] == "All", "pipeline"].item()  # noqa: E731
    assert total(after) == pytest.approx(total(base))
    assert moved.metrics["scenario"]["accounts_moved"] > 0
    with pytest.raises(PermissionDeniedError, match="territory scenario"):
        run_forecast(demo_copy, ForecastInput(scenario_id="consolidate"), scope=Scope("own", a))


def test_apply_writes_once_and_detects_stale_scenarios(demo_copy: Warehouse) -> None:
    a, b = _busiest_reps(demo_copy)
    moves = _moves(demo_copy, a, b)
    with demo_copy.writer() as cur:
        first = save_scenario(cur, name="one", kind="territory", changes=moves)
        second = save_scenario(cur, name="two", kind="territory", changes=moves)
    with demo_copy.writer() as cur:
        assert apply_scenario(cur, first.scenario_id, approved_by="admin") == len(moves)
    with demo_copy.reader() as cur:
        assert cur.scalar("SELECT count(*) FROM accounts WHERE owner_rep_id = ?", [a]) == 0
        assert get_scenario(cur, "one").status == "applied"
    # The second scenario expected the old owner: applying it now must fail and change nothing.
    with pytest.raises(ConflictError, match="changed since"), demo_copy.writer() as cur:
        apply_scenario(cur, second.scenario_id, approved_by="admin")
    with demo_copy.reader() as cur:
        assert get_scenario(cur, "two").status == "draft"
