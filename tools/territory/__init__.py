"""Territory rebalance tool: balanced, minimal-disruption account moves with a proven bound."""
