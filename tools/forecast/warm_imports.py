"""Import the forecast's model libraries on a background thread while the warehouse loads.

statsforecast (which imports statsmodels) and scikit-learn take about
2.5 s to import in a fresh process, and the warehouse queries that come first take about as
long, mostly inside DuckDB, which releases the GIL. Overlapping the two takes most of the
import time off a one-shot `spm forecast` (bench/RESULTS.md, forecast speed).

`wait()` is called before any model runs, so statsforecast never forks its process pool while
an import holds a lock. A library that fails to import here fails again where it is first
used, with its usual error; nothing is swallowed for good.
"""

from __future__ import annotations

import importlib
import sys
import threading

MODULES = (
    "statsforecast",
    "statsforecast.models",
    "sklearn.linear_model",
    "sklearn.compose",
    "sklearn.preprocessing",
    "sklearn.calibration",
)

_lock = threading.Lock()
_pending: threading.Thread | None = None


def start() -> None:
    """Begin importing whatever of MODULES is not imported yet (at most one thread at a time)."""
    global _pending
    missing = [name for name in MODULES if name not in sys.modules]
    with _lock:
        if not missing or (_pending is not None and _pending.is_alive()):
            return
        _pending = threading.Thread(target=_import_all, args=(missing,), name="forecast-imports", daemon=True)
        _pending.start()


def wait() -> None:
    """Block until the background imports, if any, are done."""
    with _lock:
        thread = _pending
    if thread is not None:
        thread.join()


def _import_all(names: list[str]) -> None:
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:  # re-raised by the import where the library is used
            return
