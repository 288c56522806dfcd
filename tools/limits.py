"""Resource caps a deployment puts on tool runs: Monte Carlo trials and solver seconds.

The tools' input models bound what is computable at all (200,000 trials, an hour of solver
time); these caps are the operator's policy on top (`SPM_MAX_TRIALS`,
`SPM_MAX_SOLVER_SECONDS`), checked wherever a request enters: the agent's tool adapters (so
neither a user's question nor a remote model's tool call can ask for more) and the CLI tool
commands. A request above a cap is refused with the cap and the setting that raises it, never
silently cut down: a plan computed with fewer trials than asked for would misstate its own
precision.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from warehouse.errors import InputError


@dataclass(frozen=True)
class Limits:
    max_trials: int = 50_000
    max_solver_seconds: float = 300.0

    def check(self, params: Any) -> None:
        """Raise InputError when `params` (a tool input model) asks for more than the caps allow."""
        trials = getattr(params, "trials", None)
        if isinstance(trials, int) and trials > self.max_trials:
            raise InputError(
                f"{trials:,} Monte Carlo trials is above this deployment's cap of {self.max_trials:,}.",
                f"Ask for at most {self.max_trials:,} trials, or raise SPM_MAX_TRIALS.",
            )
        seconds = getattr(params, "time_limit", None)
        if isinstance(seconds, int | float) and seconds > self.max_solver_seconds:
            raise InputError(
                f"A solver time limit of {seconds:g} s is above this deployment's cap of "
                f"{self.max_solver_seconds:g} s.",
                f"Ask for at most {self.max_solver_seconds:g} s, or raise SPM_MAX_SOLVER_SECONDS.",
            )
