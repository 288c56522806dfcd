"""The DuckDB warehouse: schema and migrations, connections, fiscal calendar, demo company,
imports and data-quality checks. Imports nothing else of spm-agent."""
