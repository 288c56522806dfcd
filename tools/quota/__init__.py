"""Quota simulation tool: allocation, Monte Carlo attainment, comp cost and fairness."""
