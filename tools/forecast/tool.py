"""The forecast tool: loads data (scoped), runs the kernels, assembles the typed result.

Flow: bookings -> fiscal-period series for every node of the hierarchy -> statsforecast per
series, picked by backtest -> reconciliation -> blend with the open pipeline (calibrated win
probabilities, Monte Carlo with slip) -> targets, gaps, coverage -> recommendations. The
period in progress on the as-of date is reported as `current_period` (booked so far plus what
is still expected); the forecast proper starts with the next period, or with the as-of date's
period when the as-of date is its first day.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from tools.contract import DataWarning
from tools.filters import resolve_filters
from tools.forecast import loader, warm_imports
from tools.forecast.backtest import accuracy, accuracy_by_series
from tools.forecast.blend import blend, new_business_share
from tools.forecast.hierarchy import TOTAL, Hierarchy, build_hierarchy
from tools.forecast.models import GROUP_DIMS, ForecastInput, ForecastResult, WhatIf
from tools.forecast.pipeline_mc import simulate, slip_distribution
from tools.forecast.recommend import recommendations
from tools.forecast.reconcile import reconcile, shift_intervals
from tools.forecast.targets import node_targets
from tools.forecast.timeseries import forecast_series
from tools.forecast.win_model import WinModelReport, train_win_model
from tools.scope import Scope
from warehouse.calendar import FiscalCalendar, Period
from warehouse.connection import Warehouse
from warehouse.errors import InputError, PermissionDeniedError
from warehouse.fingerprint import fingerprint
from warehouse.scenarios import Change, Scenario, get_scenario, overlay, scenario_changes

PIPE_COLUMN = {
    "region": "region",
    "segment": "segment",
    "product": "product",
    "rep": "owner_rep_id",
}
SEASON = {"month": 12, "quarter": 4}
OUTLIER_Z = 5.0
STALE_DAYS = 120
TRAINING_DEALS = 40_000  # above this many opportunities, the win model trains on a 1-in-N deal sample
_MODEL_CACHE: dict[tuple[Any, ...], WinModelReport] = {}


@dataclass
class Loaded:
    as_of: date
    calendar: FiscalCalendar
    filters: dict[str, list[str]]
    bookings: pd.DataFrame
    pipeline: pd.DataFrame
    training: pd.DataFrame
    closed: pd.DataFrame
    stage_defaults: dict[str, float]
    targets: pd.DataFrame
    quotas: pd.DataFrame
    fingerprint: str
    has_opportunities: bool
    notes: list[str] = field(default_factory=list)
    scenario: dict[str, Any] | None = None
    deal_sample: int = 1  # the win model's training snapshots hold 1 in this many deals


def _as_of(cur: Any, requested: date | None) -> date:
    if requested is not None:
        return requested
    meta = dict(cur.execute("SELECT key, value FROM meta").fetchall())
    return date.fromisoformat(meta["as_of"]) if "as_of" in meta else date.today()


def _month_starts(first: date, last: date) -> list[date]:
    out, d = [], date(first.year, first.month, 1)
    while d <= last:
        out.append(d)
        d = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    return out


def load(warehouse: Warehouse, params: ForecastInput, scope: Scope) -> Loaded:
    with warehouse.reader() as cur:
        meta = dict(cur.execute("SELECT key, value FROM meta").fetchall())
        calendar = FiscalCalendar(int(meta.get("fiscal_year_start_month", "1")))
        as_of = _as_of(cur, params.as_of)
        filters = resolve_filters(cur, params.filters, allowed=GROUP_DIMS)
        scope.check_filters(filters)
        query = loader.Query(scope, filters)
        booked = loader.bookings(cur, query, params.by, before=as_of)
        if booked.empty:
            where = f" for {', '.join(f'{d}={v}' for d, vs in filters.items() for v in vs)}" if filters else ""
            raise InputError(
                f"No bookings before {as_of}{where} in {scope.describe()}: nothing to forecast from.",
                "Import bookings history (spm data import bookings.csv) or widen the filters.",
            )
        opportunities = loader.opportunity_count(cur, query)
        has_opps = opportunities > 0
        pipeline = training = closed = pd.DataFrame()
        sample_every = 1
        notes: list[str] = []
        if has_opps:
            use_history = loader.has_history(cur)
            if not use_history and params.as_of is not None:
                notes.append(
                    "The warehouse has no opportunity history: the pipeline is taken as it stands today, "
                    "not as of the requested date."
                )
            if use_history:  # one pass: monthly training snapshots and the pipeline on the as-of date
                first = booked["date"].min().date()
                dates = [*_month_starts(first + timedelta(days=90), as_of - timedelta(days=1)), as_of]
                # The win model learns from at most MAX_TRAIN_ROWS snapshots, so on big warehouses
                # the training months keep whole histories of a 1-in-N sample of deals (hundreds of
                # thousands of rows fewer to read); the as-of date keeps every open deal.
                sample_every = max(1, opportunities // TRAINING_DEALS)
                frames = loader.snapshots(
                    cur, query, dates, label_before=as_of, sample_every=sample_every, keep_all_on=as_of
                )
                on_as_of = (frames["snapshot"] == pd.Timestamp(as_of)).to_numpy()
                pipeline, training = frames[on_as_of], frames[~on_as_of]
                pipeline.index, training.index = pd.RangeIndex(len(pipeline)), pd.RangeIndex(len(training))
            else:
                pipeline = loader.open_pipeline(cur, query, as_of, use_history=False)
            closed = loader.closed_deals(cur, query, as_of - timedelta(days=365), as_of)
        stage_defaults = loader.stage_defaults(cur)
        names = sorted({row[0] for row in cur.execute("SELECT DISTINCT period FROM targets").fetchall()})
        quota_names = sorted({row[0] for row in cur.execute("SELECT DISTINCT period FROM quotas").fetchall()})
        targets = loader.targets(cur, query, names)
        quotas = loader.quotas(cur, query, quota_names)
        tables = [
            "bookings",
            "opportunities",
            "opportunity_history",
            "accounts",
            "reps",
            "targets",
            "quotas",
            "stages",
            "meta",
        ]
        scenario_info = None
        if params.scenario_id is not None:
            scenario = get_scenario(cur, params.scenario_id)
            changes = scenario_changes(cur, scenario.scenario_id)
            pipeline, quotas, scenario_info = _apply_scenario(scenario, changes, pipeline, quotas, scope, notes)
            tables += ["scenarios", "scenario_changes"]
        fp = fingerprint(cur, tables)
    return Loaded(
        as_of=as_of,
        calendar=calendar,
        filters=filters,
        bookings=booked,
        pipeline=pipeline,
        training=training,
        closed=closed,
        stage_defaults=stage_defaults,
        targets=targets,
        quotas=quotas,
        fingerprint=fp,
        has_opportunities=has_opps,
        notes=notes,
        scenario=scenario_info,
        deal_sample=sample_every,
    )


def _apply_scenario(
    scenario: Scenario,
    changes: list[Change],
    pipeline: pd.DataFrame,
    quotas: pd.DataFrame,
    scope: Scope,
    notes: list[str],
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Evaluate a saved scenario: moved accounts take their open deals to the new owner (the
    history stays with whoever booked it); a quota plan replaces the quotas it changes."""
    moves = {dict(c.key)["account_id"]: c.new for c in changes if c.table == "accounts" and c.column == "owner_rep_id"}
    if moves and scope.kind in ("team", "own"):
        raise PermissionDeniedError(
            f"Evaluating a territory scenario needs a company, region or segment scope; yours is {scope.describe()}.",
            "Ask a leader or analyst to run it.",
        )
    if moves and not pipeline.empty:
        pipeline = pipeline.copy()
        pipeline["owner_rep_id"] = pipeline["account_id"].map(moves).fillna(pipeline["owner_rep_id"])
    quotas = overlay(quotas, changes, "quotas")
    if not moves and not any(c.table == "quotas" for c in changes):
        notes.append(f"Scenario {scenario.scenario_id} ({scenario.kind}) changes nothing a forecast uses.")
    info = {
        "scenario_id": scenario.scenario_id,
        "name": scenario.name,
        "kind": scenario.kind,
        "changes": len(changes),
        "accounts_moved": len(moves),
    }
    return pipeline, quotas, info


def _period_index(periods: list[Period], dates: pd.Series) -> np.ndarray:
    """Index into `periods` of the period containing each date (-1 before, len after)."""
    starts = np.array([np.datetime64(p.start) for p in periods])
    ends = np.array([np.datetime64(p.end) for p in periods])
    values = dates.to_numpy(dtype="datetime64[D]")
    idx = np.searchsorted(starts, values, side="right") - 1
    idx = np.where(values >= ends[-1], len(periods), idx)
    return idx


def _keys(frame: pd.DataFrame, dims: list[str], column_of: dict[str, str]) -> list[tuple[str, ...]]:
    if not dims:
        return [()] * len(frame)
    return list(zip(*(frame[column_of[d]].astype(str) for d in dims), strict=True))


def _node_masks(hierarchy: Hierarchy, keys: list[tuple[str, ...]]) -> np.ndarray:
    """[nodes, rows]: which rows (by their bottom key) belong to each node."""
    bottom_index = {hierarchy.nodes[b].keys: j for j, b in enumerate(hierarchy.bottom)}
    dims = hierarchy.dims
    col = np.array([bottom_index[tuple(zip(dims, k, strict=True))] for k in keys], dtype=np.int64)
    return hierarchy.S[:, col] > 0 if len(keys) else np.zeros((len(hierarchy.nodes), 0), bool)


def _group_label(hierarchy: Hierarchy, index: int) -> dict[str, str]:
    group = hierarchy.nodes[index].group
    return {d: group.get(d, "All") for d in hierarchy.dims}


def _apply_slip(slip: np.ndarray, points: float) -> np.ndarray:
    out = np.append(slip, 0.0) if len(slip) < 2 else slip.copy()
    move = points / 100.0
    move = min(move, out[0]) if move > 0 else max(move, -out[1])
    out[0] -= move
    out[1] += move
    return out


def run_forecast(warehouse: Warehouse, params: ForecastInput, *, scope: Scope | None = None) -> ForecastResult:
    scope = scope or Scope.everything()
    warm_imports.start()  # the model libraries import while the warehouse loads
    data = load(warehouse, params, scope)
    warm_imports.wait()
    return compute(data, params, scope)


def compute(data: Loaded, params: ForecastInput, scope: Scope) -> ForecastResult:
    cal, as_of, grain, dims = data.calendar, data.as_of, params.grain, params.by
    warnings: list[DataWarning] = [DataWarning(code="history", message=n) for n in data.notes]
    current = cal.period_of(as_of, grain)
    in_progress = as_of > current.start
    first = cal.shift(current, 1) if in_progress else current
    forecast_periods = [cal.shift(first, i) for i in range(params.horizon)]
    ts_periods = ([current] if in_progress else []) + forecast_periods
    offset = 1 if in_progress else 0

    bookings = data.bookings
    first_day = bookings["date"].min().date()
    history = [p for p in cal.periods(first_day, current.start, grain) if p.end <= current.start]
    if len(history) < 3:
        raise InputError(
            f"Only {len(history)} complete {grain}s of bookings before {current.start}: "
            "at least 3 are needed to forecast.",
            "Forecast by quarter instead of month, or import a longer bookings history.",
        )

    pipe = data.pipeline
    book_keys = _keys(bookings, dims, {d: d for d in dims})
    pipe_keys = _keys(pipe, dims, PIPE_COLUMN) if not pipe.empty else []
    hierarchy = build_hierarchy(dims, list(set(book_keys) | set(pipe_keys)) or [()])
    bottom_of = {hierarchy.nodes[b].keys: j for j, b in enumerate(hierarchy.bottom)}
    n_nodes, n_bottom = len(hierarchy.nodes), len(hierarchy.bottom)

    # Bottom series over complete history periods.
    t_idx = _period_index([*history, current], bookings["date"])
    bottom_col = np.array([bottom_of[tuple(zip(dims, k, strict=True))] for k in book_keys], dtype=np.int64)
    bottom_values = np.zeros((n_bottom, len(history)))
    in_hist = (t_idx >= 0) & (t_idx < len(history))
    np.add.at(bottom_values, (bottom_col[in_hist], t_idx[in_hist]), bookings["amount"].to_numpy()[in_hist])
    values = hierarchy.aggregate(bottom_values)

    # Time series, reconciled.
    ts = forecast_series(
        values,
        hierarchy.ids,
        season_length=SEASON[grain],
        horizon=len(ts_periods),
        method=params.method,
        want_fitted=params.reconcile == "mint_shrink",
    )
    warnings += [DataWarning(code="low_history", message=w) for w in ts.warnings]
    ts_mean = reconcile(hierarchy, ts.mean, params.reconcile, actual=values, fitted=ts.fitted)
    ts_lo, ts_hi = shift_intervals(ts.mean, ts_mean, ts.lo, ts.hi)
    backtest = _backtest(hierarchy, ts, params.reconcile)

    # Booked so far in the period in progress.
    booked_now = np.zeros((n_nodes, len(ts_periods)))
    if in_progress:
        now = t_idx == len(history)
        per_bottom = np.zeros(n_bottom)
        np.add.at(per_bottom, bottom_col[now], bookings["amount"].to_numpy()[now])
        booked_now[:, 0] = hierarchy.aggregate(per_bottom)

    metrics: dict[str, Any] = {
        "method": params.method,
        "model_weights": {k: round(float(v), 3) for k, v in pd.DataFrame(ts.weights).mean().items()},
        "reconcile": params.reconcile,
        "backtest": backtest["overall"],
        "as_of": as_of.isoformat(),
        "grain": grain,
        "first_period": forecast_periods[0].name,
        "trials": params.trials,
        "seed": params.seed,
    }
    if data.scenario is not None:
        metrics["scenario"] = data.scenario
    tables: dict[str, list[dict[str, Any]]] = {"backtest": backtest["rows"]}

    # Pipeline, blended, baseline and what-if.
    use_pipeline = data.has_opportunities and not pipe.empty
    if use_pipeline:
        pieces = _pipeline_parts(data, params, scope, hierarchy, pipe, pipe_keys, bottom_of, ts_periods, cal)
        warnings += pieces["warnings"]
        metrics["win_model"] = pieces["report"].metrics() | {"deal_sample": data.deal_sample}
        tables["reliability"] = pieces["report"].reliability
        share = _effective_share(hierarchy, bookings, book_keys, history, ts_periods, as_of, ts_mean)
        baseline = _blend(
            hierarchy,
            pieces,
            WhatIf(),
            ts_mean,
            ts_lo,
            ts_hi,
            share,
            booked_now,
            params,
            pieces["win_rate"],
        )
        whatif = (
            None
            if params.what_if.is_baseline()
            else _blend(
                hierarchy,
                pieces,
                params.what_if,
                ts_mean,
                ts_lo,
                ts_hi,
                share,
                booked_now,
                params,
                pieces["win_rate"],
            )
        )
        pipeline_amount = pieces["open_amount"]
    else:
        if not data.has_opportunities:
            warnings.append(
                DataWarning(
                    code="no_pipeline",
                    message="No opportunities in scope: a pure time-series forecast (no pipeline component).",
                )
            )
        baseline = {
            "p10": ts_lo + booked_now,
            "p50": ts_mean + booked_now,
            "p90": ts_hi + booked_now,
            "mean": ts_mean + booked_now,
        }
        if in_progress:  # the TS forecasts the whole period; part of it is already booked
            for k in ("p10", "p50", "p90", "mean"):
                baseline[k][:, 0] = np.maximum(baseline[k][:, 0] - booked_now[:, 0], booked_now[:, 0])
        whatif = None
        if not params.what_if.is_baseline():
            scale = (1 + params.what_if.deal_size_pct / 100) * (1 + params.what_if.pipeline_growth_pct / 100)
            whatif = {k: v * scale for k, v in baseline.items()}
            warnings.append(
                DataWarning(
                    code="what_if_scaled",
                    message="Without pipeline data, what-if adjustments scale the whole forecast.",
                )
            )
        pipeline_amount = np.zeros((n_nodes, len(ts_periods)))

    targets = node_targets(hierarchy, data.filters, ts_periods, cal, data.targets, data.quotas)
    win_rates = _win_rates(hierarchy, data.closed, dims)
    rows, current_rows = [], []
    for i in range(n_nodes):
        group = _group_label(hierarchy, i)
        for k, period in enumerate(ts_periods):
            target = None if np.isnan(targets[i, k]) else float(targets[i, k])
            p50 = float(baseline["p50"][i, k])
            to_go = None if target is None else max(target - float(booked_now[i, k]), 0.0)
            coverage = None if not to_go else float(pipeline_amount[i, k]) / to_go
            row = {
                "period": period.name,
                **group,
                "level": hierarchy.level_name(hierarchy.nodes[i].level),
                "p10": round(float(baseline["p10"][i, k]), 2),
                "p50": round(p50, 2),
                "p90": round(float(baseline["p90"][i, k]), 2),
                "mean": round(float(baseline["mean"][i, k]), 2),
                "target": None if target is None else round(target, 2),
                "gap": None if target is None else round(target - p50, 2),
                "pipeline": round(float(pipeline_amount[i, k]), 2),
                "coverage": None if coverage is None else round(coverage, 2),
                "required_coverage": None if not win_rates[i] else round(1 / win_rates[i], 2),
                "win_rate": None if win_rates[i] is None else round(win_rates[i], 4),
                "model": ts.chosen[i],
            }
            if in_progress and k == 0:
                current_rows.append({**row, "booked_to_date": round(float(booked_now[i, 0]), 2)})
            else:
                rows.append(row)
    tables["forecast"] = rows
    tables["history"] = [
        {
            "period": period.name,
            **_group_label(hierarchy, i),
            "bookings": round(float(values[i, t]), 2),
        }
        for i, node in enumerate(hierarchy.nodes)
        if node.level <= 1
        for t, period in enumerate(history)
    ]
    if current_rows:
        tables["current_period"] = current_rows
    if whatif is not None:
        tables["what_if"] = [
            {
                "period": period.name,
                **_group_label(hierarchy, i),
                "p50_baseline": round(float(baseline["p50"][i, k]), 2),
                "p50_what_if": round(float(whatif["p50"][i, k]), 2),
                "delta": round(float(whatif["p50"][i, k] - baseline["p50"][i, k]), 2),
                "p10_what_if": round(float(whatif["p10"][i, k]), 2),
                "p90_what_if": round(float(whatif["p90"][i, k]), 2),
            }
            for i in range(n_nodes)
            for k, period in enumerate(ts_periods)
            if not (in_progress and k == 0)
        ]
        metrics["what_if"] = params.what_if.model_dump()

    first_row = next(r for r in rows if r["level"] == TOTAL and r["period"] == forecast_periods[0].name)
    metrics["total_first_period"] = {k: first_row[k] for k in ("p10", "p50", "p90", "target", "gap")}
    recs, deals = recommendations(
        hierarchy,
        rows,
        current_rows,
        pipe if use_pipeline else None,
        pieces["p"] if use_pipeline else None,
        ts_periods,
        offset,
        backtest,
        dims,
        PIPE_COLUMN,
        top_name=_top_label(scope, data.filters),
    )
    if deals:
        tables["deals_to_watch"] = deals
    summary = _summary(first_row, forecast_periods[0], scope, data.filters, backtest["overall"], current_rows)
    assumptions = [
        f"Forecast as of {as_of}; history: {len(history)} complete {grain}s from {history[0].name}.",
        "Time-series models are chosen per series by rolling-origin backtest (MASE), never by in-sample fit.",
        f"Grouped forecasts are reconciled with {params.reconcile}; quantiles are per series "
        "and do not add up (means do).",
    ]
    if use_pipeline:
        assumptions.append(
            "Open deals win with calibrated probabilities and slip by the historical slip distribution; "
            "business not yet in pipeline follows the run-rate share observed in past periods."
        )
    return ForecastResult(
        summary=summary,
        metrics=metrics,
        tables=tables,
        recommendations=recs,
        assumptions=assumptions,
        warnings=warnings,
        data_fingerprint=data.fingerprint,
    )


def _backtest(hierarchy: Hierarchy, ts: Any, method: str) -> dict[str, Any]:
    if ts.cv.empty:
        return {
            "overall": {"mase": None, "wape": None, "bias": None, "coverage_80": None, "points": 0},
            "rows": [],
        }
    cv = ts.cv.copy()
    base = accuracy(cv, ts.scales)
    # Reconcile each backtest origin as the live forecast would be.
    ids = hierarchy.ids
    parts = []
    for cutoff, group in cv.groupby("cutoff"):
        g = group.set_index(["unique_id", "step"]).sort_index()
        steps = sorted(g.index.get_level_values("step").unique())
        mean = np.array([[g.loc[(sid, s), "yhat"] for s in steps] for sid in ids])
        lo = np.array([[g.loc[(sid, s), "lo"] for s in steps] for sid in ids])
        hi = np.array([[g.loc[(sid, s), "hi"] for s in steps] for sid in ids])
        actual = fitted = None
        if method == "mint_shrink" and ts.cv_fitted is not None:
            f = ts.cv_fitted[ts.cv_fitted["cutoff"] == cutoff].sort_values("ds")
            actual = np.vstack([f[f["unique_id"] == sid]["y"].to_numpy() for sid in ids])
            fitted = np.nan_to_num(np.vstack([f[f["unique_id"] == sid]["yhat"].to_numpy() for sid in ids]))
        rec = reconcile(
            hierarchy,
            mean,
            method if (method != "mint_shrink" or fitted is not None) else "wls_struct",
            actual=actual,
            fitted=fitted,
        )
        rlo, rhi = shift_intervals(mean, rec, lo, hi)
        for i, sid in enumerate(ids):
            for j, s in enumerate(steps):
                parts.append((sid, cutoff, s, g.loc[(sid, s), "y"], rec[i, j], rlo[i, j], rhi[i, j]))
    rcv = pd.DataFrame(parts, columns=["unique_id", "cutoff", "step", "y", "yhat", "lo", "hi"])
    rec_acc = accuracy(rcv, ts.scales)
    by_series = accuracy_by_series(rcv, ts.scales)
    rows = []
    for i, node in enumerate(hierarchy.nodes):
        acc = by_series.get(node.id)
        if acc is None:
            continue
        rows.append(
            {
                "series": node.id,
                "level": hierarchy.level_name(node.level),
                "model": ts.chosen[i],
                **acc.as_dict(),
            }
        )
    overall = rec_acc.as_dict() | {
        "windows": int(cv["cutoff"].nunique()),
        "horizon": int(cv["step"].max()),
        "reconciliation": {
            "method": method,
            "base_mase": round(base.mase, 3),
            "reconciled_mase": round(rec_acc.mase, 3),
        },
    }
    return {"overall": overall, "rows": rows, "by_series": by_series}


def _pipeline_parts(
    data: Loaded,
    params: ForecastInput,
    scope: Scope,
    hierarchy: Hierarchy,
    pipe: pd.DataFrame,
    pipe_keys: list[tuple[str, ...]],
    bottom_of: dict[Any, int],
    periods: list[Period],
    cal: FiscalCalendar,
) -> dict[str, Any]:
    warnings: list[DataWarning] = []
    dims = hierarchy.dims
    # Win model (cached per data, as-of, scope and filters).
    key = (data.fingerprint, data.as_of, scope, str(sorted(data.filters.items())), params.seed)
    report = _MODEL_CACHE.get(key)
    if report is None:
        training = data.training if not data.training.empty else pipe.iloc[0:0].assign(labelled=False)
        holdout_end = pd.Timestamp(data.as_of) - pd.Timedelta(days=90)
        report = train_win_model(
            training,
            data.stage_defaults,
            holdout_start=holdout_end - pd.Timedelta(days=182),
            holdout_end=holdout_end,
            seed=params.seed,
        )
        _MODEL_CACHE[key] = report
        while len(_MODEL_CACHE) > 8:
            _MODEL_CACHE.pop(next(iter(_MODEL_CACHE)))
    warnings += [DataWarning(code="win_model", message=w) for w in report.warnings]

    # Outliers (robust z of log amount within segment, in scope) leave the simulation.
    log_amount = np.log(pipe["amount"].clip(lower=1.0))
    reference = np.log(data.training["amount"].clip(lower=1.0)) if not data.training.empty else log_amount
    ref_seg = data.training["segment"] if not data.training.empty else pipe["segment"]
    med = reference.groupby(ref_seg.to_numpy()).median()
    mad = (reference - ref_seg.map(med)).abs().groupby(ref_seg.to_numpy()).median().clip(lower=0.05) * 1.4826
    z = (log_amount - pipe["segment"].map(med).fillna(log_amount.median())) / pipe["segment"].map(mad).fillna(1.0)
    outlier = (z.abs() > OUTLIER_Z).to_numpy() | (pipe["amount"] <= 0).to_numpy()
    if outlier.any():
        warnings.append(
            DataWarning(
                code="amount_outliers",
                count=int(outlier.sum()),
                message=f"{int(outlier.sum())} open deals with implausible amounts "
                f"(${pipe['amount'][outlier].sum():,.0f} in all) are left out of the pipeline; "
                "correct them in the CRM.",
            )
        )
    overdue = (pipe["close_date"] < pd.Timestamp(data.as_of)).to_numpy()
    if overdue.any():
        warnings.append(
            DataWarning(
                code="zombie_opportunities",
                count=int(overdue.sum()),
                message=f"{int(overdue.sum())} open deals (${pipe['amount'][overdue].sum():,.0f}) are past their "
                "close date; the model scores them low and plans them for the first period.",
            )
        )

    stale = ((pipe["days_in_stage"] > STALE_DAYS) & ~overdue).to_numpy()
    if stale.any():
        warnings.append(
            DataWarning(
                code="stale_stages",
                count=int(stale.sum()),
                message=f"{int(stale.sum())} open deals have not changed stage in over {STALE_DAYS} days "
                "(time in stage lowers their win probability in the model).",
            )
        )
    p = report.model.predict(pipe)
    p[outlier] = 0.0
    # Slip in periods, from won deals in the training snapshots.
    span = cal.periods(
        min(pipe["close_date"].min(), pd.Timestamp(data.as_of)).date() - timedelta(days=1500),
        max(pipe["close_date"].max().date(), periods[-1].end) + timedelta(days=1),
        params.grain,
    )
    slip = np.array([1.0])
    if not data.training.empty:
        won = data.training[data.training["labelled"].astype(bool) & data.training["won"].astype(bool)]
        if len(won) >= 30:
            planned_date = won[["close_date", "snapshot"]].max(axis=1)
            slip = slip_distribution(_period_index(span, planned_date), _period_index(span, won["final_close"]))
    planned_date = pipe["close_date"].where(
        pipe["close_date"] >= pd.Timestamp(periods[0].start), pd.Timestamp(periods[0].start)
    )
    planned = _period_index(periods, planned_date)
    bottom = np.array([bottom_of[tuple(zip(dims, k, strict=True))] for k in pipe_keys], dtype=np.int64)
    open_bottom = np.zeros((len(hierarchy.bottom), len(periods)))
    in_range = (planned >= 0) & (planned < len(periods)) & ~outlier
    np.add.at(open_bottom, (bottom[in_range], planned[in_range]), pipe["amount"].to_numpy()[in_range])
    closed = data.closed
    win_rate = float((closed["is_won"]).mean()) if len(closed) else report.model.base_rate
    return {
        "report": report,
        "p": p,
        "amount": pipe["amount"].to_numpy(dtype=float),
        "planned": planned,
        "bottom": bottom,
        "slip": slip,
        "warnings": warnings,
        "open_amount": hierarchy.aggregate(open_bottom),
        "win_rate": win_rate or 0.2,
    }


def _effective_share(
    hierarchy: Hierarchy,
    bookings: pd.DataFrame,
    keys: list[tuple[str, ...]],
    history: list[Period],
    periods: list[Period],
    as_of: date,
    ts_mean: np.ndarray,
) -> np.ndarray:
    """Share of each period's forecast still to come from deals not yet created, coherent
    across the hierarchy: bottom shares times bottom forecasts, summed up, over each node's
    forecast."""
    masks = _node_masks(hierarchy, keys)
    offsets = [(p.start - as_of).days for p in periods]
    share = new_business_share(bookings, masks, [p.start for p in history], [p.end for p in history], offsets)
    bottom = hierarchy.bottom
    expected = hierarchy.aggregate(share[bottom] * ts_mean[bottom])
    with np.errstate(divide="ignore", invalid="ignore"):
        eff = np.where(ts_mean > 0, expected / ts_mean, share)
    return np.clip(eff, 0.0, 1.0)


def _blend(
    hierarchy: Hierarchy,
    pieces: dict[str, Any],
    what_if: WhatIf,
    ts_mean: np.ndarray,
    ts_lo: np.ndarray,
    ts_hi: np.ndarray,
    share: np.ndarray,
    booked: np.ndarray,
    params: ForecastInput,
    win_rate: float,
) -> dict[str, np.ndarray]:
    size = 1 + what_if.deal_size_pct / 100
    p = np.clip(pieces["p"] + what_if.win_rate_pts / 100 * (pieces["p"] > 0), 0.0, 1.0)
    slip = _apply_slip(pieces["slip"], what_if.slip_rate_pts) if what_if.slip_rate_pts else pieces["slip"]
    draws = simulate(
        pieces["amount"] * size,
        p,
        pieces["planned"],
        pieces["bottom"],
        groups=len(hierarchy.bottom),
        periods=ts_mean.shape[1],
        slip=slip,
        trials=params.trials,
        seed=params.seed,
    )
    samples = np.einsum("nb,tbp->tnp", hierarchy.S, draws.samples)
    new_factor = (
        size * (1 + what_if.pipeline_growth_pct / 100) * max(win_rate + what_if.win_rate_pts / 100, 0.0) / win_rate
    )
    return blend(ts_mean, ts_lo, ts_hi, samples, share * new_factor, booked, seed=params.seed + 1)


def _win_rates(hierarchy: Hierarchy, closed: pd.DataFrame, dims: list[str]) -> list[float | None]:
    """Value-weighted win rate of deals closed in the last 12 months, per node."""
    if closed.empty:
        return [None] * len(hierarchy.nodes)
    out: list[float | None] = []
    for node in hierarchy.nodes:
        rows = closed
        for dim, value in node.keys:
            rows = rows[rows[PIPE_COLUMN[dim]].astype(str) == value]
        total = float(rows["amount"].sum()) if len(rows) else 0.0
        out.append(
            float(rows.loc[rows["is_won"].astype(bool), "amount"].sum()) / total
            if total > 0 and len(rows) >= 10
            else None
        )
    return out


def _money(value: float | None) -> str:
    if value is None:
        return "-"
    v = abs(value)
    sign = "-" if value < 0 else ""
    if v >= 1e6:
        return f"{sign}${v / 1e6:.1f}M"
    if v >= 1e3:
        return f"{sign}${v / 1e3:.0f}K"
    return f"{sign}${v:,.0f}"


def _top_label(scope: Scope, filters: dict[str, list[str]]) -> str:
    """What the hierarchy's top node stands for: the filters, else the scope ("Total" for all)."""
    what = ", ".join(f"{d} {'/'.join(v)}" for d, v in filters.items())
    return what or ("Total" if scope.kind == "all" else scope.describe())


def _summary(
    row: dict[str, Any],
    period: Period,
    scope: Scope,
    filters: dict[str, list[str]],
    backtest: dict[str, Any],
    current: list[dict[str, Any]],
) -> str:
    text = f"{_top_label(scope, filters)} {period.name} P50 {_money(row['p50'])} (P10 {_money(row['p10'])}, P90 {_money(row['p90'])})"
    if row["target"]:
        gap = row["target"] - row["p50"]
        side = "short" if gap > 0 else "ahead"
        text += f" vs target {_money(row['target'])}: {_money(abs(gap))} ({abs(gap) / row['target']:.0%}) {side}"
    if backtest.get("mase") is not None:
        text += f"; backtest MASE {backtest['mase']:.2f}, WAPE {backtest['wape']:.0%}"
    total_now = next((c for c in current if c["level"] == TOTAL), None)
    if total_now and total_now.get("target"):
        text += (
            f". {total_now['period']} in progress: {_money(total_now['booked_to_date'])} booked, "
            f"landing P50 {_money(total_now['p50'])} vs {_money(total_now['target'])}"
        )
    return text + "."
