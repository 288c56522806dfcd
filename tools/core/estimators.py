"""Estimators more than one tool uses: the shared market factor's variation, lognormal spreads,
default ramps by segment.

* Market CV: the CV of a selection's quarterly bookings around a log-linear trend with quarterly
  seasonality (what moves every rep's bookings together); 0.12 with under eight quarters.
* A lognormal with coefficient of variation c has log-sd sqrt(log(1 + c^2)).
"""

from __future__ import annotations

import numpy as np

DEFAULT_RAMP_MONTHS = {"Enterprise": 7, "Mid-Market": 5, "SMB": 3}


def market_cv(company_quarterly: np.ndarray) -> float:
    """CV of the scope's quarterly bookings around a log-linear trend with quarter seasonality."""
    y = np.asarray(company_quarterly, dtype=float)
    if len(y) < 8 or (y <= 0).any():
        return 0.12
    t = np.arange(len(y))
    season = np.eye(4)[t % 4]
    X = np.column_stack([t, season])
    coef, *_ = np.linalg.lstsq(X, np.log(y), rcond=None)
    resid = np.log(y) - X @ coef
    sd = float(np.std(resid, ddof=X.shape[1]) if len(y) > X.shape[1] else np.std(resid))
    return float(np.sqrt(np.exp(sd**2) - 1))


def lognormal_sigma(cv: np.ndarray | float) -> np.ndarray:
    """Log-sd of a lognormal with the given coefficient of variation."""
    return np.sqrt(np.log1p(np.square(cv)))
