"""The forecast tool end to end on the demo warehouse and on a bookings-only warehouse."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from interfaces.cli import app
from tests.conftest import AS_OF
from tools.forecast.models import ForecastInput, WhatIf
from tools.forecast.tool import run_forecast
from warehouse.connection import Warehouse
from warehouse.errors import InputError, PermissionDeniedError
from warehouse.identity import Scope
from warehouse.importers import import_files

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def by_region(demo_path: Path):  # type: ignore[no-untyped-def]
    return run_forecast(Warehouse(demo_path), ForecastInput(by=["region"], trials=2000))


def _rows(result, table: str = "forecast") -> pd.DataFrame:  # type: ignore[no-untyped-def]
    return pd.DataFrame(result.tables[table])


def test_result_carries_the_contract(by_region) -> None:  # type: ignore[no-untyped-def]
    r = by_region
    assert r.tool == "forecast" and r.summary and r.data_fingerprint.startswith("sha256:")
    bt = r.metrics["backtest"]
    assert {"mase", "wape", "bias", "coverage_80"} <= set(bt) and bt["points"] > 0
    wm = r.metrics["win_model"]
    assert wm["brier"] < wm["brier_stage_default"] and wm["brier"] < wm["brier_base_rate"]
    assert r.tables["reliability"]
    assert r.metrics["first_period"] == "FY2028-Q1"  # as-of 2026-11-29 is inside FY2027-Q4
    assert set(_rows(r, "current_period")["period"]) == {"FY2027-Q4"}


def test_intervals_are_ordered(by_region) -> None:  # type: ignore[no-untyped-def]
    for table in ("forecast", "current_period"):
        f = _rows(by_region, table)
        assert (f["p10"] <= f["p50"] + 1e-6).all() and (f["p50"] <= f["p90"] + 1e-6).all()


def test_means_add_up_across_the_hierarchy(by_region) -> None:  # type: ignore[no-untyped-def]
    f = _rows(by_region)
    for period, rows in f.groupby("period"):
        total = rows.loc[rows["region"] == "All", "mean"].item()
        assert rows.loc[rows["region"] != "All", "mean"].sum() == pytest.approx(total, rel=1e-6), period


def test_booked_to_date_is_what_was_booked(by_region, demo: Warehouse) -> None:  # type: ignore[no-untyped-def]
    with demo.reader() as cur:
        # The as-of date is a whole day: what was booked on it is booked.
        booked = cur.scalar("SELECT sum(amount) FROM bookings WHERE date >= '2026-11-01' AND date <= ?", [AS_OF])
    cur_rows = _rows(by_region, "current_period")
    assert cur_rows.loc[cur_rows["region"] == "All", "booked_to_date"].item() == pytest.approx(booked)


def test_same_seed_same_result(demo: Warehouse) -> None:
    params = ForecastInput(by=["segment"], trials=1000, seed=4)
    a = run_forecast(demo, params).model_dump()
    b = run_forecast(demo, params).model_dump()
    assert a == b


def test_what_if_moves_the_forecast_the_right_way(demo: Warehouse) -> None:
    """A what-if answers as asked (its rows are the what-if) and sits beside the baseline, which
    is the plain forecast's to the cent (same draws)."""
    baseline = _rows(run_forecast(demo, ForecastInput(trials=2000))).set_index("period")
    up = run_forecast(demo, ForecastInput(trials=2000, what_if=WhatIf(win_rate_pts=5)))
    down = run_forecast(demo, ForecastInput(trials=2000, what_if=WhatIf(deal_size_pct=-10)))
    for result, sign in ((up, 1), (down, -1)):
        rows = _rows(result, "comparison")
        p50 = rows[rows["metric"] == "P50 bookings"].set_index("period")
        assert (np.sign(p50["change"]) == sign).all()
        horizon = p50.loc[baseline.index]
        assert horizon["baseline"].tolist() == pytest.approx(baseline["p50"].tolist(), abs=0.01)
        assert horizon["what_if"].tolist() == pytest.approx(_rows(result).set_index("period")["p50"].tolist(), abs=0.01)
        assert result.metrics["what_if_inputs"] and result.metrics["baseline"]["total_first_period"][
            "p50"
        ] == pytest.approx(baseline.loc[result.metrics["first_period"], "p50"], abs=0.01)


def test_time_series_add_up_on_bookings_only_data(empty: Warehouse) -> None:
    import_files(empty, [ROOT / "data/samples/bookings_only/bookings.csv"])
    result = run_forecast(empty, ForecastInput(by=["region"], as_of=date(2026, 11, 1), horizon=3))
    assert "win_model" not in result.metrics
    assert any(w.code == "no_pipeline" for w in result.warnings)
    f = _rows(result)
    for _, rows in f.groupby("period"):
        total = rows.loc[rows["region"] == "All", "p50"].item()
        assert rows.loc[rows["region"] != "All", "p50"].sum() == pytest.approx(total, rel=1e-6)
    assert result.metrics["backtest"]["mase"] is not None


def test_low_history_warns(empty: Warehouse, tmp_path: Path) -> None:
    rows = "".join(f"2026-{m:02d}-15,{1000 + 10 * m}\n" for m in range(2, 12))
    (tmp_path / "bookings.csv").write_text("date,amount\n" + rows)
    import_files(empty, [tmp_path / "bookings.csv"])
    result = run_forecast(empty, ForecastInput(grain="month", as_of=date(2026, 12, 1), horizon=2))
    assert any(w.code == "low_history" for w in result.warnings)
    with pytest.raises(InputError, match="at least 3"):
        run_forecast(empty, ForecastInput(grain="quarter", as_of=date(2026, 8, 1)))


def test_unknown_group_value_lists_the_valid_ones(demo: Warehouse) -> None:
    with pytest.raises(InputError) as info:
        run_forecast(demo, ForecastInput(filters={"region": ["EMAE"]}))
    assert "Did you mean EMEA" in (info.value.hint or "") and "APAC" in (info.value.hint or "")
    with pytest.raises(ValueError, match="cannot group by"):
        ForecastInput(by=["planet"])


def test_scope_limits_and_refuses(demo: Warehouse) -> None:
    emea = Scope("region", "EMEA")
    scoped = run_forecast(demo, ForecastInput(trials=1000), scope=emea)
    filtered = run_forecast(demo, ForecastInput(trials=1000, filters={"region": ["EMEA"]}))
    assert scoped.metrics["total_first_period"] == filtered.metrics["total_first_period"]
    with pytest.raises(PermissionDeniedError, match="region EMEA"):
        run_forecast(demo, ForecastInput(filters={"region": ["APAC"]}), scope=emea)


def test_as_of_in_the_past_uses_only_what_was_known(demo: Warehouse) -> None:
    past = run_forecast(demo, ForecastInput(as_of=date(2026, 5, 1), trials=1000))
    # May 1 is FY2027-Q2's first day: the quarter is in progress (with that day's bookings) and
    # the forecast proper starts with the next one.
    assert past.metrics["first_period"] == "FY2027-Q3"
    assert [r["period"] for r in past.tables["current_period"] if r["level"] == "total"] == ["FY2027-Q2"]
    with demo.reader() as cur:
        first_day = cur.scalar("SELECT coalesce(sum(amount), 0) FROM bookings WHERE date = '2026-05-01'")
        later = cur.scalar("SELECT count(*) FROM bookings WHERE date > '2026-05-01'")
    assert later > 0  # the warehouse knows more than the forecast may use
    assert past.tables["current_period"][0]["booked_to_date"] == pytest.approx(first_day)
    assert past.metrics["as_of"] == "2026-05-01"


def test_monthly_grain_and_targets_pro_rated(demo: Warehouse) -> None:
    monthly = run_forecast(demo, ForecastInput(grain="month", horizon=6, trials=1000))
    f = _rows(monthly)
    quarterly = _rows(run_forecast(demo, ForecastInput(horizon=1, trials=1000)))
    q_target = quarterly.loc[quarterly["period"] == "FY2028-Q1", "target"].item()
    months = f[f["period"].isin(["2027-02", "2027-03", "2027-04"])]
    assert months["target"].sum() == pytest.approx(q_target)


def test_cli_forecast_json_and_plot(demo_path: Path, tmp_path: Path) -> None:
    png = tmp_path / "f.png"
    result = CliRunner().invoke(
        app,
        [
            "-w",
            str(demo_path),
            "forecast",
            "--by",
            "segment",
            "--trials",
            "500",
            "--what-if",
            "win_rate=+5",
            "--plot",
            str(png),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["tool"] == "forecast" and data["tables"]["comparison"]
    assert {"period", "segment", "p10", "p50", "p90", "target", "gap"} <= set(data["tables"]["forecast"][0])
    assert png.stat().st_size > 10_000
    bad = CliRunner().invoke(app, ["-w", str(demo_path), "forecast", "--what-if", "luck=+5"])
    assert bad.exit_code == 3 and "win_rate" in bad.stderr
    human = CliRunner().invoke(app, ["-w", str(demo_path), "forecast", "--trials", "500"])
    assert human.exit_code == 0 and "Backtest" in human.stdout


def test_big_warehouses_train_on_a_deal_sample_but_keep_the_whole_pipeline(
    demo: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above TRAINING_DEALS_PER_CELL opportunities a cell's win-model snapshots keep every
    snapshot of 1 in N of its deals; the open pipeline on the as-of date keeps every deal."""
    from tools.core.selection import Selection
    from tools.forecast import load, loader, pipeline

    with demo.reader() as cur:
        sel = Selection()
        dates = [date(2025, 6, 1), date(2025, 9, 1), AS_OF]
        cells = loader.opportunity_counts(cur, sel)
        full = loader.snapshots(cur, sel, dates, label_before=AS_OF)
        part = loader.snapshots(
            cur, sel, dates, label_before=AS_OF, sample_every=dict.fromkeys(cells, 3), keep_all_on=AS_OF
        )
    on_as_of = pd.Timestamp(AS_OF)
    assert (
        part[part["snapshot"] == on_as_of]["opp_id"].tolist() == full[full["snapshot"] == on_as_of]["opp_id"].tolist()
    )
    kept = set(part[part["snapshot"] != on_as_of]["opp_id"])
    earlier = full[full["snapshot"] != on_as_of]
    assert 0.25 < len(kept) / earlier["opp_id"].nunique() < 0.42
    assert len(part[part["snapshot"] != on_as_of]) == earlier["opp_id"].isin(kept).sum()  # whole histories

    params = ForecastInput(by=["region"], trials=2000)
    baseline = run_forecast(demo, params)
    monkeypatch.setattr(load, "TRAINING_DEALS_PER_CELL", 100)
    pipeline.clear_cache()
    sampled = run_forecast(demo, params)
    assert baseline.metrics["win_model"]["deal_sample"] == 1 and sampled.metrics["win_model"]["deal_sample"] > 1
    assert sampled.metrics["win_model"]["train_rows"] < baseline.metrics["win_model"]["train_rows"]
    open_pipeline = [_rows(r).set_index(["period", "region"])["pipeline"] for r in (baseline, sampled)]
    assert open_pipeline[0].sum() > 0 and open_pipeline[0].equals(open_pipeline[1])


def test_model_libraries_import_in_the_background() -> None:
    """warm_imports loads the forecast's model libraries on a thread; wait() returns once they
    are all importable from sys.modules (a fresh process, so nothing is imported yet)."""
    import subprocess
    import sys

    code = (
        "import sys; from tools.forecast import warm_imports as w; "
        "assert not any(m in sys.modules for m in w.MODULES); w.start(); w.wait(); "
        "print(all(m in sys.modules for m in w.MODULES))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"


def test_recommendations_on_a_filtered_forecast_name_the_filter(demo: Warehouse) -> None:
    """With --filter region=X the top of the hierarchy is region X, not the company: advice
    says "region X" wherever it used to say "Total"."""
    actions = {}
    for region in ("APAC", "LATAM", "NA"):
        result = run_forecast(demo, ForecastInput(filters={"region": [region]}, horizon=1, trials=1000))
        actions[region] = [r.action for r in result.recommendations]
        assert all(f"region {region}" in a and "Total" not in a for a in actions[region]), actions[region]
    assert any(actions.values())
