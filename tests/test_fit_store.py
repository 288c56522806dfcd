"""Series fits kept on disk: a fresh process gets the fit it would compute, without computing it;
damaged or foreign files are misses; the folder is private and bounded; encrypted warehouses keep
nothing on disk."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tools.forecast import fit_store, timeseries
from tools.forecast.fit_store import DiskFitStore


def _series(seed: int, n: int = 3, periods: int = 30) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(periods)
    return 100 + 2 * t + 10 * np.sin(2 * np.pi * t / 4) + rng.normal(0, 3, (n, periods))


def _forecast(values: np.ndarray) -> timeseries.TsForecast:
    return timeseries.forecast_series(values, [f"s{i}" for i in range(len(values))], season_length=4, horizon=4)


@pytest.fixture
def store(tmp_path: Path) -> DiskFitStore:
    return DiskFitStore(tmp_path / "fits")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_fresh_process_reads_the_fit_instead_of_refitting(
    store: DiskFitStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    values = _series(1)
    fit_store.use(store)
    timeseries.clear_cache()
    first = _forecast(values)
    assert len(list(store.folder.glob("*.npz"))) == len(values)  # one entry per series

    timeseries.clear_cache()  # what a new process starts with

    def no_fitting(*args: object, **kwargs: object) -> None:
        raise AssertionError("a stored fit must be read, not recomputed")

    monkeypatch.setattr(timeseries, "_fit_once", no_fitting)
    again = _forecast(values)
    np.testing.assert_array_equal(again.mean, first.mean)
    np.testing.assert_array_equal(again.lo, first.lo)
    np.testing.assert_array_equal(again.hi, first.hi)
    pd.testing.assert_frame_equal(again.cv, first.cv)
    assert again.chosen == first.chosen


def test_other_fitting_code_or_a_longer_horizon_is_a_miss(store: DiskFitStore, monkeypatch: pytest.MonkeyPatch) -> None:
    values = _series(2, n=1)
    fit_store.use(store)
    timeseries.clear_cache()
    _forecast(values)
    fits = []
    real = timeseries._fit_once

    def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        fits.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(timeseries, "_fit_once", counted)
    timeseries.clear_cache()
    timeseries.forecast_series(values, ["s0"], season_length=4, horizon=12)  # past the 8 steps stored
    assert fits == [1]
    timeseries.clear_cache()
    monkeypatch.setattr(timeseries, "_code_version", lambda: "edited")  # the module changed since
    _forecast(values)
    assert fits == [1, 1]


def test_damaged_or_foreign_files_are_misses_never_errors(store: DiskFitStore) -> None:
    values = _series(3, n=1)
    fit_store.use(store)
    timeseries.clear_cache()
    first = _forecast(values)
    (entry,) = store.folder.glob("*.npz")
    entry.write_bytes(b"not a zip file")
    timeseries.clear_cache()
    np.testing.assert_array_equal(_forecast(values).mean, first.mean)  # refitted, same numbers
    # A file holding pickled objects would run code on load: it is refused, not read.
    np.savez(entry.with_suffix(""), steps=np.array(8), parts=np.array(1), p0_columns=np.array([{"x": 1}], dtype=object))
    assert store.get(entry.stem) is None
    assert store.get("no-such-key") is None


def test_the_folder_is_private_and_bounded(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        store = DiskFitStore(tmp_path / "fits", max_bytes=1)
        frame = pd.DataFrame({"unique_id": ["_"] * 3, "ds": [0, 1, 2], "ets": [1.0, 2.0, 3.0]})
        store.put("a", (8, [frame, None, frame, None]))
        got = store.get("a")
        assert got is not None and got[0] == 8 and got[1][1] is None and got[1][3] is None
        pd.testing.assert_frame_equal(got[1][0], frame)
        assert _mode(store.folder) == 0o700 and _mode(store.folder / "a.npz") == 0o600
        store.put("b", (8, [frame, None, frame, None]))
        past = time.time() - 60
        os.utime(store.folder / "a.npz", (past, past))  # "a" is the least recently used
        store.max_bytes = (store.folder / "b.npz").stat().st_size
        store.prune()
        assert sorted(p.stem for p in store.folder.glob("*.npz")) == ["b"]
    finally:
        os.umask(old)


def test_an_unwritable_folder_costs_a_refit_not_an_error(tmp_path: Path) -> None:
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("x")
    store = DiskFitStore(blocked / "fits")
    frame = pd.DataFrame({"unique_id": ["_"], "ds": [0], "ets": [1.0]})
    store.put("a", (8, [frame, None, frame, None]))
    assert store.get("a") is None


def test_an_encrypted_warehouse_keeps_no_fits_on_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from interfaces.compose import install_fit_store
    from interfaces.settings import Settings

    install_fit_store(Settings(cache_dir=tmp_path / "cache"))
    current = fit_store.current()
    assert isinstance(current, DiskFitStore) and current.folder == tmp_path / "cache" / "fits"
    install_fit_store(Settings(cache_dir=tmp_path / "cache", warehouse_key="k" * 32))  # type: ignore[arg-type]
    assert fit_store.current() is None
