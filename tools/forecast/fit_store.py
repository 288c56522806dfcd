"""Series fits kept on disk, so a fresh process (`spm ask`, `spm forecast`, a Slack worker) does not
refit the series an earlier one already fitted.

A series' fits, forecasts and backtest rows depend on its own values and the fitting code only
(tools/forecast/timeseries.py builds the key from both), so a stored fit is the fit the process
would compute. Each entry is one `.npz` file of plain numeric arrays (read with
`allow_pickle=False`: a file in the cache folder cannot run code), written to a temporary file
and renamed, so readers see a whole entry or none. The folder is the account's own (0700, files
0600: the backtest rows hold history). It is bounded: past `max_bytes` the least recently used
entries go. A missing, unreadable or foreign file is a miss, never an error.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from warehouse.files import private_dir

if TYPE_CHECKING:  # numpy and pandas load on first use: the CLI installs a store before any fit
    import pandas as pd

Entry = tuple[int, list["pd.DataFrame | None"]]  # (steps forecast, the four frames of one series)
DEFAULT_MAX_BYTES = 512 * 1024 * 1024
PRUNE_EVERY = 200  # writes between two size checks of the folder
SERIES_ID = "_"  # every stored frame is one series, under this placeholder id (timeseries.py)


class FitStore(Protocol):
    """Where series fits outlive the process (tools/forecast/timeseries.py reads and fills it)."""

    def get(self, key: str) -> Entry | None: ...

    def put(self, key: str, entry: Entry) -> None: ...


_current: FitStore | None = None


def use(store: FitStore | None) -> None:
    """Keep fits in `store` as well as in memory (the interfaces install one; None: memory only)."""
    global _current
    _current = store


def current() -> FitStore | None:
    return _current


class DiskFitStore:
    def __init__(self, folder: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.folder = Path(folder)
        self.max_bytes = max_bytes
        self._writes = 0
        self._lock = threading.Lock()

    def _path(self, key: str) -> Path:
        return self.folder / f"{key}.npz"

    def get(self, key: str) -> Entry | None:
        import numpy as np

        path = self._path(key)
        try:
            with np.load(path, allow_pickle=False) as z:
                entry = int(z["steps"]), [_frame(z, k) for k in range(int(z["parts"]))]
            os.utime(path)  # recently used: kept longest when the folder is pruned
        except (OSError, ValueError, KeyError, zipfile.BadZipFile):
            return None
        return entry

    def put(self, key: str, entry: Entry) -> None:
        import numpy as np
        import pandas as pd

        steps, parts = entry
        arrays: dict[str, Any] = {"steps": np.array(steps), "parts": np.array(len(parts))}
        for k, frame in enumerate(parts):
            if frame is None:
                continue
            columns = [c for c in frame.columns if c != "unique_id"]
            if not all(pd.api.types.is_numeric_dtype(frame[c]) for c in columns):
                return  # not a frame this store can hold without pickling: the process keeps it in memory only
            arrays[f"p{k}_columns"] = np.array(columns, dtype=str)
            arrays |= {f"p{k}_{j}": frame[c].to_numpy() for j, c in enumerate(columns)}
        try:
            private_dir(self.folder)
            fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".tmp")  # 0600
            with os.fdopen(fd, "wb") as f:
                np.savez(f, **arrays)
            os.replace(tmp, self._path(key))
        except OSError:
            with contextlib.suppress(OSError, UnboundLocalError):
                os.unlink(tmp)
            return  # a full or read-only disk costs a refit next time, never an error
        with self._lock:
            self._writes += 1
            due = self._writes % PRUNE_EVERY == 0
        if due:
            self.prune()

    def prune(self) -> None:
        """Remove the least recently used entries until the folder is within `max_bytes`."""
        try:
            entries = [(e.stat().st_mtime, e.stat().st_size, e.path) for e in os.scandir(self.folder)]
        except OSError:
            return
        total = sum(size for _, size, _ in entries)
        for _, size, path in sorted(entries):
            if total <= self.max_bytes:
                break
            with contextlib.suppress(OSError):
                os.unlink(path)
                total -= size


def _frame(z: Any, k: int) -> pd.DataFrame | None:
    import pandas as pd

    if f"p{k}_columns" not in z.files:
        return None
    columns = [str(c) for c in z[f"p{k}_columns"]]
    data = {c: z[f"p{k}_{j}"] for j, c in enumerate(columns)}
    n = len(next(iter(data.values()))) if data else 0
    return pd.DataFrame({"unique_id": [SERIES_ID] * n, **data})
