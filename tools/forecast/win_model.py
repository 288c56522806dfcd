"""Win probabilities for open deals: a classifier trained on past snapshots.

Training rows are deals as they stood at month starts (stage, time in stage, deal age, amount,
segment, product, type, owner tenure, pushes so far, days to the planned close, forecast
category), labelled with their eventual outcome. The classifier is an L2-regularised logistic
regression over one-hot categories and standardised (log-scaled where skewed) numbers: it is
calibrated by construction and fits in milliseconds, which matters because the forecast trains
one model per region x segment cell (tools/forecast/cells.py says why). On the demo companies
its pooled holdout Brier score is within 2% of one gradient-boosting model over all deals, and
better than gradient boosting per cell (bench/RESULTS.md, win model). Rows are split by time:

* train: snapshots before `holdout_start`;
* holdout: snapshots in [`holdout_start`, `holdout_end`) of deals closed by the as-of date,
  scored by Brier against the stage-default probabilities and the base rate.

The model used on the open pipeline is then refit the same way on all labelled snapshots.
With too few closed deals it falls back to win rates by stage (or the stage defaults).
The forecast trains one model per region x segment cell (tools/forecast/cells.py); `pooled`
scores several cells' holdouts together.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

CATEGORICAL = ("stage", "segment", "product", "type", "forecast_category")
LOG_SCALED = ("days_in_stage", "deal_age", "rep_tenure")  # long right tails
NUMERIC = (
    "log_amount",
    "days_in_stage",
    "deal_age",
    "days_to_close",
    "rep_tenure",
    "push_count",
    "stage_default",
)
MIN_ROWS = 500
MIN_WINS = 50
MAX_TRAIN_ROWS = 10_000  # per fit: more rows did not change the pooled holdout Brier (0.1128 at 10k-40k, medium demo)


@dataclass
class WinModel:
    kind: str  # "classifier" | "stage_rates" | "stage_defaults"
    stage_defaults: dict[str, float]
    estimator: object | None = None
    categories: dict[str, list[str]] = field(default_factory=dict)
    stage_rates: dict[str, float] = field(default_factory=dict)
    base_rate: float = 0.0

    def predict(self, rows: pd.DataFrame) -> np.ndarray:
        if self.kind == "classifier" and self.estimator is not None:
            return self.estimator.predict_proba(features(rows, self.stage_defaults, self.categories))[:, 1]  # type: ignore[attr-defined]
        table = self.stage_rates if self.kind == "stage_rates" else self.stage_defaults
        fallback = self.base_rate or 0.2
        return rows["stage"].map(table).fillna(fallback).to_numpy(dtype=float)


@dataclass
class WinModelReport:
    model: WinModel
    brier: float | None
    brier_stage_default: float | None
    brier_base_rate: float | None
    holdout_rows: int
    train_rows: int
    reliability: list[dict[str, float]]
    warnings: list[str]
    holdout: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None  # y, p, p_stage, p_base

    def metrics(self) -> dict[str, object]:
        return {
            "kind": self.model.kind,
            "brier": _round(self.brier),
            "brier_stage_default": _round(self.brier_stage_default),
            "brier_base_rate": _round(self.brier_base_rate),
            "holdout_rows": self.holdout_rows,
            "train_rows": self.train_rows,
        }


def pooled(reports: list[WinModelReport]) -> tuple[dict[str, object], list[dict[str, float]]]:
    """Brier scores and the reliability curve over several models' holdouts together."""
    from sklearn.calibration import calibration_curve

    parts = [r.holdout for r in reports if r.holdout is not None and len(r.holdout[0])]
    kinds = sorted({r.model.kind for r in reports})
    out: dict[str, object] = {
        "kind": kinds[0] if len(kinds) == 1 else "mixed: " + ", ".join(kinds),
        "models": len(reports),
        "classifiers": sum(r.model.kind == "classifier" for r in reports),
        "holdout_rows": sum(r.holdout_rows for r in reports),
        "train_rows": sum(r.train_rows for r in reports),
        "brier": None,
        "brier_stage_default": None,
        "brier_base_rate": None,
    }
    if not parts:
        return out, []
    y, p, p_stage, p_base = (np.concatenate([part[k] for part in parts]) for k in range(4))
    out |= {
        "brier": _round(brier(y, p)),
        "brier_stage_default": _round(brier(y, p_stage)),
        "brier_base_rate": _round(brier(y, p_base)),
    }
    frac, mean_p = calibration_curve(y, p, n_bins=10, strategy="quantile")
    curve = [
        {"predicted": round(float(a), 4), "observed": round(float(b), 4)} for a, b in zip(mean_p, frac, strict=True)
    ]
    return out, curve


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)


def features(rows: pd.DataFrame, stage_defaults: dict[str, float], categories: dict[str, list[str]]) -> pd.DataFrame:
    out = pd.DataFrame(index=rows.index)
    for col in CATEGORICAL:
        cats = categories.get(col) or sorted(rows[col].astype(str).unique())
        out[col] = pd.Categorical(rows[col].astype(str), categories=cats)
    out["log_amount"] = np.log1p(rows["amount"].clip(lower=0).to_numpy(dtype=float))
    for col in ("days_in_stage", "deal_age", "days_to_close", "rep_tenure", "push_count"):
        out[col] = rows[col].to_numpy(dtype=float)
    out["stage_default"] = rows["stage"].map(stage_defaults).fillna(0.0).to_numpy(dtype=float)
    return out


def _design(frame: pd.DataFrame) -> pd.DataFrame:
    """Features as the classifier reads them: categories as text, skewed numbers log-scaled."""
    out = frame.copy()
    for col in CATEGORICAL:
        out[col] = out[col].astype(str)
    for col in LOG_SCALED:
        out[col] = np.log1p(out[col].clip(lower=0))
    return out


def _fit(rows: pd.DataFrame, stage_defaults: dict[str, float], seed: int) -> WinModel:
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

    rows = rows.sort_values("snapshot", kind="stable")
    if len(rows) > MAX_TRAIN_ROWS:  # evenly thinned, keeping the time order
        rows = rows.iloc[np.linspace(0, len(rows) - 1, MAX_TRAIN_ROWS).astype(int)]
    categories = {col: sorted(rows[col].astype(str).unique()) for col in CATEGORICAL}
    X = features(rows, stage_defaults, categories)
    y = rows["won"].astype(bool).to_numpy()
    columns = ColumnTransformer(
        [
            ("categories", OneHotEncoder(handle_unknown="ignore"), list(CATEGORICAL)),
            ("numbers", StandardScaler(), list(NUMERIC)),
        ]
    )
    model = make_pipeline(
        FunctionTransformer(_design), columns, LogisticRegression(C=1.0, max_iter=1_000, random_state=seed)
    )
    model.fit(X, y)
    return WinModel(
        kind="classifier",
        stage_defaults=stage_defaults,
        estimator=model,
        categories=categories,
        base_rate=float(y.mean()),
    )


def _stage_rate_model(rows: pd.DataFrame, stage_defaults: dict[str, float]) -> WinModel:
    if len(rows) >= 100:
        rates = rows.groupby("stage")["won"].mean().to_dict()
        return WinModel("stage_rates", stage_defaults, stage_rates=rates, base_rate=float(rows["won"].mean()))
    return WinModel("stage_defaults", stage_defaults, base_rate=float(rows["won"].mean()) if len(rows) else 0.0)


def brier(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean((np.clip(p, 0, 1) - y.astype(float)) ** 2))


def train_win_model(
    snapshots: pd.DataFrame,
    stage_defaults: dict[str, float],
    *,
    holdout_start: pd.Timestamp,
    holdout_end: pd.Timestamp,
    seed: int = 0,
) -> WinModelReport:
    """Fit, evaluate on the time-based holdout, then refit on everything labelled."""
    from sklearn.calibration import calibration_curve

    labelled = snapshots[snapshots["labelled"].astype(bool)].copy()
    labelled["won"] = labelled["won"].astype(bool)
    train = labelled[labelled["snapshot"] < holdout_start]
    holdout = labelled[(labelled["snapshot"] >= holdout_start) & (labelled["snapshot"] < holdout_end)]
    notes: list[str] = []
    enough = len(train) >= MIN_ROWS and int(train["won"].sum()) >= MIN_WINS and len(holdout) >= 50
    if not enough:
        notes.append(
            f"Only {len(train)} training snapshots with {int(train['won'].sum())} wins: win "
            "probabilities use win rates by stage instead of a trained model."
        )
        model = _stage_rate_model(labelled, stage_defaults)
        evaluate = model
    else:
        evaluate = _fit(train, stage_defaults, seed)
        model = _fit(labelled[labelled["snapshot"] < holdout_end], stage_defaults, seed)

    b = b_stage = b_base = None
    reliability: list[dict[str, float]] = []
    kept = None
    if len(holdout):
        y = holdout["won"].to_numpy()
        p = evaluate.predict(holdout)
        p_stage = holdout["stage"].map(stage_defaults).fillna(0.0).to_numpy(dtype=float)
        p_base = np.full(len(y), float(train["won"].mean()) if len(train) else float(y.mean()))
        b, b_stage, b_base = brier(y, p), brier(y, p_stage), brier(y, p_base)
        kept = (y.astype(float), p, p_stage, p_base)
        frac, mean_p = calibration_curve(y, p, n_bins=10, strategy="quantile")
        reliability = [
            {"predicted": round(float(mp), 4), "observed": round(float(fr), 4)}
            for mp, fr in zip(mean_p, frac, strict=True)
        ]
    return WinModelReport(
        model=model,
        brier=b,
        brier_stage_default=b_stage,
        brier_base_rate=b_base,
        holdout_rows=len(holdout),
        train_rows=len(train),
        reliability=reliability,
        warnings=notes,
        holdout=kept,
    )
