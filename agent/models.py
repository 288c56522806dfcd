"""Model providers: the offline planner (default) and any OpenAI-compatible chat model.

`SPM_LLM=offline|openai|auto` (auto: openai when an API key or base URL is configured). The
OpenAI client retries rate limits (429), timeouts and server errors with exponential backoff
itself (`max_retries`); when it still fails, the plan node falls back to the offline planner.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from agent.planner.slots import Vocabulary

Provider = Literal["offline", "openai", "auto"]


@dataclass(frozen=True)
class ModelSettings:
    provider: Provider = "auto"
    model: str = "gpt-4o-mini"
    api_key: str | None = None
    base_url: str | None = None
    timeout: float = 30.0
    max_retries: int = 2
    temperature: float | None = 0.0  # None: not sent (the provider's default)

    def use_openai(self) -> bool:
        if self.provider == "offline":
            return False
        if self.provider == "openai":
            return True
        return bool(self.api_key or self.base_url)


def offline_planner(vocabulary: Vocabulary, threshold: float = 0.45, cache_dir: Path | None = None) -> BaseChatModel:
    from agent.planner.model import OfflinePlanner

    return OfflinePlanner(vocabulary=vocabulary, threshold=threshold, cache_dir=cache_dir)


def openai_model(settings: ModelSettings) -> BaseChatModel:
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        model=settings.model,
        api_key=settings.api_key or "not-needed",  # local OpenAI-compatible servers ignore it
        base_url=settings.base_url,
        timeout=settings.timeout,
        max_retries=settings.max_retries,
        temperature=settings.temperature,
    )


# Models this process has seen refuse a temperature (reasoning models accept only their default):
# every later call to them is sent without one, instead of failing and retrying each time.
_REJECTS_TEMPERATURE: set[str] = set()


def rejects_temperature(exc: BaseException, model: BaseChatModel) -> bool:
    """A 400 from the provider saying the temperature is not supported (remembered for the process)."""
    import openai

    refused = isinstance(exc, openai.BadRequestError) and "temperature" in str(exc).lower()
    if refused and getattr(model, "temperature", None) is not None:
        _REJECTS_TEMPERATURE.add(str(getattr(model, "model_name", "")))
        return True
    return False


def usable(model: BaseChatModel) -> BaseChatModel:
    """`model`, or a copy that sends no temperature when this model has refused one."""
    name = str(getattr(model, "model_name", ""))
    if name in _REJECTS_TEMPERATURE and getattr(model, "temperature", None) is not None:
        return model.model_copy(update={"temperature": None})
    return model


def model_errors() -> tuple[type[BaseException], ...]:
    """Failures of a remote model that mean "fall back", not "crash"."""
    import httpx
    import openai

    # ValueError covers a garbled body (invalid JSON) and a reply that does not parse as a completion.
    return (openai.APIError, httpx.HTTPError, TimeoutError, ConnectionError, ValueError)
