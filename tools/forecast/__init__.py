"""Forecast tool: time series plus open pipeline, reconciled across a hierarchy, backtested."""
