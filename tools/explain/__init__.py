"""Variance explanation tool: why a slice is ahead of or behind last year, plan or the last period."""
