"""What every command shares: the run state, settings, warehouse handles, error handling."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer

if TYPE_CHECKING:
    from interfaces.settings import Settings
    from warehouse.connection import Warehouse

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class State:
    warehouse_override: str | None = None


def state_callback(ctx: typer.Context, warehouse: str | None) -> None:
    ctx.obj = State(warehouse_override=warehouse)


def settings() -> Settings:
    from interfaces.settings import get_settings

    return get_settings()


def check_limits(params: Any) -> None:
    """Refuse a tool request above the deployment's caps (SPM_MAX_TRIALS, SPM_MAX_SOLVER_SECONDS)."""
    from interfaces.settings import limits

    limits(settings()).check(params)


def warehouse_path(ctx: typer.Context | None) -> Path:
    state = ctx.find_root().obj if ctx is not None else None
    if isinstance(state, State) and state.warehouse_override:
        return Path(state.warehouse_override)
    return settings().warehouse


def open_warehouse(ctx: typer.Context | None, *, writable: bool = False) -> Warehouse:
    from interfaces.compose import install_fit_store
    from warehouse.connection import Warehouse

    install_fit_store(settings())
    return Warehouse(warehouse_path(ctx), writable=writable, lock_timeout=settings().lock_timeout, key=warehouse_key())


def warehouse_key() -> str | None:
    """SPM_WAREHOUSE_KEY: the warehouse is an encrypted DuckDB database opened with it."""
    from interfaces.settings import warehouse_key as key_of

    return key_of(settings())


def warehouse_as_of(wh: Warehouse) -> date:
    """The warehouse's own as-of date (the demo's generation date), else today."""
    from tools.core.context import warehouse_as_of as as_of_of

    return as_of_of(wh.meta())


def parse_date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    from warehouse.errors import InputError

    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{option} {value!r} is not a date.", "Use YYYY-MM-DD, e.g. 2026-11-29.") from None


def handles_errors(func: F) -> F:
    """Turn any exception into a one-line message and the exit code of its kind."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except BaseException as exc:
            from interfaces.errors import fail

            fail(exc)

    return wrapper  # type: ignore[return-value]


def parse_amount(value: str | None, option: str) -> float | None:
    """'48M', '$1.5m', '250K', '1,200,000' -> a number of dollars."""
    if value is None:
        return None
    import re

    from warehouse.errors import InputError

    text = value.strip().replace(",", "").replace("$", "").replace("_", "")
    m = re.fullmatch(r"([+-]?\d+(?:\.\d+)?)\s*([kKmMbB]?)", text)
    if not m:
        raise InputError(f"{option} {value!r} is not an amount.", "Examples: 48000000, 48M, $1.5M, 250K.")
    scale = {"": 1, "k": 1e3, "m": 1e6, "b": 1e9}[m[2].lower()]
    return float(m[1]) * scale


def parse_fraction(value: str | None, option: str) -> float | None:
    """'10%', '0.1', '10' (read as percent when above 1) -> 0.1."""
    if value is None:
        return None
    from warehouse.errors import InputError

    text = value.strip().rstrip("%")
    try:
        number = float(text)
    except ValueError:
        raise InputError(f"{option} {value!r} is not a number.", "Examples: 10%, 0.1.") from None
    return number / 100 if value.strip().endswith("%") or number > 1 else number
