"""A run's cost (issue 19): the arithmetic on closed-form figures, which price a call's model gets,
a run priced from its steps, and the price file (`SPM_PRICES`) with every way it can be wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent import cost
from agent.cost import Price, call_cost, price_for, run_cost
from agent.result import StepView, Usage
from interfaces.prices import read_prices
from warehouse.errors import InputError, NotFoundError

MINI = Price(input=0.15, output=0.60, cached_input=0.075)


@pytest.fixture(autouse=True)
def nothing_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cost, "_installed", None)


# --- the arithmetic ---------------------------------------------------------------------------


def test_a_call_costs_its_tokens_at_the_per_million_prices() -> None:
    # 1M input at 0.15 + 1M output at 0.60 = 0.75 exactly.
    assert call_cost(MINI, {"input_tokens": 1_000_000, "output_tokens": 1_000_000}) == pytest.approx(0.75)
    # 10,000 in x 0.15 + 2,000 out x 0.60 = (1,500 + 1,200) / 1M = 0.0027
    assert call_cost(MINI, {"input_tokens": 10_000, "output_tokens": 2_000}) == pytest.approx(0.0027)


def test_cached_input_is_taken_out_of_the_input_and_priced_apart() -> None:
    usage = {"input_tokens": 10_000, "output_tokens": 2_000, "input_token_details": {"cache_read": 4_000}}
    # 6,000 x 0.15 + 4,000 x 0.075 + 2,000 x 0.60 = (900 + 300 + 1,200) / 1M = 0.0024
    assert call_cost(MINI, usage) == pytest.approx(0.0024)
    # Without a cached price, cached tokens cost the input price: the same as no cache at all.
    assert call_cost(Price(input=0.15, output=0.60), usage) == pytest.approx(0.0027)
    # A cache count above the input (a provider's rounding) never makes the input negative.
    assert call_cost(MINI, {"input_tokens": 100, "input_token_details": {"cache_read": 500}}) == pytest.approx(
        100 * 0.075 / 1e6
    )


def test_a_call_that_reported_nothing_costs_nothing() -> None:
    assert call_cost(MINI, {}) == 0.0


def test_the_price_of_a_model_with_or_without_its_provider() -> None:
    table = {"openai:gpt-4o-mini": MINI, "claude-sonnet-4-5": Price(3.0, 15.0)}
    assert price_for(table, "openai:gpt-4o-mini") is MINI
    assert price_for(table, "gpt-4o-mini") is MINI  # the trail names the call without the provider
    assert price_for(table, "anthropic:claude-sonnet-4-5") == Price(3.0, 15.0)
    assert price_for(table, "gpt-4o") is None


def test_one_model_name_at_two_providers_at_two_prices_is_not_guessed() -> None:
    table = {"openai:llama3": Price(1.0, 1.0), "ollama:llama3": Price(0.0, 0.0)}
    assert price_for(table, "llama3") is None
    assert price_for(table, "ollama:llama3") == Price(0.0, 0.0)
    assert price_for({"openai:m": MINI, "azure_openai:m": MINI}, "m") is MINI  # the same price: no ambiguity


def test_a_run_costs_the_sum_of_its_calls_or_is_unknown() -> None:
    calls = [("gpt-4o-mini", {"input_tokens": 10_000, "output_tokens": 2_000}),
             ("gpt-4o-mini", {"input_tokens": 1_000_000})]  # fmt: skip
    assert run_cost(calls, {"gpt-4o-mini": MINI}) == pytest.approx(0.0027 + 0.15)
    assert run_cost([*calls, ("gpt-4o", {"input_tokens": 1})], {"gpt-4o-mini": MINI}) is None


# --- a run's usage ----------------------------------------------------------------------------


def _steps(*calls: tuple[str, dict[str, int] | None]) -> list[StepView]:
    steps = [StepView(seq=0, kind="question", name="cli", args={"question": "q"})]
    for name, usage in calls:
        steps.append(StepView(seq=len(steps), kind="llm_call", name=name, args={"usage": usage} if usage else None))
    return steps


def test_usage_of_a_run_is_priced_with_the_table_given_or_installed() -> None:
    steps = _steps(("gpt-4o-mini", {"input_tokens": 10_000, "output_tokens": 2_000, "total_tokens": 12_000}))
    assert Usage.of(steps).cost_usd is None  # no table
    assert Usage.of(steps, {"gpt-4o-mini": MINI}).cost_usd == pytest.approx(0.0027)
    cost.use({"gpt-4o-mini": Price(1.0, 1.0)})
    assert Usage.of(steps).cost_usd == pytest.approx(0.012)  # 12,000 tokens at 1.00 per million
    assert Usage.of(steps, None).cost_usd is None  # None: no cost, whatever is installed
    assert Usage.of(steps).model_dump() == {"model_calls": 1, "input_tokens": 10_000, "output_tokens": 2_000,
                                            "total_tokens": 12_000, "cost_usd": pytest.approx(0.012)}  # fmt: skip


def test_an_offline_run_costs_nothing_and_an_unpriced_model_is_unknown() -> None:
    offline = _steps(("offline-planner", None), ("offline-planner", None))
    assert Usage.of(offline, {"gpt-4o-mini": MINI}).cost_usd == 0.0 and Usage.of(offline).cost_usd is None
    unpriced = _steps(("gpt-4o", {"input_tokens": 5, "output_tokens": 5}))
    assert Usage.of(unpriced, {"gpt-4o-mini": MINI}).cost_usd is None


# --- the price file ---------------------------------------------------------------------------


def test_a_toml_price_file(tmp_path: Path) -> None:
    path = tmp_path / "prices.toml"
    path.write_text(
        '["gpt-4o-mini"]\ninput = 0.15\noutput = 0.60\ncached_input = 0.075\n\n'
        '["anthropic:claude-sonnet-4-5"]\ninput = 3\noutput = 15\n'
    )
    assert read_prices(path) == {"gpt-4o-mini": MINI, "anthropic:claude-sonnet-4-5": Price(3.0, 15.0)}


def test_a_json_price_file(tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    path.write_text('{"gpt-4o-mini": {"input": 0.15, "output": 0.6, "cached_input": 0.075}}')
    assert read_prices(path) == {"gpt-4o-mini": MINI}


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("p.toml", '["gpt-4o-mini"]\ninput = 0.15\n', r"prices of 'gpt-4o-mini' are invalid \(output: Field required\)"),
        ("p.toml", '["m"]\ninput = -1\noutput = 1\n', r"'m' are invalid \(input: Input should be greater than or equal to 0\)"),
        ("p.toml", '["m"]\ninput = "0.15"\noutput = 1\n', r"'m' are invalid \(input: Input should be a valid number\)"),
        ("p.toml", '["m"]\ninput = 1\noutput = 1\ncache = 1\n', r"'m' are invalid \(cache: Extra inputs are not permitted\)"),
        ("p.toml", 'm = 0.15\n', r"the entry 'm' is float 0.15, not a table of prices"),
        ("p.toml", '["m"\ninput = 1\n', r"is not valid TOML"),
        ("p.json", '{"m": {"input": 1, "output": 1}', r"is not valid JSON"),
        ("p.json", '[1, 2]', r"holds a list, not a table of models"),
    ],
    ids=["missing-output", "negative", "string", "unknown-key", "not-a-table", "bad-toml", "bad-json", "json-list"],
)  # fmt: skip
def test_a_malformed_price_file_names_the_file_the_entry_and_the_fix(
    tmp_path: Path, name: str, text: str, expected: str
) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(InputError, match=expected) as caught:
        read_prices(path)
    assert str(path) in caught.value.message
    assert caught.value.hint and "input = 0.15 and output = 0.60" in caught.value.hint  # what to write instead


def test_a_missing_price_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="SPM_PRICES"):
        read_prices(tmp_path / "nowhere.toml")
