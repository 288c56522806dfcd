"""Run benchmarks: `python -m bench` (all) or `python -m bench generation import`."""

from __future__ import annotations

import sys

from bench import (
    agent_speed,
    ask_latency,
    capacity_speed,
    cli_startup,
    concurrent_asks,
    encryption,
    eval_scores,
    faults,
    forecast_accuracy,
    forecast_competition,
    forecast_speed,
    forecast_validation,
    generation,
    import_throughput,
    interfaces_speed,
    memory_speed,
    quota_speed,
    territory_speed,
    tool_schemas,
    usefulness,
)

BENCHMARKS = {
    "cli_startup": cli_startup.run,
    "generation": generation.run,
    "import": import_throughput.run,
    "forecast_accuracy": forecast_accuracy.run,
    "forecast_competition": forecast_competition.run,
    "forecast_validation": forecast_validation.run,
    "forecast_speed": forecast_speed.run,
    "quota_speed": quota_speed.run,
    "territory": territory_speed.run,
    "capacity_speed": capacity_speed.run,
    "agent_speed": agent_speed.run,
    "ask_latency": ask_latency.run,
    "usefulness": usefulness.run,
    "interfaces_speed": interfaces_speed.run,
    "memory_speed": memory_speed.run,
    "eval_scores": eval_scores.run,
    "faults": faults.run,
    "encryption": encryption.run,
    "concurrent_asks": concurrent_asks.run,
    "tool_schemas": tool_schemas.run,
}


def main(names: list[str]) -> None:
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        raise SystemExit(f"unknown benchmark(s) {unknown}; choose from {list(BENCHMARKS)}")
    for name in names or list(BENCHMARKS):
        print(f"== {name}", flush=True)
        BENCHMARKS[name]()


if __name__ == "__main__":
    main(sys.argv[1:])
