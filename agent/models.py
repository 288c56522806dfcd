"""Model providers: the offline planner (default) and a remote chat model from any supported provider.

`SPM_LLM=offline|remote|auto` (`openai` is the older name of `remote`; auto: remote when the
model is configured, see `ModelSettings.use_remote`). The remote model is `provider:model`
(`SPM_MODEL`), built by LangChain's `init_chat_model`: `openai` (OpenAI, or any OpenAI-compatible
server at a base URL: vLLM, LM Studio, Ollama's /v1), `azure_openai`, `anthropic`, `ollama`. A
bare name is an OpenAI(-compatible) model, as before providers could be named. The clients
retry rate limits (429), timeouts and server errors with backoff themselves (`max_retries`);
when a call still fails, the plan node falls back to the offline planner.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from warehouse.errors import InputError

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from agent.planner.slots import Vocabulary

Provider = Literal["offline", "openai", "remote", "auto"]  # how questions are planned (SPM_LLM)


@dataclass(frozen=True)
class ChatProvider:
    module: str  # the LangChain integration's module
    package: str  # its distribution on PyPI
    extra: str | None  # spm-agent's extra that installs it; None: a core dependency


# The providers `SPM_MODEL` may name (LangChain's names for them).
CHAT_PROVIDERS: dict[str, ChatProvider] = {
    "openai": ChatProvider("langchain_openai", "langchain-openai", None),
    "azure_openai": ChatProvider("langchain_openai", "langchain-openai", None),
    "anthropic": ChatProvider("langchain_anthropic", "langchain-anthropic", "anthropic"),
    "ollama": ChatProvider("langchain_ollama", "langchain-ollama", "ollama"),
}


@dataclass(frozen=True)
class ModelSpec:
    provider: str  # a key of CHAT_PROVIDERS
    name: str  # the provider's model name (Azure: the deployment)

    def __str__(self) -> str:
        return f"{self.provider}:{self.name}"


def parse_model(spec: str) -> ModelSpec:
    """`provider:model`, or a bare model name (an OpenAI-compatible model).

    Only a known provider counts as a prefix: `qwen3:8b` (an Ollama tag served on an
    OpenAI-compatible endpoint) stays one model name, as it was before providers were named.
    """
    text = spec.strip()
    prefix, colon, rest = text.partition(":")
    provider, name = (prefix.lower(), rest.strip()) if colon and prefix.lower() in CHAT_PROVIDERS else ("openai", text)
    if not name:
        raise InputError(
            f"The model {spec!r} names no model.",
            f"Write it as provider:model, e.g. openai:gpt-4o-mini; providers: {', '.join(CHAT_PROVIDERS)}.",
        )
    return ModelSpec(provider, name)


@dataclass(frozen=True)
class ModelSettings:
    provider: Provider = "auto"
    model: str = "openai:gpt-4o-mini"  # provider:model (a bare name: an OpenAI-compatible model)
    api_key: str | None = None  # the provider's key (OpenAI, Azure OpenAI, Anthropic)
    base_url: str | None = None  # an OpenAI-compatible /v1 URL, the Azure endpoint, the Ollama host
    timeout: float = 30.0
    max_retries: int = 2
    temperature: float | None = 0.0  # None: not sent (the provider's default)
    api_version: str | None = None  # azure_openai: the API version (None: OPENAI_API_VERSION)
    num_ctx: int | None = None  # ollama: the context window per request (None: the server's default)

    @property
    def spec(self) -> ModelSpec:
        return parse_model(self.model)

    def use_remote(self) -> bool:
        """Whether questions go to the remote model. `auto` needs it configured (a key or a base
        URL, or an Ollama model named outright), so nothing reaches the network by default."""
        if self.provider == "offline":
            return False
        if self.provider in ("openai", "remote"):
            return True
        return bool(self.api_key or self.base_url) or self.spec.provider == "ollama"


def offline_planner(vocabulary: Vocabulary, threshold: float = 0.45, cache_dir: Path | None = None) -> BaseChatModel:
    from agent.planner.model import OfflinePlanner

    return OfflinePlanner(vocabulary=vocabulary, threshold=threshold, cache_dir=cache_dir)


def remote_model(settings: ModelSettings) -> BaseChatModel:
    """The configured remote chat model (no network: clients connect on the first call).

    Raises InputError when the provider's package is not installed (naming the extra) or the
    provider refuses the configuration (an Azure model without an API version)."""
    spec = settings.spec
    _require_package(spec)
    from langchain.chat_models import init_chat_model

    try:
        return init_chat_model(spec.name, model_provider=spec.provider, **_provider_kwargs(settings, spec))
    except ImportError as exc:  # a dependency of the integration itself is missing
        raise _missing(spec, exc) from exc
    except ValueError as exc:  # pydantic's ValidationError is one
        raise InputError(
            f"The model {spec} could not be set up: {_reasons(exc)}", _SETUP_HINTS.get(spec.provider)
        ) from exc


_SETUP_HINTS = {
    "azure_openai": "Set AZURE_OPENAI_ENDPOINT (or SPM_BASE_URL), AZURE_OPENAI_API_KEY and OPENAI_API_VERSION "
    "(e.g. 2024-10-21); the model is the deployment's name.",
    "anthropic": "Set ANTHROPIC_API_KEY; the model is an Anthropic model name, e.g. claude-sonnet-4-5.",
    "ollama": "Set SPM_BASE_URL to the Ollama host (default http://localhost:11434).",
    "openai": "Set OPENAI_API_KEY, or SPM_BASE_URL for an OpenAI-compatible server.",
}


def _provider_kwargs(settings: ModelSettings, spec: ModelSpec) -> dict[str, Any]:
    """The settings under the provider's own names. Unset ones are left out, so each integration
    falls back to its own environment variables and defaults; the temperature is passed even as
    None, which every integration reads as "do not send one"."""
    given: dict[str, Any]
    if spec.provider == "openai":
        # A local OpenAI-compatible server ignores the key, but the client insists on one.
        given = {"api_key": settings.api_key or "not-needed", "base_url": settings.base_url}
    elif spec.provider == "azure_openai":
        given = {"api_key": settings.api_key, "azure_endpoint": settings.base_url, "api_version": settings.api_version,
                 "azure_deployment": spec.name}  # fmt: skip
    elif spec.provider == "anthropic":
        given = {"api_key": settings.api_key, "base_url": settings.base_url}
    else:  # ollama: its client has no retries of its own, so a failed call falls back at once
        given = {"base_url": settings.base_url, "num_ctx": settings.num_ctx}
        return {"temperature": settings.temperature, "client_kwargs": {"timeout": settings.timeout}} | _set(given)
    if spec.provider in ("openai", "azure_openai"):
        # A streamed reply (`spm ask` on a terminal) reports its tokens only when asked to
        # (stream_options.include_usage): without it the run's usage and cost would read zero.
        given["stream_usage"] = True
    return {
        "temperature": settings.temperature,
        "timeout": settings.timeout,
        "max_retries": settings.max_retries,
    } | _set(given)


def _set(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def _require_package(spec: ModelSpec) -> None:
    try:
        importlib.import_module(CHAT_PROVIDERS[spec.provider].module)
    except ImportError as exc:
        raise _missing(spec, exc) from exc


def _missing(spec: ModelSpec, exc: ImportError) -> InputError:
    provider = CHAT_PROVIDERS[spec.provider]
    install = f"pip install 'spm-agent[{provider.extra}]'" if provider.extra else f"pip install {provider.package}"
    return InputError(
        f"The model {spec} needs the {provider.package} package, which is not installed ({exc}).",
        f"Install it: {install}, or choose another SPM_MODEL.",
    )


def _reasons(exc: ValueError) -> str:
    """What the provider refused, without the values given: a validation error's input holds the API key."""
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        return "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def model_label(model: Any) -> str:
    """A chat model's name as people read it: the model, not the integration (ChatAnthropic and
    ChatOllama call it `model`, the OpenAI clients `model_name`)."""
    for attribute in ("model_name", "model"):
        value = getattr(model, attribute, None)
        if isinstance(value, str) and value:
            return value
    return str(getattr(model, "_llm_type", type(model).__name__))


# Models this process has seen refuse a temperature (reasoning models accept only their default):
# every later call to them is sent without one, instead of failing and retrying each time.
_REJECTS_TEMPERATURE: set[tuple[str, str]] = set()


def _key(model: BaseChatModel) -> tuple[str, str]:
    return type(model).__name__, model_label(model)  # the same name at two providers is two models


def rejects_temperature(exc: BaseException, model: BaseChatModel) -> bool:
    """The provider refusing the temperature (remembered for the process): its 400 saying so, or
    the integration refusing it before sending (ChatAnthropic's ValueError for models that take
    only their default).

    Every provider's client says 400 the same way: `status_code` on openai's BadRequestError
    (OpenAI, Azure, vLLM), anthropic's BadRequestError and ollama's ResponseError."""
    text = str(exc).lower()
    before_sending = type(exc) is ValueError and "not supported" in text
    refused = "temperature" in text and (getattr(exc, "status_code", None) == 400 or before_sending)
    if refused and getattr(model, "temperature", None) is not None:
        _REJECTS_TEMPERATURE.add(_key(model))
        return True
    return False


def usable(model: BaseChatModel) -> BaseChatModel:
    """`model`, or a copy that sends no temperature when this model has refused one."""
    if _key(model) in _REJECTS_TEMPERATURE and getattr(model, "temperature", None) is not None:
        return model.model_copy(update={"temperature": None})
    return model


# Each optional provider's errors: (module, its exception classes that mean "the call failed").
_PROVIDER_ERRORS = (("anthropic", ("APIError",)), ("ollama", ("ResponseError",)))


def model_errors() -> tuple[type[BaseException], ...]:
    """Failures of a remote model that mean "fall back", not "crash"."""
    import httpx
    import openai

    # ValueError covers a garbled body (invalid JSON) and a reply that does not parse as a completion;
    # ConnectionError an Ollama server that is not running.
    errors: list[type[BaseException]] = [openai.APIError, httpx.HTTPError, TimeoutError, ConnectionError, ValueError]
    for module_name, names in _PROVIDER_ERRORS:
        # Only a provider already imported can have raised: checking costs no import.
        module = sys.modules.get(module_name)
        errors += [getattr(module, n) for n in names if module is not None and hasattr(module, n)]
    return tuple(errors)
