"""Win probabilities for open deals: a calibrated classifier trained on past snapshots.

Training rows are deals as they stood at month starts (stage, time in stage, deal age, amount,
segment, product, type, owner tenure, pushes so far, days to the planned close, forecast
category), labelled with their eventual outcome. Rows are split by time:

* train: snapshots before `holdout_start`; the last quarter of them calibrates (isotonic,
  `CalibratedClassifierCV` over the frozen gradient-boosting model);
* holdout: snapshots in [`holdout_start`, `holdout_end`) of deals closed by the as-of date,
  scored by Brier against the stage-default probabilities and the base rate.

The model used on the open pipeline is then refit the same way on all labelled snapshots.
With too few closed deals it falls back to win rates by stage (or the stage defaults).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

CATEGORICAL = ("stage", "segment", "product", "type", "forecast_category")
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
MAX_TRAIN_ROWS = 40_000


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

    def metrics(self) -> dict[str, object]:
        return {
            "kind": self.model.kind,
            "brier": _round(self.brier),
            "brier_stage_default": _round(self.brier_stage_default),
            "brier_base_rate": _round(self.brier_base_rate),
            "holdout_rows": self.holdout_rows,
            "train_rows": self.train_rows,
        }


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


def _fit(rows: pd.DataFrame, stage_defaults: dict[str, float], seed: int) -> WinModel:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.frozen import FrozenEstimator

    rows = rows.sort_values("snapshot", kind="stable")
    if len(rows) > MAX_TRAIN_ROWS:  # evenly thinned, keeping the time order
        rows = rows.iloc[np.linspace(0, len(rows) - 1, MAX_TRAIN_ROWS).astype(int)]
    categories = {col: sorted(rows[col].astype(str).unique()) for col in CATEGORICAL}
    X = features(rows, stage_defaults, categories)
    y = rows["won"].astype(bool).to_numpy()
    cut = int(len(rows) * 0.75)
    base = HistGradientBoostingClassifier(
        categorical_features="from_dtype",
        max_iter=120,
        learning_rate=0.1,
        max_leaf_nodes=31,
        l2_regularization=1.0,
        random_state=seed,
    )
    base.fit(X.iloc[:cut], y[:cut])
    method = "isotonic" if len(rows) - cut >= 1_000 else "sigmoid"
    calibrated = CalibratedClassifierCV(FrozenEstimator(base), method=method)
    calibrated.fit(X.iloc[cut:], y[cut:])
    return WinModel(
        kind="classifier",
        stage_defaults=stage_defaults,
        estimator=calibrated,
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
    if len(holdout):
        y = holdout["won"].to_numpy()
        p = evaluate.predict(holdout)
        b = brier(y, p)
        b_stage = brier(y, holdout["stage"].map(stage_defaults).fillna(0.0).to_numpy(dtype=float))
        b_base = brier(y, np.full(len(y), float(train["won"].mean()) if len(train) else float(y.mean())))
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
    )
