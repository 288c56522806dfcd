"""The graph LangGraph Server serves: `langgraph dev`, LangGraph Studio and Server load it
through langgraph.json (`interfaces/langgraph_app.py:make_graph`).

The server sends each run a serialisable context (agent/context.py `Context`: user id,
interface, up-front approval); this module is the composition root that turns it into live
handles: the agent built from the same settings as `spm ask` (SPM_WAREHOUSE, SPM_MODEL, ...;
its own thread store is not used),
and the user the server's OS account acts as, or the one `user_id` names where that account
may act as them (the same rule as `spm ask --user`). The server keeps the threads (its own
checkpointer); every run is audited in the warehouse like any other.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agent.agent import PlanningAgent
    from agent.context import Context, Run


@cache
def _agent() -> PlanningAgent:
    from interfaces.compose import build_agent

    return build_agent()


def open_run(context: Context, run_id: str, new: bool, thread_id: str, messages: Sequence[Any]) -> Run:
    """A served run's handles: the configured agent's, as the user the context may act as."""
    from interfaces.identity import acting_user

    agent = _agent()
    user = acting_user(agent.warehouse, context.user_id or None)
    question = next((str(m.content) for m in reversed(messages) if getattr(m, "type", None) == "human"), "")
    return agent.served_run(context, run_id, new, user, thread_id or run_id, question)


@cache
def make_graph() -> Any:
    """The compiled graph for the server (which brings its own checkpointer).

    The server calls this on its event loop for every run: it does no I/O. The agent (warehouse,
    memory, model) is built on the first run's worker thread, in `open_run`.
    """
    from agent.context import serve_with
    from agent.graph import build

    serve_with(open_run)
    return build()
