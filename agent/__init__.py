"""The planning agent: a LangGraph graph that plans typed tool calls and records every step.

`from agent import PlanningAgent` is the Python entry point. It is loaded on first use, so the
CLI's quick commands, which import other `agent` modules, do not pay for LangGraph at start-up.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agent.agent import PlanningAgent

__all__ = ["PlanningAgent"]


def __getattr__(name: str) -> Any:
    if name == "PlanningAgent":
        from agent.agent import PlanningAgent

        return PlanningAgent
    raise AttributeError(f"module 'agent' has no attribute {name!r}")
