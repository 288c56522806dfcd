"""The name a tool saves a new draft scenario under (`save_scenario`), as a pydantic type.

Checked when a tool's input is built, so the CLI and the agent refuse a bad name alike, before
anything is computed or written; the rule itself is the warehouse's (`warehouse/names.py`).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator

from warehouse.names import SCENARIO_NAME_EXAMPLE, scenario_name_problem


def _new_scenario_name(value: str) -> str:
    value = value.strip()
    problem = scenario_name_problem(value)
    if problem:
        raise ValueError(problem)
    return value


ScenarioName = Annotated[str, AfterValidator(_new_scenario_name)]
# For the field's description, which every model call carries: the rule without its fine print (a name
# that breaks it is refused with the whole rule, SCENARIO_NAME_RULE).
SAVE_AS = f"(e.g. {SCENARIO_NAME_EXAMPLE}; up to 64 letters, digits, spaces, - _ .)"
