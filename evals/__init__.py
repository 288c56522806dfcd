"""Eval suites (YAML) that measure the agent's planning, and their runner."""
