"""Forecast calls: submitting (versions, who may call for whom, the audit run), the accuracy of
past calls (closed form), and the roll-up beside closed, categories and the model on the demo."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

from interfaces.cli import app
from interfaces.settings import get_settings
from tools.forecast.calls import accuracy, standing
from tools.forecast.rollup import run_rollup
from warehouse.connection import Warehouse
from warehouse.errors import InputError, NotFoundError, PermissionDeniedError
from warehouse.forecast_calls import read_calls, submit_call
from warehouse.identity import Scope

# --- the kernel: standing calls and accuracy ---------------------------------------------------


def _calls(*rows: tuple[str, str, str, float, int, str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["caller_rep_id", "period", "category", "amount", "version", "submitted_at"])


CALLS = _calls(
    ("M1", "Q1", "commit", 90.0, 1, "2026-01-10"),
    ("M1", "Q1", "commit", 110.0, 2, "2026-03-20"),
    ("M1", "Q1", "commit", 500.0, 3, "2026-04-05"),  # after Q1 ended: not the call that stood
    ("M1", "Q2", "commit", 180.0, 1, "2026-05-01"),
    ("M1", "Q2", "best_case", 260.0, 1, "2026-05-01"),
    ("R1", "Q1", "commit", 50.0, 1, "2026-02-01"),
    ("R2", "Q1", "commit", 70.0, 1, "2026-02-01"),  # R2 booked nothing: not scored
)
ENDS = {"Q1": datetime(2026, 4, 1), "Q2": datetime(2026, 7, 1)}
BOOKED = pd.DataFrame(
    [("M1", "Q1", 100.0), ("M1", "Q2", 200.0), ("R1", "Q1", 40.0), ("R2", "Q1", 0.0)],
    columns=["caller_rep_id", "period", "booked"],
)


def test_the_standing_call_is_the_latest_version_up_to_a_moment() -> None:
    now = standing(CALLS).set_index(["caller_rep_id", "period", "category"])["amount"]
    assert now[("M1", "Q1", "commit")] == 500 and now[("M1", "Q2", "best_case")] == 260
    at_end = standing(CALLS, ENDS["Q1"]).set_index(["caller_rep_id", "period", "category"])["amount"]
    assert at_end[("M1", "Q1", "commit")] == 110


def test_accuracy_compares_the_call_standing_at_the_end_with_what_was_booked() -> None:
    scores = accuracy(CALLS, BOOKED, ENDS)
    m1 = scores["M1"]  # Q1: 110 vs 100 (+10%), Q2: 180 vs 200 (-10%)
    assert m1.periods == 2
    assert m1.mean_abs_error == pytest.approx(0.10) and m1.bias == pytest.approx(0.0)
    assert scores["R1"].mean_abs_error == pytest.approx(0.25) and scores["R1"].bias == pytest.approx(0.25)
    assert "R2" not in scores
    assert "within 25%" in scores["R1"].text() and "calls high" in scores["R1"].text()


# --- submitting --------------------------------------------------------------------------------


def _submit(wh: Warehouse, scope: Scope, caller: str | None = None, amount: float = 1e6, **extra: str) -> object:
    with wh.writer() as cur:
        return submit_call(
            cur,
            scope=scope,
            caller=caller,
            period=extra.get("period", "FY2027-Q4"),
            category_=extra.get("category", "commit"),
            amount=amount,
            comment=extra.get("comment"),
            submitted_by="tester",
        )


def test_each_submission_is_the_next_version_and_none_is_overwritten(demo_copy: Warehouse) -> None:
    manager = Scope("team", "R-00001")
    with demo_copy.reader() as cur:
        before = read_calls(cur, "FY2027-Q4", "R-00001")
    first = _submit(demo_copy, manager, amount=2.9e6, comment="two deals in legal")
    second = _submit(demo_copy, manager, amount=3.1e6)
    versions = before.loc[before["category"] == "commit", "version"]
    start = int(versions.max()) if len(versions) else 0
    assert (first.version, second.version) == (start + 1, start + 2)  # type: ignore[attr-defined]
    assert first.book == "team" and first.comment == "two deals in legal"  # type: ignore[attr-defined]
    with demo_copy.reader() as cur:
        after = read_calls(cur, "FY2027-Q4", "R-00001")
    assert len(after) == len(before) + 2
    assert set(after["amount"]) >= {2.9e6, 3.1e6}
    assert standing(after).query("category == 'commit'")["amount"].item() == 3.1e6


@pytest.mark.parametrize(
    ("scope", "caller", "allowed"),
    [
        (Scope("own", "R-00014"), None, True),  # a rep calls for themself
        (Scope("own", "R-00014"), "R-00018", False),  # ... not for a colleague
        (Scope("team", "R-00001"), "R-00014", True),  # a manager for a rep of the team
        (Scope("team", "R-00001"), "R-00002", False),  # ... not for another manager
        (Scope("all"), "R-00002", True),
    ],
)
def test_who_may_call_for_whom(demo_copy: Warehouse, scope: Scope, caller: str | None, allowed: bool) -> None:
    if allowed:
        assert _submit(demo_copy, scope, caller).caller_rep_id == (caller or scope.value)  # type: ignore[attr-defined]
    else:
        with pytest.raises(PermissionDeniedError, match="outside"):
            _submit(demo_copy, scope, caller)


def test_bad_calls_get_clear_errors(demo_copy: Warehouse) -> None:
    with pytest.raises(InputError, match="Whose call") as whose:
        _submit(demo_copy, Scope("all"))
    assert "--for" in (whose.value.hint or "")
    with pytest.raises(InputError, match="not a call category"):
        _submit(demo_copy, Scope("all"), "R-00001", category="stretch")
    with pytest.raises(InputError, match="plausible"):
        _submit(demo_copy, Scope("all"), "R-00001", amount=-5)
    with pytest.raises(NotFoundError, match="No rep"):
        _submit(demo_copy, Scope("all"), "R-99999")


@pytest.fixture
def as_manager(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("SPM_USER", "manager")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_the_command_records_the_call_and_its_refusals_in_the_audit_trail(
    demo_copy: Warehouse, as_manager: None
) -> None:
    runner = CliRunner()
    path = str(demo_copy.path)
    ok = runner.invoke(app, ["-w", path, "forecast", "call", "2.4M", "--comment", "Jack's deal lands"])
    assert ok.exit_code == 0, ok.output
    assert "Leila Walker (R-00001) calls FY2027-Q4 commit $2.40M" in ok.stderr
    refused = runner.invoke(app, ["-w", path, "forecast", "call", "400K", "--for", "R-00002"])
    assert refused.exit_code != 0 and "outside the team of manager R-00001" in refused.stderr
    with duckdb.connect(path, read_only=True) as con:
        runs = con.execute(
            "SELECT r.status, s.args FROM audit_runs r JOIN audit_steps s USING (run_id) "
            "WHERE r.question LIKE 'spm forecast call%' AND s.kind = 'write' ORDER BY r.started_at"
        ).fetchall()
        stored = con.execute(
            "SELECT amount, submitted_by, run_id FROM forecast_calls WHERE comment = ?", ["Jack's deal lands"]
        ).fetchone()
    assert [status for status, _ in runs] == ["ok", "refused"]
    args = json.loads(runs[0][1])
    assert args["caller_rep_id"] == "R-00001" and args["amount"] == 2.4e6 and args["action"] == "submit_forecast_call"
    assert stored is not None and stored[:2] == (2.4e6, "manager") and stored[2]
    listed = runner.invoke(app, ["-w", path, "forecast", "calls", "--period", "this quarter", "--json"])
    rows = json.loads(listed.stdout)
    with duckdb.connect(path, read_only=True) as con:
        team = {
            r
            for (r,) in con.execute(
                "SELECT rep_id FROM reps WHERE manager_id = 'R-00001' OR rep_id = 'R-00001'"
            ).fetchall()
        }
    # A manager sees the calls of the team and no one else's; the newest version first.
    assert rows and {r["caller_rep_id"] for r in rows} <= team and len({r["caller_rep_id"] for r in rows}) > 1
    mine = [r for r in rows if r["caller_rep_id"] == "R-00001" and r["category"] == "commit"]
    assert (
        mine[0]["amount"] == 2.4e6
        and mine[0]["comment"] == "Jack's deal lands"
        and mine[0]["submitted_by"] == "manager"
    )


# --- the roll-up ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rolled(demo_path: Path) -> object:
    return run_rollup(Warehouse(demo_path))


def test_the_rollup_figures_are_the_warehouses_own(demo_path: Path, rolled: object) -> None:
    rows = rolled.tables["rollup"]  # type: ignore[attr-defined]
    total, teams = rows[-1], rows[:-1]
    period = rolled.metrics["period"]  # type: ignore[attr-defined]
    with duckdb.connect(str(demo_path), read_only=True) as con:
        (start,) = con.execute("SELECT min(date) FROM bookings WHERE date >= DATE '2026-11-01'").fetchone() or (None,)
        closed = con.execute("SELECT sum(amount) FROM bookings WHERE date >= DATE '2026-11-01'").fetchone()[0]  # type: ignore[index]
        commit = con.execute(
            "SELECT sum(amount) FROM opportunities WHERE NOT is_closed AND forecast_category = 'Commit' "
            "AND close_date >= DATE '2026-11-01' AND close_date < DATE '2027-02-01'"
        ).fetchone()[0]  # type: ignore[index]
    assert period == "FY2027-Q4" and start is not None
    # Every team row adds up to the total, and the total is the warehouse's (reps without a
    # manager, if any, would be missing: the demo's AEs all have one).
    assert total["closed"] == pytest.approx(sum(t["closed"] for t in teams)) == pytest.approx(closed)
    assert total["commit"] == pytest.approx(commit)
    assert all(t["manager_call"] is not None for t in teams)  # the demo's history has every team calling
    assert all(t["calls_scored"] == 4 for t in teams) and all(t["call_accuracy"] is not None for t in teams)
    assert total["p10"] <= total["p50"] <= total["p90"]


def test_a_teams_model_range_is_the_forecast_tools_for_that_team(demo_path: Path, rolled: object) -> None:
    from tools.forecast.models import ForecastInput
    from tools.forecast.tool import run_forecast

    team = rolled.tables["rollup"][0]  # type: ignore[attr-defined]
    direct = run_forecast(
        Warehouse(demo_path), ForecastInput(horizon=1, trials=2_000, filters={"manager": [team["caller"]]})
    )
    row = next(r for r in direct.tables["current_period"] if r["level"] == "total")
    assert team["p50"] == pytest.approx(row["p50"]) and team["p10"] == pytest.approx(row["p10"])


def test_one_team_rep_by_rep_and_a_scoped_caller(demo_path: Path) -> None:
    team = run_rollup(Warehouse(demo_path), manager="R-00001")
    rows = team.tables["rollup"]
    assert rows[-1]["level"] == "team" and rows[-1]["caller"] == "R-00001"
    assert {r["level"] for r in rows[:-1]} == {"rep"}
    assert sum(r["closed"] for r in rows[:-1]) <= rows[-1]["closed"] + 1e-6  # the manager's own deals too
    assert "the team of Leila Walker (R-00001)" in team.summary
    mine = run_rollup(Warehouse(demo_path), scope=Scope("team", "R-00001"))
    assert [r["caller"] for r in mine.tables["rollup"] if r["level"] == "team"] == ["R-00001"]
    with pytest.raises(PermissionDeniedError, match="outside"):
        run_rollup(Warehouse(demo_path), manager="R-00002", scope=Scope("team", "R-00001"))
