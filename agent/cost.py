"""What a run's model calls cost: the tokens each call reported, priced in USD per million tokens.

Pure arithmetic over the usage the providers report (LangChain's `usage_metadata`, recorded on
each `llm_call` step). The interfaces read the price table from a file (interfaces/prices.py,
`SPM_PRICES`) and install it here, as they install the fit store, so every agent a process
builds prices its runs the same way; with no table, or a call whose model has no price, the
cost is unknown (None), never a guess.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from agent.models import parse_model
from warehouse.errors import InputError

PER_TOKENS = 1_000_000  # prices are per million tokens, as providers publish them


@dataclass(frozen=True)
class Price:
    input: float  # USD per million input tokens not read from the prompt cache
    output: float  # USD per million output tokens (reasoning tokens included: providers bill them as output)
    cached_input: float | None = None  # USD per million input tokens read from the cache; None: `input`


PriceTable = Mapping[str, Price]  # model name (as the audit trail shows it, or provider:model) -> price


def call_cost(price: Price, usage: Mapping[str, Any]) -> float:
    """USD for one call. `input_tokens` includes the cached ones (`input_token_details.cache_read`),
    as LangChain reports them for every provider, so those are taken out and priced apart."""
    inputs = int(usage.get("input_tokens") or 0)
    outputs = int(usage.get("output_tokens") or 0)
    details = usage.get("input_token_details")
    cached = min(int(details.get("cache_read") or 0), inputs) if isinstance(details, Mapping) else 0
    cached_rate = price.input if price.cached_input is None else price.cached_input
    return ((inputs - cached) * price.input + cached * cached_rate + outputs * price.output) / PER_TOKENS


def price_for(table: PriceTable, model: str) -> Price | None:
    """The price of `model`: its own entry, else the one entry of the same model at any provider
    (`openai:gpt-4o-mini` prices the calls the trail names `gpt-4o-mini`); None when unknown or
    ambiguous (two providers' prices for one model name)."""
    if model in table:
        return table[model]
    name = _bare(model)
    matches = {price for key, price in table.items() if _bare(key) == name}
    return matches.pop() if len(matches) == 1 else None


def _bare(model: str) -> str:
    try:
        return parse_model(model).name
    except InputError:  # a bare provider prefix (`openai:`) names no model
        return model


def run_cost(calls: Iterable[tuple[str, Mapping[str, Any]]], table: PriceTable) -> float | None:
    """USD for a run's calls, each `(model name, usage)`; None when any call's model has no price."""
    total = 0.0
    for model, usage in calls:
        price = price_for(table, model)
        if price is None:
            return None
        total += call_cost(price, usage)
    return total


_installed: PriceTable | None = None


def use(table: PriceTable | None) -> None:
    """Price runs with `table` from now on (the interfaces install the deployment's; None: no cost)."""
    global _installed
    _installed = table


def installed() -> PriceTable | None:
    return _installed
