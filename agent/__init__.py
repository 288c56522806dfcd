"""The planning agent: a LangGraph graph that plans typed tool calls and records every step."""
