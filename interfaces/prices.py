"""The price table `SPM_PRICES` names: USD per million tokens for each model, in TOML or JSON.

    # prices.toml: a table per model, named as `spm audit show` names its calls (or provider:model)
    ["gpt-4o-mini"]
    input = 0.15         # USD per million input tokens
    output = 0.60        # USD per million output tokens
    cached_input = 0.075 # optional: input tokens read from the prompt cache (default: input)

    ["anthropic:claude-sonnet-4-5"]
    input = 3.0
    output = 15.0

JSON is the same shape: `{"gpt-4o-mini": {"input": 0.15, "output": 0.6}}`. The file is checked
whole when an agent is built, so a typo fails at start-up naming the file and the entry, not
later as a run without a cost. The arithmetic is agent/cost.py's.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from warehouse.errors import InputError, NotFoundError

if TYPE_CHECKING:
    from agent.cost import Price
    from interfaces.settings import Settings

EXAMPLE = '["gpt-4o-mini"] with input = 0.15 and output = 0.60 (USD per million tokens; cached_input optional)'


class PriceEntry(BaseModel):
    """One model's prices as the file gives them."""

    model_config = ConfigDict(extra="forbid", strict=True)  # "0.15" or true is a typo, not a price

    input: float = Field(ge=0, allow_inf_nan=False)
    output: float = Field(ge=0, allow_inf_nan=False)
    cached_input: float | None = Field(None, ge=0, allow_inf_nan=False)


def configured_prices(settings: Settings) -> dict[str, Price] | None:
    return read_prices(settings.prices) if settings.prices else None


def read_prices(path: Path) -> dict[str, Price]:
    """The table in `path` (`.json`: JSON; anything else: TOML). InputError names what to fix."""
    from agent.cost import Price

    entries = _entries(path)
    table: dict[str, Price] = {}
    for model, value in entries.items():
        if not isinstance(value, dict):
            raise InputError(
                f"{path}: the entry {model!r} is {type(value).__name__} {value!r}, not a table of prices.",
                f"Give each model its own table, e.g. {EXAMPLE}.",
            )
        try:
            entry = PriceEntry.model_validate(value)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'entry'}: {e['msg']}" for e in exc.errors())
            raise InputError(
                f"{path}: the prices of {model!r} are invalid ({problems}).", f"Write them as {EXAMPLE}."
            ) from exc
        table[model] = Price(input=entry.input, output=entry.output, cached_input=entry.cached_input)
    return table


def _entries(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise NotFoundError(
            f"The price file {path} (SPM_PRICES) does not exist.", "Create it, or unset SPM_PRICES."
        ) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(
            f"The price file {path} (SPM_PRICES) cannot be read: {exc}.", "Fix the file, or unset SPM_PRICES."
        ) from exc
    as_json = path.suffix.lower() == ".json"
    try:
        data: Any = json.loads(text) if as_json else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        kind = "JSON" if as_json else "TOML (files not named .json are read as TOML)"
        raise InputError(
            f"The price file {path} is not valid {kind}: {exc}.", f"Write each model as {EXAMPLE}."
        ) from exc
    if not isinstance(data, dict):
        raise InputError(
            f"The price file {path} holds a {type(data).__name__}, not a table of models.", f"Write {EXAMPLE}."
        )
    return data
