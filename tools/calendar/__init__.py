"""The fiscal-calendar write: change the month the fiscal year starts in, for everyone."""
