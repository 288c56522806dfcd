"""Data-check tool: the warehouse's data-quality checks as a planning tool result."""
