"""Deal risk with reasons (tools/forecast/deal_risk.py): each reason's point change is the win
model's own probability difference, and the risk score ranks deals by what their factors cost."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tools.forecast import deal_risk
from tools.forecast.deal_risk import LATE_STAGE, Norms, assess, norms, peak_amounts, ranked
from tools.forecast.win_model import LOG_SCALED, WinModel, train_win_model

STAGES = {"Qualification": 0.2, "Proposal": 0.6, "Negotiation": 0.8}
START = pd.Timestamp("2024-01-01")


def _snapshots(n: int = 3_000, seed: int = 3) -> pd.DataFrame:
    """Deal snapshots whose wins fall with pushes, time in stage, being overdue and a new rep."""
    rng = np.random.default_rng(seed)
    stage = rng.choice(list(STAGES), n)
    frame = pd.DataFrame(
        {
            "snapshot": START + pd.to_timedelta(rng.integers(0, 720, n), unit="D"),
            "opp_id": [f"O-{i:05d}" for i in range(n)],
            "stage": stage,
            "segment": rng.choice(["SMB", "Enterprise"], n),
            "product": "Core",
            "type": rng.choice(["New Business", "Expansion"], n),
            "forecast_category": rng.choice(["Pipeline", "Commit"], n),
            "amount": np.exp(rng.normal(10.5, 0.6, n)).round(-2),
            "push_count": rng.poisson(0.7, n),
            "days_in_stage": rng.gamma(2.0, 20.0, n).round(),
            "deal_age": rng.gamma(3.0, 40.0, n).round() + 30,
            "days_to_close": rng.normal(40, 40, n).round(),
            "rep_tenure": rng.gamma(2.0, 300.0, n).round(),
        }
    )
    logit = (
        -0.5
        + 2.5 * pd.Series(stage).map(STAGES).to_numpy()
        - 0.6 * frame["push_count"]
        - 0.02 * frame["days_in_stage"]
        - 1.5 * (frame["days_to_close"] < 0)
        + 0.8 * np.log1p(frame["rep_tenure"]) / 7
    )
    frame["won"] = rng.random(n) < 1 / (1 + np.exp(-logit))
    frame["labelled"] = True
    return frame


@pytest.fixture(scope="module")
def history() -> pd.DataFrame:
    return _snapshots()


@pytest.fixture(scope="module")
def model(history: pd.DataFrame) -> WinModel:
    report = train_win_model(
        history, STAGES, holdout_start=START + pd.Timedelta(days=540), holdout_end=START + pd.Timedelta(days=720)
    )
    assert report.model.kind == "classifier"
    return report.model


@pytest.fixture(scope="module")
def typical(history: pd.DataFrame) -> Norms:
    return norms(history)


def _deal(typical: Norms, opp_id: str = "O-X", **changes: object) -> dict[str, object]:
    """An SMB Proposal deal as the segment's typical one, then `changes`."""
    row: dict[str, object] = {
        "opp_id": opp_id,
        "stage": "Proposal",
        "segment": "SMB",
        "product": "Core",
        "type": "New Business",
        "forecast_category": "Commit",
        "amount": 50_000.0,
        "push_count": 0,
        "days_in_stage": typical.stage_days("SMB", "Proposal"),
        "deal_age": 100,
        "days_to_close": 30,
        "rep_tenure": typical.tenure("SMB"),
    }
    return row | changes


def _assess(model: WinModel, typical: Norms, *rows: dict[str, object], peak: list[float] | None = None):  # type: ignore[no-untyped-def]
    return assess(pd.DataFrame(list(rows)), model, typical, None if peak is None else np.array(peak))


def test_a_deal_pushed_four_times_has_a_costly_pushed_reason(model: WinModel, typical: Norms) -> None:
    (risk,) = _assess(model, typical, _deal(typical, push_count=4))
    (reason,) = risk.reasons
    assert reason.code == "pushed" and reason.points is not None and reason.points < 0
    assert reason.text.startswith("pushed 4 times (-") and reason.text.endswith(" pts)")
    assert risk.risk > 0 and risk.p_typical > risk.p


def test_a_deal_without_risk_factors_has_no_reasons_and_less_risk(model: WinModel, typical: Norms) -> None:
    clean, risky = _assess(
        model, typical, _deal(typical, "O-CLEAN"), _deal(typical, "O-RISKY", push_count=3, days_to_close=-20)
    )
    assert clean.reasons == () and clean.text() == "" and clean.risk == 0.0 and clean.p_typical == clean.p
    assert risky.reasons and risky.risk > clean.risk
    assert risky.amount == clean.amount


def test_point_changes_are_the_models_probability_differences(model: WinModel, typical: Norms) -> None:
    deal = _deal(
        typical, push_count=2, days_in_stage=200, days_to_close=-15, amount=40_000.0, rep_tenure=60, deal_age=150
    )
    (risk,) = _assess(model, typical, deal, peak=[80_000.0])
    assert {r.code for r in risk.reasons} == {"pushed", "slow_stage", "past_close", "amount_cut", "new_owner"}
    p = float(model.predict(pd.DataFrame([deal]))[0])
    assert risk.p == pytest.approx(p)
    for reason in risk.reasons:  # against predict() with the one feature set to its typical value
        feature = deal_risk.FEATURE[reason.code]
        moved = float(model.predict(pd.DataFrame([deal | {feature: reason.typical}]))[0])
        assert reason.points == pytest.approx(100 * (p - moved), abs=1e-9)
    points = [r.points for r in risk.reasons]
    assert points == sorted(points)  # most costly first
    # Closed form for one numeric feature: the logit moves by coef x (standardised change).
    pipe = model.estimator
    columns, logistic = pipe.steps[1][1], pipe.steps[2][1]  # type: ignore[attr-defined]
    scaler = columns.named_transformers_["numbers"]
    names = list(columns.transformers_[1][2])
    j = names.index("push_count")
    coef = logistic.coef_[0][len(columns.get_feature_names_out()) - len(names) + j]
    pushed = next(r for r in risk.reasons if r.code == "pushed")
    shift = coef * (0 - 2) / scaler.scale_[j]
    logit = np.log(p / (1 - p))
    p_typical_push = 1 / (1 + np.exp(-(logit + shift)))
    assert pushed.points == pytest.approx(100 * (p - p_typical_push), abs=1e-9)
    # The risk score: amount x (the probability with every factor typical - the actual one).
    everything = deal | {deal_risk.FEATURE[r.code]: r.typical for r in risk.reasons}
    p_typical = float(model.predict(pd.DataFrame([everything]))[0])
    assert risk.p_typical == pytest.approx(p_typical)
    assert risk.risk == pytest.approx(deal["amount"] * max(0.0, p_typical - p))  # type: ignore[operator]
    assert "days_in_stage" in LOG_SCALED  # the model reads it log-scaled: predict() is the reference


def test_past_close_date_deals_are_flagged(model: WinModel, typical: Norms) -> None:
    (risk,) = _assess(model, typical, _deal(typical, days_to_close=-12))
    (reason,) = risk.reasons
    assert reason.code == "past_close" and reason.text.startswith("12 days past its close date (-")
    assert reason.points is not None and reason.points < 0
    assert reason.typical == typical.close_days("SMB", "Proposal") > 0


def test_slow_stage_and_new_rep_read_against_the_segments_norms(model: WinModel, typical: Norms) -> None:
    norm = typical.stage_days("SMB", "Proposal")
    assert norm is not None
    slow, fine, new_rep = _assess(
        model,
        typical,
        _deal(typical, "O-SLOW", days_in_stage=round(3 * norm)),
        _deal(typical, "O-FINE", days_in_stage=round(1.2 * norm)),
        _deal(typical, "O-NEW", stage="Qualification", rep_tenure=45, deal_age=30),
    )
    assert [r.code for r in slow.reasons] == ["slow_stage"]
    assert slow.reasons[0].text.startswith(f"{round(3 * norm)} days in Proposal vs {norm:,.0f} typical")
    assert fine.reasons == ()
    assert [r.code for r in new_rep.reasons] == ["new_rep"]  # Qualification is not late stage
    assert STAGES["Qualification"] < LATE_STAGE <= STAGES["Proposal"]


def test_amount_cut_comes_from_the_deals_history() -> None:
    deals = pd.DataFrame({"opp_id": ["A", "B", "C"], "amount": [60.0, 100.0, 10.0]})
    history = pd.DataFrame({"opp_id": ["A", "A", "B"], "amount": [100.0, 80.0, 90.0]})
    peak = peak_amounts(deals, history)
    assert peak[:2].tolist() == [100.0, 90.0] and np.isnan(peak[2])


def test_deals_are_ordered_by_risk(model: WinModel, typical: Norms) -> None:
    risks = _assess(
        model,
        typical,
        _deal(typical, "O-1"),
        _deal(typical, "O-2", push_count=1),
        _deal(typical, "O-3", push_count=4, days_to_close=-30),
        _deal(typical, "O-4", push_count=4, days_to_close=-30, amount=500_000.0),
    )
    order = [r.opp_id for r in ranked(risks)]
    assert order == ["O-4", "O-3", "O-2", "O-1"]
    scores = [r.risk for r in ranked(risks)]
    assert scores == sorted(scores, reverse=True)


def test_a_stage_rate_model_lists_factors_without_points(typical: Norms) -> None:
    stage_only = WinModel("stage_defaults", STAGES, base_rate=0.3)
    (risk,) = _assess(stage_only, typical, _deal(typical, push_count=2))
    assert [r.code for r in risk.reasons] == ["pushed"] and risk.reasons[0].points is None
    assert risk.reasons[0].text == "pushed 2 times" and risk.risk == 0.0


def test_forecast_deals_to_watch_carry_risk_and_reasons(demo_path: Path) -> None:
    from tools.forecast.models import ForecastInput
    from tools.forecast.tool import run_forecast
    from warehouse.connection import Warehouse

    result = run_forecast(Warehouse(demo_path), ForecastInput(by=["region"], trials=500))
    rows = result.tables["deals_to_watch"]
    assert rows and all({"risk", "reasons", "p_typical"} <= set(r) for r in rows)
    risks = [r["risk"] for r in rows]
    assert risks == sorted(risks, reverse=True) and risks[0] > 0
    assert all(r["risk"] >= 0 and isinstance(r["reasons"], str) for r in rows)
    assert any("pts)" in r["reasons"] for r in rows)
    for r in rows:
        if r["risk"] > 0:
            assert r["reasons"] != "none" and r["p_typical"] > r["p_win"] - 1e-3
        else:
            assert "(-" not in r["reasons"]
