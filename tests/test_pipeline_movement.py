"""Pipeline movement (tools/pipeline): each flow on a constructed history, the reconciliation
start + flows = end, the days people name, and the tool and command on the demo company."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from tools.core.days import parse_day
from tools.pipeline.movement import CloseWindow, movement, reconcile, stage_moves, states
from warehouse.calendar import FiscalCalendar
from warehouse.errors import InputError

CLOSED, WON = {"Won", "Lost"}, {"Won"}
ORDER = {"Qualify": 1, "Propose": 2, "Negotiate": 3, "Won": 4, "Lost": 5}
START, END = date(2026, 11, 1), date(2026, 11, 30)
Q = CloseWindow(date(2026, 11, 1), date(2027, 2, 1), "FY2027-Q4")


def _history(*rows: tuple[str, str, str, float, str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["opp_id", "changed_date", "stage", "amount", "close_date"])
    frame["seq"] = frame.groupby("opp_id").cumcount() + 1
    frame["changed_date"] = pd.to_datetime(frame["changed_date"])
    frame["close_date"] = pd.to_datetime(frame["close_date"])
    return frame


# One deal per flow, plus one that stays put and one that only changes stage.
HISTORY = _history(
    ("NEW", "2026-11-10", "Qualify", 100.0, "2026-12-15"),
    ("PULL", "2026-10-01", "Qualify", 200.0, "2027-03-01"),
    ("PULL", "2026-11-12", "Propose", 200.0, "2027-01-15"),
    ("REOPEN", "2026-09-01", "Qualify", 50.0, "2026-12-01"),
    ("REOPEN", "2026-10-20", "Lost", 50.0, "2026-12-01"),
    ("REOPEN", "2026-11-20", "Qualify", 60.0, "2026-12-20"),
    ("UP", "2026-10-01", "Propose", 300.0, "2026-12-10"),
    ("UP", "2026-11-15", "Propose", 350.0, "2026-12-10"),
    ("DOWN", "2026-10-01", "Negotiate", 400.0, "2026-12-10"),
    ("DOWN", "2026-11-15", "Propose", 250.0, "2026-12-10"),
    ("PUSH", "2026-10-01", "Propose", 500.0, "2026-12-20"),
    ("PUSH", "2026-11-25", "Propose", 500.0, "2027-04-01"),
    ("WIN", "2026-10-01", "Negotiate", 600.0, "2026-11-20"),
    ("WIN", "2026-11-20", "Won", 650.0, "2026-11-20"),
    ("LOSE", "2026-10-01", "Qualify", 700.0, "2026-12-31"),
    ("LOSE", "2026-11-05", "Lost", 700.0, "2026-12-31"),
    ("STAY", "2026-10-01", "Qualify", 800.0, "2026-12-31"),
    ("STEP", "2026-10-01", "Qualify", 900.0, "2026-12-31"),
    ("STEP", "2026-11-03", "Negotiate", 900.0, "2026-12-31"),
    ("LATER", "2026-10-01", "Qualify", 1000.0, "2027-05-01"),  # outside the window throughout
)
CREATED = {"NEW": "2026-11-10", "REOPEN": "2026-09-01", "PULL": "2026-10-01"}


def _deals(history: pd.DataFrame = HISTORY) -> pd.DataFrame:
    last = history.groupby("opp_id").tail(1).set_index("opp_id")
    first = history.groupby("opp_id").head(1).set_index("opp_id")
    return pd.DataFrame(
        {
            "opp_id": last.index,
            "created_date": pd.to_datetime(first["changed_date"]).to_numpy(),
            "stage": last["stage"].to_numpy(),
            "amount": last["amount"].to_numpy(),
            "close_date": last["close_date"].to_numpy(),
            "region": ["EMEA" if i % 2 else "NA" for i in range(len(last))],
        }
    )


def _move(window: CloseWindow | None = Q, history: pd.DataFrame = HISTORY, deals: pd.DataFrame | None = None):  # type: ignore[no-untyped-def]
    return movement(
        _deals(history) if deals is None else deals,
        history,
        START,
        END,
        closed_stages=CLOSED,
        won_stages=WON,
        window=window,
    )


def test_each_deal_gets_its_flow_at_the_amount_that_moved() -> None:
    m = _move()
    flows = dict(zip(m.deals["opp_id"], m.deals["flow"], strict=True))
    amounts = dict(zip(m.deals["opp_id"], m.deals["flow_amount"], strict=True))
    assert flows == {
        "NEW": "new",
        "PULL": "pulled_in",
        "REOPEN": "reopened",
        "UP": "amount_up",
        "DOWN": "amount_down",
        "PUSH": "pushed_out",
        "WIN": "won",
        "LOSE": "lost",
        "STAY": None,
        "STEP": None,
    }  # LATER never closes in the window: not in either pipeline
    # Entries at their end amount, exits at their start amount, changes by the difference.
    assert (amounts["NEW"], amounts["PULL"], amounts["REOPEN"]) == (100, 200, 60)
    assert (amounts["UP"], amounts["DOWN"]) == (50, 150)
    assert (amounts["PUSH"], amounts["WIN"], amounts["LOSE"]) == (500, 600, 700)


def test_the_flows_reconcile_start_to_end() -> None:
    t = _move().totals()
    # Start: UP 300 + DOWN 400 + PUSH 500 + WIN 600 + LOSE 700 + STAY 800 + STEP 900.
    assert t["start"] == 4200
    # End: NEW 100 + PULL 200 + REOPEN 60 + UP 350 + DOWN 250 + STAY 800 + STEP 900.
    assert t["end"] == 2660
    assert reconcile(t) == pytest.approx(0.0)
    assert t == {**t, "new": 100, "pulled_in": 200, "reopened": 60, "amount_up": 50, "amount_down": 150}
    assert (t["pushed_out"], t["won"], t["lost"]) == (500, 600, 700)


def test_without_a_window_a_push_moves_nothing_out() -> None:
    m = _move(window=None)
    flows = dict(zip(m.deals["opp_id"], m.deals["flow"], strict=True))
    assert flows["PUSH"] is None and flows["PULL"] is None and flows["LATER"] is None
    assert reconcile(m.totals()) == pytest.approx(0.0)


def test_stage_moves_name_the_direction() -> None:
    moves = stage_moves(_move().deals, ORDER)
    rows = {(r["from_stage"], r["to_stage"]): r for r in moves.to_dict("records")}
    assert rows[("Qualify", "Negotiate")]["direction"] == "forward" and rows[("Qualify", "Negotiate")]["amount"] == 900
    assert rows[("Negotiate", "Propose")]["direction"] == "back" and rows[("Negotiate", "Propose")]["deals"] == 1


def test_a_deal_without_history_is_taken_as_it_stands_now() -> None:
    deals = pd.concat(
        [
            _deals(),
            pd.DataFrame(
                {
                    "opp_id": ["BARE"],
                    "created_date": [pd.Timestamp("2026-10-01")],
                    "stage": ["Won"],
                    "amount": [90.0],
                    "close_date": [pd.Timestamp("2026-11-20")],
                    "region": ["NA"],
                }
            ),
        ],
        ignore_index=True,
    )
    m = _move(deals=deals)
    bare = m.deals.set_index("opp_id").loc["BARE"]
    assert bare["flow"] == "won" and bare["flow_amount"] == 90  # open until its close date, won since
    assert m.without_history == 1
    assert reconcile(m.totals()) == pytest.approx(0.0)


def test_a_state_before_the_first_record_is_that_first_record() -> None:
    s = states(_deals(), HISTORY, date(2026, 9, 15), CLOSED).set_index("opp_id")
    assert s.loc["REOPEN", "stage"] == "Qualify"  # its first change was 2026-09-01
    assert "NEW" not in s.index  # created later


def test_the_end_date_must_follow_the_start() -> None:
    with pytest.raises(ValueError, match="before the start"):
        movement(_deals(), HISTORY, END, START, closed_stages=CLOSED, won_stages=WON)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-23", date(2026, 11, 23)),
        ("last Monday", date(2026, 11, 30)),  # 2026-12-04 is a Friday
        ("friday", date(2026, 11, 27)),  # the latest Friday before today, not today
        ("yesterday", date(2026, 12, 3)),
        ("last week", date(2026, 11, 27)),
        ("3 days ago", date(2026, 12, 1)),
        ("two weeks ago", date(2026, 11, 20)),
        ("last month", date(2026, 11, 4)),
        ("quarter start", date(2026, 10, 31)),  # FY starts in February: Q4 starts 2026-11-01
        ("the start of the month", date(2026, 11, 30)),
        ("since QTD", date(2026, 10, 31)),
    ],
)
def test_days_people_name(text: str, expected: date) -> None:
    assert parse_day(text, date(2026, 12, 4), FiscalCalendar(2)) == expected


def test_an_unknown_day_names_the_forms() -> None:
    with pytest.raises(InputError, match="not a day") as caught:
        parse_day("the blue moon", date(2026, 12, 4), FiscalCalendar(2))
    assert "last Monday" in (caught.value.hint or "")


def test_the_demo_movement_ends_at_todays_pipeline(demo_path: Path) -> None:
    """The end of the movement is the pipeline the opportunities table holds now, and the
    start plus the flows reach it exactly."""
    import duckdb

    from tools.pipeline.models import MovementInput
    from tools.pipeline.tool import run_movement
    from warehouse.connection import Warehouse

    result = run_movement(Warehouse(demo_path), MovementInput(since="quarter start", by=["region"]))
    window = result.metrics["close_window"]
    with duckdb.connect(str(demo_path), read_only=True) as con:
        (now,) = con.execute(
            "SELECT sum(amount) FROM opportunities WHERE NOT is_closed AND close_date >= ? AND close_date < ?",
            [window["start"], window["end"]],
        ).fetchone() or (0,)
    assert result.metrics["end"] == pytest.approx(now)
    assert result.metrics["reconciliation_residual"] == pytest.approx(0.0, abs=1e-6)
    steps = result.tables["waterfall"]
    assert steps[0]["amount"] + sum(s["amount"] for s in steps[1:-1]) == pytest.approx(steps[-1]["amount"])
    by_region = result.tables["by_group"]
    assert sum(r["end"] for r in by_region) == pytest.approx(now)
    assert result.metrics["flows"]["won"] > 0 and result.metrics["flows"]["new"] > 0


def test_the_command_prints_the_waterfall_and_draws_it(demo_path: Path, tmp_path: Path) -> None:
    from interfaces.cli import app

    runner = CliRunner()
    png = tmp_path / "movement.png"
    shown = runner.invoke(
        app, ["-w", str(demo_path), "pipeline", "movement", "--since", "last monday", "--plot", str(png)]
    )
    assert shown.exit_code == 0, shown.output
    assert "Pipeline movement" in shown.output and "Pushed out" in shown.output
    assert png.stat().st_size > 10_000
    html = tmp_path / "movement.html"
    raw = runner.invoke(
        app, ["-w", str(demo_path), "pipeline", "movement", "--filter", "region=EMEA", "--json", "--plot", str(html)]
    )
    assert raw.exit_code == 0, raw.output
    data = json.loads(raw.stdout)
    assert data["tool"] == "pipeline_movement" and data["metrics"]["filters"] == {"region": ["EMEA"]}
    assert '"measure":["absolute"' in html.read_text(encoding="utf-8")
    bad = runner.invoke(app, ["-w", str(demo_path), "pipeline", "movement", "--since", "someday"])
    assert bad.exit_code != 0 and "not a day" in bad.output
