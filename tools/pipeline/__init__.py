"""Pipeline movement: what changed in the open pipeline between two dates, and why."""
