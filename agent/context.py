"""What a run needs besides its state: the serialisable `Context` LangGraph carries, and the live
`Run` (warehouse, models, user and scope, audit log, settings) the nodes obtain from it.

`Context` is the graph's `context_schema`: plain ids and names, so LangGraph Server and Studio
can show it, send it and validate it (`graph.get_context_jsonschema()`). The model never sees
it, so a user's scope can only come from here. Live handles cannot travel that way: the run
that starts a graph registers its `Run` under the run id (`running`), and nodes look it up
(`live`). A graph served by LangGraph Server has no such caller: an opener installed by the
composition root (`serve_with`, interfaces/langgraph_app.py) opens the handles for a run the
first time a node asks. What a run finds out (memories recalled, a model that failed) goes in
the graph's state (agent/state.py).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.models import model_label
from tools.limits import Limits
from warehouse.identity import Scope, User

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel
    from langchain_core.tools import BaseTool

    from warehouse.audit import RunLog
    from warehouse.connection import Warehouse


@dataclass(frozen=True)
class AgentSettings:
    recursion_limit: int = 12  # graph steps per run: plan/tools loops, approval, recommend
    max_tool_rounds: int = 4  # plan -> tools loops before the agent must answer
    confidence_threshold: float = 0.45  # offline planner: below this it asks instead of guessing
    max_question_chars: int = 4_000  # longer input is refused: it is a paste, not a question
    memory_results: int = 3  # memories retrieved per question
    memory_cite_distance: float = 0.55  # past decisions closer than this (cosine distance) are cited
    limits: Limits = field(default_factory=Limits)  # caps on Monte Carlo trials and solver time
    planner_cache: Path | None = None  # folder keeping the offline planner's trained classifier


@dataclass(frozen=True)
class Context:
    """The run's context as LangGraph carries it: ids and names only (JSON-serialisable)."""

    run_id: str = ""  # the audited run ("" for a served run: the server's run id names it)
    user_id: str = ""  # who asks ("" : the account the process runs as)
    interface: str = "langgraph"  # cli, chat, batch, slack, python, langgraph
    warehouse: str = ""  # the warehouse file ("" : the configured one)
    model: str = ""  # the planner's name ("" : the configured one)
    auto_approve: bool = False  # the user approved up front (--approve) the change their request asks for
    approve_target: str | None = None  # ...or the one they named (a batch row's `approve` column)


@dataclass(frozen=True)
class Run:
    """A run's live handles: what the nodes and tool adapters work with."""

    warehouse: Warehouse  # writable: tools read through it, the audit log and approved writes use it
    model: BaseChatModel  # the planner (offline or a remote chat model)
    offline: BaseChatModel  # the fallback when the model fails
    user: User
    run_id: str
    interface: str = "python"
    audit: RunLog | None = None
    auto_approve: bool = False
    approve_target: str | None = None
    settings: AgentSettings = field(default_factory=AgentSettings)
    memory: Any = None
    extra_tools: tuple[BaseTool, ...] = ()  # tools the caller added (PlanningAgent(tools=[...]))
    owned: bool = False  # opened for a served run: the graph finishes its audit log itself

    @property
    def scope(self) -> Scope:
        return self.user.scope

    def model_name(self, fallback_reason: str | None = None) -> str:
        """The planner that answered: the model, or 'model -> offline' after it failed."""
        if fallback_reason:
            return f"{_name(self.model)} -> {_name(self.offline)}"
        return _name(self.model)

    def context(self) -> Context:
        """The serialisable context naming this run."""
        return Context(
            run_id=self.run_id,
            user_id=self.user.user_id,
            interface=self.interface,
            warehouse=str(self.warehouse.path),
            model=self.model_name(),
            auto_approve=self.auto_approve,
            approve_target=self.approve_target,
        )


def _name(model: Any) -> str:
    return model_label(model)


# A served run's opener: (context, run id, new run?, thread id, the thread's messages) -> its handles.
Opener = Callable[[Context, str, bool, str, Sequence[Any]], Run]

_RUNS: dict[str, Run] = {}
_LOCK = threading.Lock()
_OPENER: list[Opener] = []  # at most one: installed by the composition root that serves the graph


@contextmanager
def running(run: Run) -> Iterator[Context]:
    """Register `run`'s handles for the graph while the caller streams it; yields its context."""
    with _LOCK:
        _RUNS[run.run_id] = run
    try:
        yield run.context()
    finally:
        with _LOCK:
            _RUNS.pop(run.run_id, None)


def serve_with(opener: Opener) -> None:
    """Install how a served graph opens a run's handles (one opener per process)."""
    with _LOCK:
        _OPENER[:] = [opener]


def served_run_id(langgraph_run_id: str | None) -> str:
    """The audited run id of a served run: from the server's run id, else a new one."""
    raw = (langgraph_run_id or "").replace("-", "") or uuid.uuid4().hex
    return "run-" + raw[-12:]  # the random end: the server's ids (UUIDv7) start with the time


def live(context: Context, state_run_id: str, execution: Any, messages: Sequence[Any]) -> Run:
    """The handles of the run a node works for.

    A registered run (an spm interface or `PlanningAgent` streaming the graph) is found by the
    context's run id. A served run (LangGraph Server) is opened by the installed opener: a new
    run when the thread's last message is a new question, else the run the state names (the
    next round, or an approval being resumed, perhaps by another server process).
    """
    with _LOCK:
        if context.run_id:
            found = _RUNS.get(context.run_id)
            if found is None:
                raise LookupError(f"Run {context.run_id} is not running in this process.")
            return found
        new = bool(messages) and getattr(messages[-1], "type", None) == "human"
        run_id = "" if new else state_run_id
        found = _RUNS.get(run_id) if run_id else None
        if found is not None:
            return found
        if not _OPENER:
            raise LookupError(
                "No handles for this run: ask through PlanningAgent, or serve the graph with `langgraph dev` "
                "(langgraph.json points at interfaces/langgraph_app.py)."
            )
        opener = _OPENER[0]
    thread_id = str(getattr(execution, "thread_id", None) or "")
    run = opener(context, run_id or served_run_id(getattr(execution, "run_id", None)), not run_id, thread_id, messages)
    with _LOCK:
        return _RUNS.setdefault(run.run_id, run)


def state_field(state: Any, name: str, default: Any) -> Any:
    """A field of the graph's state, which tool calls see as a dict and nodes as the dataclass."""
    return state.get(name, default) if isinstance(state, dict) else getattr(state, name, default)


def run_of(state: Any, runtime: Any) -> Run:
    """The live handles of the run a node (or a tool call, given its state and runtime) works for."""
    return live(
        runtime.context or Context(),
        state_field(state, "run_id", ""),
        getattr(runtime, "execution_info", None),
        state_field(state, "messages", []),
    )


def close(run: Run) -> None:
    """Forget a served run's handles once the graph finished it."""
    with _LOCK:
        _RUNS.pop(run.run_id, None)
