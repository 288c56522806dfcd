"""Settings from the environment and `.env` (prefix `SPM_`). Only `interfaces/` reads them.

Third-party conventions keep their own names: `OPENAI_API_KEY`, `OPENAI_BASE_URL`,
`AZURE_OPENAI_API_KEY`, `AZURE_OPENAI_ENDPOINT`, `OPENAI_API_VERSION`, `ANTHROPIC_API_KEY`,
`SLACK_BOT_TOKEN`, `SLACK_APP_TOKEN`, `SLACK_SIGNING_SECRET`, `SLACK_API_URL`. They are read here
(so a `.env` file sets them too) and handed to the model's client.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from tools.limits import Limits


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SPM_", env_file=".env", env_file_encoding="utf-8", extra="ignore")

    warehouse: Path = Field(Path("data/warehouse.duckdb"), description="Warehouse file.")
    demo_warehouse: Path = Field(Path("data/demo.duckdb"), description="Warehouse file `spm demo` builds and uses.")
    fiscal_year_start_month: int = Field(
        1, ge=1, le=12, description="Fiscal-year start month for new empty warehouses."
    )
    lock_timeout: float = Field(10.0, ge=0, description="Seconds to wait for a warehouse another process holds.")
    memory_dir: Path = Field(Path("data/memory"), description="Folder of the memory store.")
    threads_db: Path = Field(Path("data/threads.sqlite"), description="SQLite file of conversation threads.")
    cache_dir: Path = Field(
        Path("data/cache"),
        description="Folder of derived files that make a fresh process fast (the trained planner, series fits).",
    )
    user: str | None = Field(
        None,
        description="User to act as (users table), where your OS login's user may act as them; "
        "unset: your OS login's user (interfaces/identity.py).",
    )
    llm_timeout: float = Field(30.0, gt=0, description="Seconds before a model request times out.")
    llm_retries: int = Field(2, ge=0, le=10, description="Retries of a failed model request (with backoff).")

    llm: Literal["offline", "openai", "remote", "auto"] = Field(
        "auto",
        description="Planner: offline, remote (the SPM_MODEL chat model; `openai` is its older name), "
        "or auto (remote when its key or base URL is configured, or SPM_MODEL names an Ollama model).",
    )
    model: str = Field(
        "openai:gpt-4o-mini",
        description="Chat model as provider:model; providers: openai (also any OpenAI-compatible server at "
        "SPM_BASE_URL), azure_openai (the deployment), anthropic, ollama. A bare name is an OpenAI-compatible model.",
    )
    base_url: str | None = Field(
        None,
        description="The chat model's endpoint: an OpenAI-compatible server's /v1 URL, the Azure OpenAI resource, "
        "the Ollama host, an Anthropic proxy. Unset: OPENAI_BASE_URL (openai), AZURE_OPENAI_ENDPOINT (azure_openai), "
        "else the provider's default.",
    )
    ollama_num_ctx: int | None = Field(
        None, ge=512, description="Ollama: context window (tokens) asked for on each request; unset: the server's."
    )
    prices: Path | None = Field(
        None, description="TOML or JSON file of model prices (USD per million tokens) that gives each run a cost."
    )
    temperature: float | None = Field(
        0.0,
        ge=0,
        le=2,
        description="Sampling temperature sent to the model; `none`: not sent. A model that refuses one "
        "(reasoning models) is asked again without it.",
    )

    @field_validator("temperature", mode="before")
    @classmethod
    def _no_temperature(cls, value: object) -> object:
        return None if isinstance(value, str) and value.strip().lower() in ("", "none", "off") else value

    embedding_model: str | None = Field(
        None, description="OpenAI-compatible embedding model for memory (unset: the offline hashing embedding)."
    )
    openai_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("OPENAI_API_KEY", "SPM_OPENAI_API_KEY")
    )
    openai_base_url: str | None = Field(None, validation_alias=AliasChoices("OPENAI_BASE_URL", "SPM_OPENAI_BASE_URL"))
    azure_openai_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("AZURE_OPENAI_API_KEY", "SPM_AZURE_OPENAI_API_KEY")
    )
    azure_openai_endpoint: str | None = Field(
        None, validation_alias=AliasChoices("AZURE_OPENAI_ENDPOINT", "SPM_AZURE_OPENAI_ENDPOINT")
    )
    openai_api_version: str | None = Field(
        None, validation_alias=AliasChoices("OPENAI_API_VERSION", "SPM_OPENAI_API_VERSION")
    )
    anthropic_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("ANTHROPIC_API_KEY", "SPM_ANTHROPIC_API_KEY")
    )

    warehouse_key: SecretStr | None = Field(
        None, description="Key of an encrypted warehouse (DuckDB AES-GCM); unset: a plain file."
    )
    audit_key: SecretStr | None = Field(
        None, description="Key that signs each audit run's header (HMAC-SHA256); detects a cut-off trail."
    )

    slack_bot_token: SecretStr | None = Field(
        None, validation_alias=AliasChoices("SLACK_BOT_TOKEN", "SPM_SLACK_BOT_TOKEN")
    )
    slack_app_token: SecretStr | None = Field(
        None, validation_alias=AliasChoices("SLACK_APP_TOKEN", "SPM_SLACK_APP_TOKEN")
    )
    slack_signing_secret: SecretStr | None = Field(
        None, validation_alias=AliasChoices("SLACK_SIGNING_SECRET", "SPM_SLACK_SIGNING_SECRET")
    )
    slack_api_url: str | None = Field(None, validation_alias=AliasChoices("SLACK_API_URL", "SPM_SLACK_API_URL"))
    slack_unknown_user: str = Field(
        "deny",
        description="Slack users not in the users table: `deny`, or the id of a user (e.g. a read-only viewer) to act as.",
    )
    slack_workers: int = Field(8, ge=1, le=64, description="Questions the Slack bot answers at once.")
    slack_host: str = Field(
        "127.0.0.1",
        min_length=1,
        description="HTTP mode: the interface the Slack bot listens on. 127.0.0.1 (this machine only, "
        "behind a reverse proxy that terminates TLS); 0.0.0.0 listens on every interface.",
    )
    slack_port: int = Field(3000, ge=1, le=65535, description="HTTP mode: the port the Slack bot listens on.")
    max_trials: int = Field(50_000, ge=100, le=200_000, description="Most Monte Carlo trials a tool run may ask for.")
    max_solver_seconds: float = Field(
        300.0, gt=0, le=3_600, description="Longest territory solver time limit a run may ask for, seconds."
    )
    max_import_mb: float = Field(1_024.0, gt=0, description="Largest file `spm data import` reads, in MB.")


@cache
def get_settings() -> Settings:
    return Settings()


def warehouse_key(settings: Settings) -> str | None:
    return settings.warehouse_key.get_secret_value() if settings.warehouse_key else None


def audit_key(settings: Settings) -> bytes | None:
    return settings.audit_key.get_secret_value().encode() if settings.audit_key else None


def limits(settings: Settings) -> Limits:
    """The deployment's caps on tool runs."""
    from tools.limits import Limits

    return Limits(max_trials=settings.max_trials, max_solver_seconds=settings.max_solver_seconds)
