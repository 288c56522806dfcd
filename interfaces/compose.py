"""Composition root for the agent: settings -> warehouse, model, checkpointer, memory, agent.
The CLI, chat, batch and Slack interfaces, and Python callers, all build agents here."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agent.agent import PlanningAgent
    from interfaces.settings import Settings
    from warehouse.connection import Warehouse


def checkpointer(path: Path | str, lock_timeout: float = 10.0) -> Any:
    """A SQLite checkpointer for conversation threads (":memory:" for a throwaway one).

    The threads hold questions and tool results: a new file is created 0600 (in a 0700 folder
    when spm creates the folder), and SQLite gives its journal files the database's mode.
    Many processes share the file (concurrent `spm ask`, Slack workers): in WAL mode readers
    never wait for the writer, and a writer waits up to `lock_timeout` for another's commit
    (SQLite's default, 5 s, failed 2 of 50 simultaneous asks).
    """
    from langgraph.checkpoint.sqlite import SqliteSaver

    from warehouse.errors import storage_error
    from warehouse.files import private_file

    try:
        if str(path) != ":memory:":
            private_file(path)
        connection = sqlite3.connect(str(path), check_same_thread=False, timeout=lock_timeout)
        if str(path) != ":memory:":
            connection.execute("PRAGMA journal_mode=WAL")
        saver = SqliteSaver(connection)
        saver.setup()
    except (OSError, sqlite3.Error) as exc:
        problem = storage_error(exc, path)
        if problem is None:
            raise
        raise problem from exc
    return saver


def model_settings(settings: Settings) -> Any:
    """The planner's model settings: the key and endpoint of the provider SPM_MODEL names."""
    from agent.models import ModelSettings, parse_model

    provider = parse_model(settings.model).provider
    key = {
        "openai": settings.openai_api_key,
        "azure_openai": settings.azure_openai_api_key,
        "anthropic": settings.anthropic_api_key,
    }.get(provider)
    # OPENAI_BASE_URL also points memory's embeddings at a server: it is the chat endpoint only for
    # OpenAI models, so an Ollama or Anthropic model is never sent to it.
    endpoint = {"openai": settings.openai_base_url, "azure_openai": settings.azure_openai_endpoint}.get(provider)
    return ModelSettings(
        provider=settings.llm,
        model=settings.model,
        api_key=key.get_secret_value() if key else None,
        base_url=settings.base_url or endpoint,
        timeout=settings.llm_timeout,
        max_retries=settings.llm_retries,
        temperature=settings.temperature,
        api_version=settings.openai_api_version,
        num_ctx=settings.ollama_num_ctx,
    )


def build_agent(
    settings: Settings | None = None, warehouse: Warehouse | None = None, tools: Sequence[Any] = ()
) -> PlanningAgent:
    """The agent `spm` uses, from the settings; `tools`: a Python caller's own LangChain tools."""
    from agent.agent import PlanningAgent
    from agent.context import AgentSettings
    from interfaces.settings import audit_key, get_settings, limits, warehouse_key
    from warehouse.connection import Warehouse

    settings = settings or get_settings()
    wh = warehouse or Warehouse(
        settings.warehouse, writable=True, lock_timeout=settings.lock_timeout, key=warehouse_key(settings)
    )
    if not wh.writable:
        wh = wh.with_writes()
    install_fit_store(settings)
    install_prices(settings)
    return PlanningAgent(
        warehouse=wh,
        model_settings=model_settings(settings),
        checkpointer=checkpointer(settings.threads_db, settings.lock_timeout),
        memory=memory_store(settings),
        audit_key=audit_key(settings),
        settings=AgentSettings(limits=limits(settings), planner_cache=settings.cache_dir),
        tools=tools,
    )


def memory_store(settings: Settings) -> Any:
    """The memory store in `SPM_MEMORY_DIR`, with the offline embedding unless a model is configured."""
    from memory.embedding import embedding_function
    from memory.store import MemoryStore

    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    embedding = embedding_function(settings.embedding_model, key, settings.openai_base_url)
    return MemoryStore(settings.memory_dir, embedding, lock_timeout=settings.lock_timeout)


def install_fit_store(settings: Settings) -> None:
    """Series fits kept in SPM_CACHE_DIR/fits, so a fresh process reuses what an earlier one fitted.

    Not for an encrypted warehouse: the stored backtest rows hold its history in the clear.
    """
    from tools.forecast import fit_store

    if settings.warehouse_key is not None:
        fit_store.use(None)
        return
    folder = settings.cache_dir / "fits"
    current = fit_store.current()
    if not (isinstance(current, fit_store.DiskFitStore) and current.folder == folder):
        fit_store.use(fit_store.DiskFitStore(folder))


def install_prices(settings: Settings) -> None:
    """Price every run this process's agents answer with SPM_PRICES (unset: runs carry no cost)."""
    from agent import cost
    from interfaces.prices import configured_prices

    cost.use(configured_prices(settings))
