"""Chat model providers (issue 19): `SPM_MODEL=provider:model` through LangChain's init_chat_model,
built from the settings without any network; the message when a provider's package is missing;
the temperature left out when configured `none` and when a provider refuses it; and one question
end to end over real HTTP against the local OpenAI-compatible stub, priced with `SPM_PRICES`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from langchain_core.messages import HumanMessage
from support.openai_stub import OpenAIStub, completion, tool_results
from typer.testing import CliRunner

from agent import cost
from agent.models import ModelSettings, ModelSpec, model_errors, model_label, parse_model, rejects_temperature, usable
from agent.models import remote_model as build_remote
from interfaces.cli import app
from interfaces.compose import model_settings
from interfaces.settings import Settings, get_settings
from warehouse.connection import Warehouse
from warehouse.errors import InputError

# Every variable that could point the model elsewhere on a developer's machine.
MODEL_ENV = (
    "SPM_LLM", "SPM_MODEL", "SPM_BASE_URL", "SPM_TEMPERATURE", "SPM_OLLAMA_NUM_CTX", "SPM_PRICES", "OPENAI_API_KEY",
    "OPENAI_BASE_URL", "ANTHROPIC_API_KEY", "AZURE_OPENAI_API_KEY", "AZURE_OPENAI_ENDPOINT", "OPENAI_API_VERSION",
    "OLLAMA_HOST",
)  # fmt: skip


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in MODEL_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(cost, "_installed", None)  # whatever a test installs is gone after it
    get_settings.cache_clear()


def configured(monkeypatch: pytest.MonkeyPatch, **env: str) -> ModelSettings:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings: ModelSettings = model_settings(Settings())
    return settings


def remote_model(settings: ModelSettings) -> Any:
    return build_remote(settings)  # Any: each provider's own fields are asserted on


# --- SPM_MODEL ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "provider", "name"),
    [
        ("openai:gpt-4o-mini", "openai", "gpt-4o-mini"),
        ("gpt-4o-mini", "openai", "gpt-4o-mini"),  # a bare name: OpenAI-compatible, as before providers
        ("qwen3:8b", "openai", "qwen3:8b"),  # an Ollama tag on an OpenAI-compatible /v1: not a provider
        ("openai:Qwen/Qwen2.5-7B-Instruct", "openai", "Qwen/Qwen2.5-7B-Instruct"),  # vLLM
        ("azure_openai:my-deployment", "azure_openai", "my-deployment"),
        ("anthropic:claude-sonnet-4-5", "anthropic", "claude-sonnet-4-5"),
        ("ollama:qwen3:8b", "ollama", "qwen3:8b"),
        (" Anthropic:claude-haiku-4-5 ", "anthropic", "claude-haiku-4-5"),
    ],
)
def test_spm_model_names_the_provider_and_the_model(spec: str, provider: str, name: str) -> None:
    assert parse_model(spec) == ModelSpec(provider, name)


def test_a_provider_without_a_model_is_refused() -> None:
    with pytest.raises(InputError, match=r"names no model.*provider:model"):
        parse_model("anthropic:")


def test_the_default_model_carries_its_provider_and_stays_offline_without_a_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = configured(monkeypatch)
    assert settings.model == "openai:gpt-4o-mini" and not settings.use_remote()  # nothing reaches the network


@pytest.mark.parametrize(
    ("env", "remote"),
    [
        ({"OPENAI_API_KEY": "k"}, True),
        ({"SPM_MODEL": "gpt-4o-mini", "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}, True),  # the variables of before
        ({"SPM_MODEL": "anthropic:claude-sonnet-4-5"}, False),  # no key yet
        ({"SPM_MODEL": "anthropic:claude-sonnet-4-5", "ANTHROPIC_API_KEY": "k"}, True),
        ({"SPM_MODEL": "anthropic:claude-sonnet-4-5", "OPENAI_API_KEY": "k"}, False),  # another provider's key
        ({"SPM_MODEL": "azure_openai:dep", "AZURE_OPENAI_ENDPOINT": "https://r.openai.azure.com"}, True),
        ({"SPM_MODEL": "ollama:qwen3:8b"}, True),  # naming a local model is configuring it
        ({"SPM_MODEL": "ollama:qwen3:8b", "SPM_LLM": "offline"}, False),
        ({"SPM_LLM": "openai"}, True),  # the older name of remote
        ({"SPM_LLM": "remote", "SPM_MODEL": "anthropic:claude-sonnet-4-5"}, True),
    ],
)
def test_auto_uses_the_remote_model_once_its_provider_is_configured(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], remote: bool
) -> None:
    assert configured(monkeypatch, **env).use_remote() is remote


# --- each provider, built from the settings (no network) -------------------------------------


def test_openai_compatible_server_at_spm_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = configured(
        monkeypatch, SPM_MODEL="openai:Qwen/Qwen2.5-7B-Instruct", SPM_BASE_URL="http://127.0.0.1:8000/v1",
        OPENAI_BASE_URL="http://elsewhere/v1", SPM_LLM_TIMEOUT="12", SPM_LLM_RETRIES="4",
    )  # fmt: skip
    model = remote_model(settings)
    assert type(model).__name__ == "ChatOpenAI" and model.model_name == "Qwen/Qwen2.5-7B-Instruct"
    assert model.openai_api_base == "http://127.0.0.1:8000/v1"  # SPM_BASE_URL wins over OPENAI_BASE_URL
    assert (model.request_timeout, model.max_retries) == (12.0, 4)


def test_openai_with_the_variables_of_before(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = configured(monkeypatch, SPM_MODEL="gpt-4o-mini", OPENAI_API_KEY="sk-test", OPENAI_BASE_URL="http://x/v1")
    model = remote_model(settings)
    assert type(model).__name__ == "ChatOpenAI" and model.model_name == "gpt-4o-mini"
    assert model.openai_api_base == "http://x/v1" and model.openai_api_key.get_secret_value() == "sk-test"


def test_azure_openai_from_its_own_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = configured(
        monkeypatch, SPM_MODEL="azure_openai:plan-gpt-4o", AZURE_OPENAI_ENDPOINT="https://r.openai.azure.com",
        AZURE_OPENAI_API_KEY="az-key", OPENAI_API_VERSION="2024-10-21",
    )  # fmt: skip
    model = remote_model(settings)
    assert type(model).__name__ == "AzureChatOpenAI"
    assert (model.azure_endpoint, model.deployment_name, model.openai_api_version) == (
        "https://r.openai.azure.com", "plan-gpt-4o", "2024-10-21",
    )  # fmt: skip
    assert model.openai_api_key.get_secret_value() == "az-key" and model_label(model) == "plan-gpt-4o"


def test_azure_without_an_api_version_says_what_to_set_and_never_shows_the_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = configured(
        monkeypatch, SPM_MODEL="azure_openai:dep", AZURE_OPENAI_ENDPOINT="https://r.openai.azure.com",
        AZURE_OPENAI_API_KEY="az-secret-key",
    )  # fmt: skip
    with pytest.raises(InputError) as caught:
        remote_model(settings)
    assert "azure_openai:dep could not be set up" in str(caught.value) and "OPENAI_API_VERSION" in str(caught.value)
    assert "az-secret-key" not in str(caught.value)  # a validation error's input holds the key


def test_anthropic(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("langchain_anthropic")
    settings = configured(monkeypatch, SPM_MODEL="anthropic:claude-sonnet-4-5", ANTHROPIC_API_KEY="sk-ant-test",
                          SPM_LLM_TIMEOUT="7")  # fmt: skip
    model = remote_model(settings)
    assert type(model).__name__ == "ChatAnthropic" and model.model == "claude-sonnet-4-5"
    assert model.anthropic_api_key.get_secret_value() == "sk-ant-test" and model.default_request_timeout == 7.0
    assert model_label(model) == "claude-sonnet-4-5"  # the model, not "anthropic-chat"


def test_ollama_with_its_context_window(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("langchain_ollama")
    settings = configured(
        monkeypatch, SPM_MODEL="ollama:qwen3:8b", SPM_BASE_URL="http://gpu-box:11434", SPM_OLLAMA_NUM_CTX="32768",
        OPENAI_BASE_URL="http://127.0.0.1:9/v1",  # memory's embedding server: never the Ollama chat endpoint
    )  # fmt: skip
    model = remote_model(settings)
    assert type(model).__name__ == "ChatOllama" and model_label(model) == "qwen3:8b"
    assert model.base_url == "http://gpu-box:11434" and model.num_ctx == 32768
    assert model._chat_params([HumanMessage("hi")])["options"]["num_ctx"] == 32768  # sent with each request


def test_ollama_is_not_sent_to_openai_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = configured(monkeypatch, SPM_MODEL="ollama:qwen3:8b", OPENAI_BASE_URL="http://127.0.0.1:9/v1")
    assert settings.base_url is None  # the integration's default host (or OLLAMA_HOST)


@pytest.mark.parametrize(("provider", "module", "extra"), [("anthropic", "langchain_anthropic", "anthropic"),
                                                           ("ollama", "langchain_ollama", "ollama")])  # fmt: skip
def test_a_missing_provider_package_names_the_extra_to_install(
    monkeypatch: pytest.MonkeyPatch, provider: str, module: str, extra: str
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # importing it now fails, as when it is not installed
    with pytest.raises(InputError) as caught:
        remote_model(ModelSettings(provider="remote", model=f"{provider}:some-model"))
    message = str(caught.value)
    assert f"needs the {module.replace('_', '-')} package" in message
    assert f"pip install 'spm-agent[{extra}]'" in message


def test_the_cli_says_which_extra_to_install(monkeypatch: pytest.MonkeyPatch, demo_copy: Warehouse) -> None:
    monkeypatch.setitem(sys.modules, "langchain_anthropic", None)
    configured(monkeypatch, SPM_MODEL="anthropic:claude-sonnet-4-5", ANTHROPIC_API_KEY="k")
    result = CliRunner().invoke(app, ["-w", str(demo_copy.path), "ask", "What's pipeline?"])
    assert result.exit_code == 3, result.output  # invalid input, not a crash
    assert "pip install 'spm-agent[anthropic]'" in result.stderr


# --- temperature ----------------------------------------------------------------------------


def _sent(model: Any) -> str:
    """What the integration would send for one message (its request payload or options), as text."""
    if type(model).__name__ == "ChatOllama":
        return json.dumps(model._chat_params([HumanMessage("hi")])["options"])
    if type(model).__name__ == "ChatAnthropic":
        return json.dumps(model._get_request_payload([HumanMessage("hi")]), default=str)
    return json.dumps(model._default_params, default=str)


@pytest.mark.parametrize(
    ("spec", "env"),
    [
        ("openai:gpt-4o-mini", {"OPENAI_API_KEY": "k"}),
        ("azure_openai:dep", {"AZURE_OPENAI_ENDPOINT": "https://r.openai.azure.com", "OPENAI_API_VERSION": "2024-10-21",
                              "AZURE_OPENAI_API_KEY": "k"}),
        ("anthropic:claude-sonnet-4-5", {"ANTHROPIC_API_KEY": "k"}),
        ("ollama:qwen3:8b", {}),
    ],
)  # fmt: skip
def test_temperature_none_is_never_sent_and_a_number_is(
    monkeypatch: pytest.MonkeyPatch, spec: str, env: dict[str, str]
) -> None:
    if spec.startswith(("anthropic", "ollama")):
        pytest.importorskip(f"langchain_{spec.split(':')[0]}")
    model = remote_model(configured(monkeypatch, SPM_MODEL=spec, SPM_TEMPERATURE="none", **env))
    assert model.temperature is None and "temperature" not in _sent(model)
    model = remote_model(configured(monkeypatch, SPM_MODEL=spec, SPM_TEMPERATURE="0.3", **env))
    assert model.temperature == 0.3 and '"temperature": 0.3' in _sent(model)


def _provider_refusals() -> list[tuple[str, BaseException]]:
    import openai

    request = httpx.Request("POST", "http://127.0.0.1/v1/chat/completions")
    refusals: list[tuple[str, BaseException]] = [
        ("openai:o4-mini", openai.BadRequestError("Unsupported value: 'temperature' does not support 0.0",
                                                  response=httpx.Response(400, request=request), body=None)),
    ]  # fmt: skip
    try:
        import anthropic

        refusals.append(("anthropic:claude-x", anthropic.BadRequestError(
            "temperature is not supported with thinking", response=httpx.Response(400, request=request), body=None)))  # fmt: skip
        # ChatAnthropic refuses a temperature some models do not take before sending anything.
        refusals.append(("anthropic:claude-y", ValueError("`temperature` is not supported for claude-y at non-default values.")))  # fmt: skip
    except ImportError:
        pass
    try:
        import ollama

        refusals.append(("ollama:some-model", ollama.ResponseError("option temperature is not supported", 400)))
    except ImportError:
        pass
    return refusals


@pytest.mark.parametrize(("spec", "refusal"), _provider_refusals(), ids=lambda v: str(v)[:20])
def test_each_providers_temperature_refusal_is_recognised_and_remembered(spec: str, refusal: BaseException) -> None:
    model = remote_model(ModelSettings(provider="remote", model=spec, api_key="k", temperature=0.2))
    assert isinstance(refusal, model_errors())  # a refusal is caught, not a crash
    assert usable(model) is model
    assert rejects_temperature(refusal, model)
    assert usable(model).temperature is None and usable(model).temperature is None  # every later call


def test_other_failures_are_not_temperature_refusals() -> None:
    import openai

    model = remote_model(ModelSettings(provider="remote", model="openai:gpt-4o-mini", temperature=0.0))
    request = httpx.Request("POST", "http://127.0.0.1/v1/chat/completions")
    not_found = openai.NotFoundError("model not found", response=httpx.Response(404, request=request), body=None)
    assert not rejects_temperature(not_found, model)
    assert not rejects_temperature(ValueError("invalid JSON"), model)


# --- end to end: a question over real HTTP, priced ----------------------------------------------


def _usage(reply: dict[str, Any], prompt: int, completion_tokens: int, cached: int = 0) -> dict[str, Any]:
    usage = {"prompt_tokens": prompt, "completion_tokens": completion_tokens, "total_tokens": prompt + completion_tokens,
             "prompt_tokens_details": {"cached_tokens": cached}}  # fmt: skip
    return {**reply, "usage": usage}


def test_ask_json_with_spm_model_openai_and_a_price_file(
    monkeypatch: pytest.MonkeyPatch, demo_copy: Warehouse, tmp_path: Path
) -> None:
    prices = tmp_path / "prices.toml"
    # USD per million tokens: input 2.00, cached input 0.50, output 8.00.
    prices.write_text('["stub-planner"]\ninput = 2.0\noutput = 8.0\ncached_input = 0.5\n')
    replies = [
        lambda body: _usage(
            completion(tool_calls=[{"name": "metrics", "args": {"metric": "pipeline"}}]), 1200, 300, 200
        ),
        lambda body: _usage(completion(content="Pipeline: " + tool_results(body)[-1]["summary"]), 2000, 100),
    ]
    runner = CliRunner()
    with OpenAIStub(replies) as stub:
        configured(monkeypatch, SPM_MODEL="openai:stub-planner", SPM_BASE_URL=stub.base_url, OPENAI_API_KEY="k",
                   SPM_LLM_RETRIES="0", SPM_PRICES=str(prices))  # fmt: skip
        result = runner.invoke(app, ["-w", str(demo_copy.path), "ask", "What's pipeline?", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["status"] == "ok" and data["model"] == "stub-planner"
    assert [r["body"]["model"] for r in stub.requests] == [
        "stub-planner",
        "stub-planner",
    ]  # the provider prefix is ours
    # Call 1: (1,000 uncached x 2.00 + 200 cached x 0.50 + 300 x 8.00) / 1M = 0.0045
    # Call 2: (2,000 x 2.00 + 100 x 8.00) / 1M = 0.0048
    assert data["usage"] == {"model_calls": 2, "input_tokens": 3200, "output_tokens": 400, "total_tokens": 3600,
                             "cost_usd": pytest.approx(0.0093)}  # fmt: skip

    shown = runner.invoke(app, ["-w", str(demo_copy.path), "audit", "show", data["run_id"], "--json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["usage"]["cost_usd"] == pytest.approx(0.0093)  # priced again from the trail
    text = runner.invoke(app, ["-w", str(demo_copy.path), "audit", "show", data["run_id"]])
    assert "2 model calls · 3,200 tokens in · 400 out · $0.0093" in text.stdout

    monkeypatch.delenv("SPM_PRICES")
    get_settings.cache_clear()
    unpriced = runner.invoke(app, ["-w", str(demo_copy.path), "audit", "show", data["run_id"], "--json"])
    assert json.loads(unpriced.stdout)["usage"]["cost_usd"] is None  # no table: no cost, never a guess
