"""Scenarios tool: list saved draft scenarios, show one, compare two side by side."""
