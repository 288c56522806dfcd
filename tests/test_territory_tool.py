"""The territory tool end to end on the demo warehouse: plans checked independently."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from interfaces.cli import app
from tools.territory.models import TerritoryInput
from tools.territory.tool import run_territory
from warehouse.connection import Warehouse
from warehouse.errors import InputError
from warehouse.scenarios import get_scenario

EMEA = {"filters": {"region": ["EMEA"]}}


@pytest.fixture(scope="module")
def emea(demo_path: Path):  # type: ignore[no-untyped-def]
    return run_territory(Warehouse(demo_path), TerritoryInput(**EMEA))


def _accounts(wh: Warehouse) -> pd.DataFrame:
    with wh.reader() as cur:
        return cur.query_df(
            "SELECT account_id, owner_rep_id, region, segment, potential, zip, country, is_strategic FROM accounts"
        )


def _after(accounts: pd.DataFrame, moves: list[dict]) -> pd.DataFrame:
    out = accounts.copy()
    new = {m["account_id"]: m["to_rep_id"] for m in moves}
    out["owner_rep_id"] = out["account_id"].map(new).fillna(out["owner_rep_id"])
    return out


def test_reported_loads_match_the_moves(emea, demo: Warehouse) -> None:  # type: ignore[no-untyped-def]
    after = _after(_accounts(demo), emea.tables["moves"])
    loads = after.groupby("owner_rep_id")["potential"].sum()
    for rep in emea.tables["reps"]:
        assert rep["potential_after"] == pytest.approx(loads.get(rep["rep_id"], 0.0), abs=0.5)


def test_band_met_where_status_says_so(emea) -> None:  # type: ignore[no-untyped-def]
    band = emea.metrics["band"]
    groups = {g["group"]: g for g in emea.tables["groups"]}
    for rep in emea.tables["reps"]:
        group = groups[f"{rep['region']} {rep['segment']}"]
        if group["status"] in ("optimal", "feasible"):
            assert 1 - band - 1e-6 <= rep["potential_ratio_after"] <= 1 + band + 1e-6
        else:  # infeasible: the plan meets the tightest band instead
            assert abs(rep["potential_ratio_after"] - 1) <= group["band_met"] + 1e-6


def test_locked_accounts_never_move_and_regions_hold(emea, demo: Warehouse) -> None:  # type: ignore[no-untyped-def]
    accounts = _accounts(demo).set_index("account_id")
    with demo.reader() as cur:
        late = {
            r[0]
            for r in cur.execute(
                """SELECT DISTINCT o.account_id FROM opportunities o JOIN stages s ON s.name = o.stage
               WHERE NOT o.is_closed AND o.close_date >= '2026-11-29' AND s.default_probability >= 0.6"""
            ).fetchall()
        }
        reps = dict(cur.execute("SELECT rep_id, region || '/' || segment FROM reps").fetchall())
    for m in emea.tables["moves"]:
        a = accounts.loc[m["account_id"]]
        owner_active = m["from_rep_id"] in {r["rep_id"] for r in emea.tables["reps"]}
        if owner_active:
            assert not a["is_strategic"] and m["account_id"] not in late
        assert reps[m["to_rep_id"]] == f"{a['region']}/{a['segment']}"


def test_lower_bound_and_gap(emea) -> None:  # type: ignore[no-untyped-def]
    for g in emea.tables["groups"]:
        assert g["lower_bound"] <= g["disruption"] + 1e-6
        if g["optimality_gap"] is not None:
            assert 0 <= g["optimality_gap"] < 0.02


def test_deterministic(demo: Warehouse) -> None:
    a = run_territory(demo, TerritoryInput(filters={"region": ["LATAM"]})).model_dump()
    b = run_territory(demo, TerritoryInput(filters={"region": ["LATAM"]})).model_dump()
    for r in (a, b):
        for g in r["tables"]["groups"]:
            g.pop("seconds")
    assert a == b


def test_impossible_band_is_explained(demo: Warehouse) -> None:
    result = run_territory(demo, TerritoryInput(filters={"region": ["NA"], "segment": ["Enterprise"]}, band=0.01))
    assert result.metrics["status"] == "infeasible"
    reasons = " ".join(result.metrics["status_reason"])
    assert (
        "cannot be met" in reasons
        and "no plan can do better" in reasons
        and ("locked" in reasons or " hold" in reasons)
    )
    group = result.tables["groups"][0]
    assert group["tightest_band"] > 0.01 and group["band_met"] >= group["tightest_band"] - 1e-3
    # Several accounts too big for the band make one piece of advice for the group, not one each.
    widen = [r.action for r in result.recommendations if r.action.startswith("Widen the band")]
    assert len(widen) == 1 and re.search(r"\d+ accounts hold \d+%", widen[0]), widen


def test_zip_units_never_split(demo: Warehouse) -> None:
    result = run_territory(demo, TerritoryInput(filters={"region": ["NA"], "segment": ["SMB"]}, unit="zip", band=0.1))
    after = _after(_accounts(demo), result.tables["moves"])
    group = after[(after["region"] == "NA") & (after["segment"] == "SMB")]
    reps = {r["rep_id"] for r in result.tables["reps"]}
    owned = group[group["owner_rep_id"].isin(reps)]
    assert (owned.groupby(["country", "zip"])["owner_rep_id"].nunique() == 1).all()


def test_disruption_cap_is_respected(demo: Warehouse) -> None:
    capped = run_territory(demo, TerritoryInput(**EMEA, max_disruption=0.02, lock=[]))
    assert capped.metrics["disruption"]["value_share"] <= 0.02 + 1e-9 or capped.metrics["disruption"]["value"] == 0
    free = run_territory(demo, TerritoryInput(**EMEA, lock=[]))
    assert capped.metrics["after"]["potential"]["cv"] >= free.metrics["after"]["potential"]["cv"] - 1e-9


def test_explicit_locks_and_errors(demo: Warehouse, emea) -> None:  # type: ignore[no-untyped-def]
    moved = [
        m["account_id"] for m in emea.tables["moves"] if m["from_rep_id"] in {r["rep_id"] for r in emea.tables["reps"]}
    ][:3]
    again = run_territory(demo, TerritoryInput(**EMEA, lock=["strategic", "late-stage", *moved]))
    assert not set(moved) & {m["account_id"] for m in again.tables["moves"]}
    with pytest.raises(InputError, match="Unknown lock"):
        run_territory(demo, TerritoryInput(**EMEA, lock=["A-NOPE"]))
    with pytest.raises(InputError, match="Unknown region"):
        run_territory(demo, TerritoryInput(filters={"region": ["Mars"]}))


def test_save_scenario_and_evaluate_with_forecast(demo_copy: Warehouse) -> None:
    from tools.forecast.models import ForecastInput
    from tools.forecast.tool import run_forecast

    result = run_territory(demo_copy, TerritoryInput(**EMEA, save_scenario="emea-balance"))
    with demo_copy.reader() as cur:
        scenario = get_scenario(cur, "emea-balance")
    moves = len(result.tables["moves"])
    assert scenario.kind == "territory" and scenario.changes == moves  # rows: one per moved account
    # The approval counts what the moves table shows (each move also updates the territory).
    from tools.scenarios.apply import describe

    approval = describe(demo_copy, {"scenario": "emea-balance"})
    assert approval["changes"] == moves and approval["field_changes"] > moves
    assert f"changes {moves:,} accounts (owner_rep_id on {moves:,}" in approval["summary"]
    assert result.metrics["saved_scenario"]["changes"] == moves
    forecast = run_forecast(
        demo_copy, ForecastInput(filters={"region": ["EMEA"]}, scenario_id="emea-balance", trials=500, horizon=1)
    )
    assert forecast.metrics["scenario"]["accounts_moved"] == len(result.tables["moves"])


def test_cli_json_and_maps(demo_path: Path, tmp_path: Path) -> None:
    html, png = tmp_path / "map.html", tmp_path / "map.png"
    result = CliRunner().invoke(
        app, ["-w", str(demo_path), "territory", "rebalance", "--filter", "region=LATAM", "--map", str(html), "--json"]
    )
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)  # nothing but JSON on stdout
    assert {"before", "after", "disruption", "lower_bound", "optimality_gap", "status"} <= set(data["metrics"])
    assert {"cv", "min_ratio", "max_ratio", "reps_outside_band"} <= set(data["metrics"]["before"]["potential"])
    if data["tables"]["moves"]:
        assert {"account_id", "from_rep_id", "to_rep_id", "value", "reason"} <= set(data["tables"]["moves"][0])
    assert html.stat().st_size > 50_000 and "plotly" in html.read_text()[:5_000_000].lower()
    human = CliRunner().invoke(
        app,
        [
            "-w",
            str(demo_path),
            "territory",
            "rebalance",
            "--filter",
            "region=LATAM",
            "--band",
            "10%",
            "--map",
            str(png),
        ],
    )
    assert human.exit_code == 0 and png.stat().st_size > 10_000 and "Groups" in human.stdout
    assert np.isfinite(data["metrics"]["objective"])


def test_pareto_trades_balance_for_disruption(demo: Warehouse) -> None:
    """Each cap's plan moves no more than it allows, and more room to move never leaves the
    balance worse; the plan that meets the band closes the table."""
    result = run_territory(demo, TerritoryInput(**EMEA, pareto=[0.01, 0.05, 0.2]))
    rows = result.tables["pareto"]
    assert [r["cap"] for r in rows] == [0.01, 0.05, 0.2, None]
    for r in rows[:-1]:
        assert r["moved_share"] <= r["cap"] + 1e-6
    capped = rows[:-1]
    for tighter, looser in itertools.pairwise(capped):
        assert looser["excess"] <= tighter["excess"] * 1.01 + 1e-3  # within the MIP's gap
    assert capped[0]["reps_outside_band"] > rows[-1]["reps_outside_band"]  # 1% cannot balance EMEA
    assert rows[-1]["moved_share"] == pytest.approx(result.metrics["disruption"]["value_share"], abs=1e-3)
