"""Capacity gap tool: headcount against target with ramp, attrition and time to fill."""
