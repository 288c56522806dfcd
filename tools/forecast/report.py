"""A computed forecast as the tool's result: rows, tables, metrics, summary and assumptions.

Rows are the request's series (the breakdown asked for, with `All` above it) for every period;
each carries the P10/P50/P90, the target and the gap, and the coverage figures of
tools/core/coverage.py. When a what-if is asked, rows, metrics and summary are the what-if
(the question as asked) and the baseline sits beside it in the one what-if shape
(tools/core/whatif.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tools.contract import DataWarning
from tools.core import coverage as cov
from tools.core import format as fmt
from tools.core.hierarchy import TOTAL
from tools.core.targets import node_targets
from tools.forecast import deal_risk
from tools.forecast.cells import UNASSIGNED
from tools.forecast.models import ForecastResult
from tools.forecast.recommend import ALL_DATA, recommendations
from tools.forecast.win_model import WinModel, pooled

if TYPE_CHECKING:
    from tools.forecast.tool import Forecast

CENTS = 2
DEALS_TO_WATCH = 25  # commit deals listed, riskiest first


def _r(value: float) -> float:
    return round(float(value), CENTS)


def build(f: Forecast) -> ForecastResult:
    data, params, tl, req = f.data, f.params, f.timeline, f.req
    dims = list(params.by)
    shown = f.asked if f.asked is not None else f.baseline
    targets = node_targets(
        req.hierarchy, data.selection.constraints, tl.periods, data.ctx.calendar, data.targets, data.quotas
    )
    pipeline = req.members @ f.pipeline.closing(f.atoms, tl.periods) if f.pipeline else np.zeros(targets.shape)
    booked = req.members @ f.booked
    rates = _win_rates(f)
    names, in_seat = _rep_labels(f)
    rows, current_rows = [], []
    for i, node in enumerate(req.hierarchy.nodes):
        rate = rates[i]
        group = {d: node.group.get(d, "All") for d in dims}
        extra = {}
        if "rep" in node.group:
            extra = {"name": names.get(node.group["rep"], node.group["rep"]), "in_seat": in_seat.get(node.group["rep"])}
        for k, period in enumerate(tl.periods):
            target = None if np.isnan(targets[i, k]) else float(targets[i, k])
            c = cov.coverage(pipeline[i, k], target, float(booked[i, k]), rate)
            p50 = float(shown["p50"][i, k])
            row = {
                "period": period.name,
                **group,
                **extra,
                "level": req.hierarchy.level_name(node.level),
                "p10": _r(shown["p10"][i, k]),
                "p50": _r(p50),
                "p90": _r(shown["p90"][i, k]),
                "mean": _r(shown["mean"][i, k]),
                "target": None if target is None else _r(target),
                "gap": None if target is None else _r(target - p50),
                "pipeline": _r(c.pipeline),
                "coverage": None if c.coverage is None else round(c.coverage, 2),
                "required_coverage": round(c.required, 2),
                "to_build": None if c.to_build is None else _r(c.to_build),
                "win_rate": None if rate is None else round(rate, 4),
                "model": f.run_rate.node_model[i],
            }
            if k == 0:
                current_rows.append({**row, "booked_to_date": _r(booked[i, 0])})
            else:
                rows.append(row)
    tables: dict[str, list[dict[str, Any]]] = {"forecast": rows}
    if current_rows:
        tables["current_period"] = current_rows
    tables["history"] = _history(f, dims)
    tables["backtest"] = _backtest_rows(f)
    metrics = _metrics(f, rows, current_rows)
    warnings = _warnings(f)
    if f.pipeline is not None:
        win, curve = pooled(f.pipeline.reports)
        metrics["win_model"] = win | {"deal_sample": max(data.deal_sample.values(), default=1)}
        tables["reliability"] = curve
    if f.asked is not None:
        _attach_what_if(f, metrics, tables, rows, current_rows)
    top = _top_label(f)
    recs, _ = recommendations(f, rows, current_rows, top)
    watch = _deals_to_watch(f)
    if watch:
        tables["deals_to_watch"] = watch
    return ForecastResult(
        summary=_summary(f, rows, current_rows, metrics, top),
        metrics=metrics,
        tables=tables,
        recommendations=recs,
        assumptions=_assumptions(f),
        warnings=warnings,
        data_fingerprint=data.fingerprint,
    )


def _deals_to_watch(f: Forecast) -> list[dict[str, Any]]:
    """Every open commit deal of the selection planned to close in the period in progress or the
    next one, with its risk (USD its risk factors cost), the win probability of the segment's
    typical deal and the reasons (tools/forecast/deal_risk.py): riskiest first, then the biggest."""
    pipe = f.pipeline
    if pipe is None or pipe.deals.empty:
        return []
    periods = f.timeline.periods
    start, first = f.timeline.current.start, f.timeline.horizon[0]
    close = pipe.deals["close_date"]
    mask = (pipe.deals["forecast_category"] == "Commit").to_numpy()
    mask &= ((close >= pd.Timestamp(start)) & (close < pd.Timestamp(first.end))).to_numpy()
    at = np.flatnonzero(mask)
    if not len(at):
        return []
    open_deals, cell = pipe.deals.iloc[at].reset_index(drop=True), pipe.cell[at]
    p_win = pipe.p[at]
    models = _cell_models(f)
    history = f.data.training
    norms = deal_risk.norms(history)
    peak = deal_risk.peak_amounts(open_deals, history)
    scored: dict[str, deal_risk.DealRisk] = {}
    for c in np.unique(cell):
        if int(c) in models:
            mine = np.flatnonzero(cell == c)
            for assessed in deal_risk.assess(open_deals.iloc[mine], models[int(c)], norms, peak[mine]):
                scored[assessed.opp_id] = assessed
    dims = [d for d in ("region", "segment", "product") if d in open_deals.columns]
    out = []
    for i, deal in enumerate(open_deals.itertuples(index=False)):
        risk = scored.get(str(deal.opp_id))
        out.append(
            {
                "period": next((p.name for p in periods if p.start <= deal.close_date.date() < p.end), first.name),
                **{d: str(getattr(deal, d)) for d in dims},
                "opp_id": deal.opp_id,
                "amount": float(deal.amount),
                "stage": deal.stage,
                "close_date": deal.close_date.date().isoformat(),
                "push_count": int(deal.push_count),
                "p_win": round(float(p_win[i]), 3),
                "owner_rep_id": deal.owner_rep_id,
                "risk": None if risk is None else _r(risk.risk),
                "p_typical": None if risk is None else round(risk.p_typical, 3),
                "reasons": "not scored" if risk is None else (risk.text() or "none"),
            }
        )
    out.sort(key=lambda row: (-(row["risk"] or 0.0), -row["amount"], row["opp_id"]))
    return out[:DEALS_TO_WATCH]


def _cell_models(f: Forecast) -> dict[int, WinModel]:
    """Each cell's win model: pipeline.score trains one, in cell order, for every cell with open
    deals or training snapshots; {} if the models do not line up with that."""
    pipe = f.pipeline
    if pipe is None:
        return {}
    training = f.data.training
    trained = set(zip(training["region"], training["segment"], strict=True)) if len(training) else set()
    with_deals = set(np.unique(pipe.cell).tolist())
    cells = [c for c, cell in enumerate(f.atoms.cells) if c in with_deals or cell in trained]
    if len(cells) != len(pipe.reports):
        return {}
    return {c: report.model for c, report in zip(cells, pipe.reports, strict=True)}


def _win_rates(f: Forecast) -> list[float | None]:
    """Value win rate of each series' deals closed in the last 12 months (None on too few)."""
    closed = f.data.closed
    if closed.empty:
        return [None] * len(f.req.hierarchy.nodes)
    atom = f.atoms.index(closed)
    amount = closed["amount"].to_numpy(dtype=float)
    won = closed["is_won"].astype(bool).to_numpy()
    m = f.req.members[:, atom]  # [nodes, deals]
    won_amount, closed_amount, count = m @ (amount * won), m @ amount, m.sum(axis=1)
    return [cov.value_win_rate(w, c, int(n)) for w, c, n in zip(won_amount, closed_amount, count, strict=True)]


def _rep_labels(f: Forecast) -> tuple[dict[str, str], dict[str, bool]]:
    if "rep" not in f.params.by:
        return {}, {}
    reps = f.data.reps
    gone = reps["end_date"].notna() & (reps["end_date"] <= pd.Timestamp(f.data.ctx.as_of))
    names = dict(zip(reps["rep_id"], reps["name"], strict=True))
    names[UNASSIGNED] = "run-rate of reps no longer in seat"
    seated = dict(zip(reps["rep_id"], ~gone, strict=True))
    return names, {k: bool(v) for k, v in seated.items()}


def _history(f: Forecast, dims: list[str]) -> list[dict[str, Any]]:
    values = f.req.members @ f.history
    return [
        {"period": period.name, **{d: node.group.get(d, "All") for d in dims}, "bookings": _r(values[i, t])}
        for i, node in enumerate(f.req.hierarchy.nodes)
        if node.level <= 1
        for t, period in enumerate(f.timeline.history)
    ]


def _backtest_rows(f: Forecast) -> list[dict[str, Any]]:
    rows = []
    for i, node in enumerate(f.req.hierarchy.nodes):
        acc = f.run_rate.accuracy[i]
        row: dict[str, Any] = {
            "series": node.id,
            "level": f.req.hierarchy.level_name(node.level),
            "model": f.run_rate.node_model[i],
        }
        if acc is None:
            row |= {"mase": None, "wape": None, "bias": None, "coverage_80": None, "points": 0}
            row["note"] = "too sparse to score" if f.run_rate.sparse[i] else "too short to backtest"
        else:
            row |= acc.as_dict()
        rows.append(row)
    return rows


def _headline(rows: list[dict[str, Any]], period: str) -> dict[str, Any]:
    top = next(r for r in rows if r["level"] == TOTAL and r["period"] == period)
    return {k: top[k] for k in ("p10", "p50", "p90", "target", "gap")}


def _metrics(f: Forecast, rows: list[dict[str, Any]], current_rows: list[dict[str, Any]]) -> dict[str, Any]:
    tl, rr = f.timeline, f.run_rate
    top = rr.accuracy[0]
    backtest: dict[str, Any] = {"windows": rr.windows, "horizon": rr.horizon, "series": f.req.hierarchy.nodes[0].id}
    if top is None:
        backtest |= {"mase": None, "wape": None, "bias": None, "coverage_80": None, "points": 0}
        backtest["note"] = "too sparse to score" if rr.sparse[0] else "too short to backtest"
    else:
        backtest |= top.as_dict()
    weights = pd.DataFrame(rr.cell_weights).mean()
    metrics: dict[str, Any] = {
        "method": f.params.method,
        "model_weights": {str(k): round(float(v), 3) for k, v in weights.items()},
        "cells": len(f.atoms.cells),
        "backtest": backtest,
        "as_of": f.data.ctx.as_of.isoformat(),
        "grain": f.params.grain,
        "first_period": tl.horizon[0].name,
        "trials": f.params.trials,
        "seed": f.params.seed,
        "total_first_period": _headline(rows, tl.horizon[0].name),
    }
    if current_rows:
        metrics["current_period"] = _headline(current_rows, tl.current.name) | {
            "booked_to_date": next(r["booked_to_date"] for r in current_rows if r["level"] == TOTAL)
        }
    if f.data.scenario is not None:
        metrics["scenario"] = f.data.scenario.info()
    return metrics


def _attach_what_if(
    f: Forecast,
    metrics: dict[str, Any],
    tables: dict[str, list[dict[str, Any]]],
    rows: list[dict[str, Any]],
    current_rows: list[dict[str, Any]],
) -> None:
    """Baseline beside the what-if: headline figures and a P50 comparison per series and period."""
    tl, req, dims = f.timeline, f.req, list(f.params.by)
    base, asked = f.baseline, f.asked
    assert asked is not None

    def headline(dist: dict[str, np.ndarray]) -> dict[str, Any]:
        return {
            "total_first_period": {q: _r(dist[q][0, 1]) for q in ("p10", "p50", "p90")},
            "current_period": {q: _r(dist[q][0, 0]) for q in ("p10", "p50", "p90")},
        }

    comparison = []
    for i, node in enumerate(req.hierarchy.nodes):
        group = {d: node.group.get(d, "All") for d in dims}
        for k, period in enumerate(tl.periods):
            quantiles = ("p10", "p50", "p90") if i == 0 else ("p50",)
            for q in quantiles:
                before, after = _r(base[q][i, k]), _r(asked[q][i, k])
                comparison.append(
                    {
                        "period": period.name,
                        **group,
                        "metric": f"{q.upper()} bookings",
                        "unit": "USD",
                        "baseline": before,
                        "what_if": after,
                        "change": _r(after - before),
                    }
                )
    tables["comparison"] = comparison
    metrics["baseline"], metrics["what_if"] = headline(base), headline(asked)
    metrics["what_if_inputs"] = f.params.what_if.describe()


def _top_label(f: Forecast) -> str:
    """What the top series stands for: the filters, else the scope ("Total" for all data)."""
    sel = f.data.selection
    return sel.describe() if sel.filters or sel.scope.kind != "all" else ALL_DATA


LATER_PERIODS_SHOWN = 7  # periods after the first named in the summary sentence


def _summary(
    f: Forecast, rows: list[dict[str, Any]], current_rows: list[dict[str, Any]], metrics: dict[str, Any], top: str
) -> str:
    period = f.timeline.horizon[0].name
    head = metrics["total_first_period"]
    text = f"{top} {period} {fmt.quantiles(head)}"
    if head["target"]:
        gap = head["target"] - head["p50"]
        side = "short" if gap > 0 else "ahead"
        text += (
            f" vs target {fmt.money(head['target'])}: {fmt.money(abs(gap))} ({abs(gap) / head['target']:.0%}) {side}"
        )
    later = [r for r in rows if r["level"] == TOTAL and r["period"] != period]
    if later:  # every period asked for, not only the first
        shown = ", ".join(f"{r['period']} P50 {fmt.money(r['p50'])}" for r in later[:LATER_PERIODS_SHOWN])
        text += f"; then {shown}" + (
            f" and {len(later) - LATER_PERIODS_SHOWN} more" if len(later) > LATER_PERIODS_SHOWN else ""
        )
    if "what_if" in metrics:
        before = metrics["baseline"]["total_first_period"]["p50"]
        text += (
            f"; what-if ({', '.join(metrics['what_if_inputs'])}): P50 {fmt.money(before)} -> "
            f"{fmt.money(head['p50'])} ({fmt.change(head['p50'] - before, 'USD')}) against the baseline"
        )
    bt = metrics["backtest"]
    if bt.get("mase") is not None:
        text += f"; backtest MASE {bt['mase']:.2f}, WAPE {fmt.share(bt['wape'])}"
    now = next((c for c in current_rows if c["level"] == TOTAL), None)
    if now and now.get("target"):
        text += (
            f". {now['period']} in progress: {fmt.money(now['booked_to_date'])} booked, "
            f"landing P50 {fmt.money(now['p50'])} vs {fmt.money(now['target'])}"
        )
    return text + "."


def _assumptions(f: Forecast) -> list[str]:
    tl, grain = f.timeline, f.params.grain
    out = [
        f"Forecast as of {f.data.ctx.as_of}; history: {len(tl.history)} complete {grain}s from {tl.history[0].name}.",
        f"Each of the {len(f.atoms.cells)} region x segment cells is forecast from its own history and pipeline; "
        "every series shown is a sum of cells, so figures add up and have one value whatever the breakdown, "
        "filter or data scope.",
        "Time-series models are chosen per series by rolling-origin backtest (MASE), never by in-sample fit; a "
        "series' 80% range comes from a model of its own history, centred on the sum of its cells.",
    ]
    if set(f.params.by) & {"product", "rep"} or "product" in f.data.selection.filters:
        out.append(
            "Below a cell, a product's or rep's share of the cell's run-rate is its share of the cell's bookings "
            "over the last year (reps no longer in seat get none: it shows as '(unassigned)'); booked and open "
            "pipeline are its own."
        )
    if f.pipeline is not None:
        out.append(
            "Open deals win with calibrated probabilities (a model per cell) and slip by the cell's historical slip "
            "distribution; business not yet in pipeline follows the run-rate share observed in past periods."
        )
    out.append(
        f"Coverage = open pipeline closing in the period / target left to book; the coverage needed is 1 / the "
        f"series' value win rate over the last 12 months (else {cov.DEFAULT_REQUIRED:g}x)."
    )
    return out


def _warnings(f: Forecast) -> list[DataWarning]:
    out = [DataWarning(code="history", message=n) for n in f.data.notes]
    out += [DataWarning(code="low_history", message=w) for w in f.run_rate.warnings]
    if f.pipeline is not None:
        out += f.pipeline.warnings
    elif not f.data.has_opportunities:
        out.append(
            DataWarning(
                code="no_pipeline",
                message="No opportunities in scope: a pure time-series forecast (no pipeline component).",
            )
        )
    if "what_if_scaled" in f.warnings:
        out.append(
            DataWarning(
                code="what_if_scaled", message="Without pipeline data, what-if adjustments scale the whole forecast."
            )
        )
    if f.data.scenario is not None:
        out += [DataWarning(code="scenario", message=n) for n in f.data.scenario.notes()]
    if "rep" in f.params.by:
        _, seated = _rep_labels(f)
        gone = sorted(
            {f.atoms.value(a, "rep") for a in range(f.atoms.n)} - {r for r, s in seated.items() if s} - {UNASSIGNED}
        )
        if gone:
            out.append(
                DataWarning(
                    code="reps_not_in_seat",
                    count=len(gone),
                    message=f"{len(gone)} reps no longer in seat (or not in the reps table) still hold bookings or open "
                    f"deals; they are shown with in_seat false and get no run-rate: {', '.join(gone[:8])}"
                    + (" ..." if len(gone) > 8 else ""),
                )
            )
    return out
