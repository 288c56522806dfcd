"""Metrics tool: KPI lookups (bookings, pipeline, coverage, win rate, deal size, cycle, attainment, headcount)."""
