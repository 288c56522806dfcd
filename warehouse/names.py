"""Names people choose that spm prints back later: scenarios and user ids.

A name is typed on a command line or by a model, stored, and then printed in a terminal (rich
markup), in Slack (mrkdwn), in Markdown and CSV reports. Letters, digits and a few separators
read the same in all of them; brackets, quotes, `*`, `<`, `|` and control characters do not, so
new names are checked against a rule when they are saved. Names stored before the rule existed
are still accepted as references and are escaped wherever they are printed.

A leaf module (no imports of ours, no heavy libraries): the tools' input models check a name
with it when a request is built, and the warehouse checks again before it writes.
"""

from __future__ import annotations

import re

SCENARIO_NAME_RULE = "1-64 letters, digits, spaces, '-', '_' or '.', starting with a letter or digit"
SCENARIO_NAME_EXAMPLE = "emea-rebalance-fy28"
_SCENARIO_NAME = re.compile(r"[^\W_][\w .-]{0,63}")

USER_ID_RULE = "1-64 letters, digits, '-', '_', '.' or '@', starting with a letter or digit"
USER_ID_EXAMPLE = "emea-lead"
_USER_ID = re.compile(r"[^\W_][\w.@-]{0,63}")


def scenario_name_problem(name: str) -> str | None:
    """Why `name` cannot name a new scenario (`SCENARIO_NAME_RULE`), or None when it can."""
    if _SCENARIO_NAME.fullmatch(name):
        return None
    return f"the scenario name {name!r} is not allowed: use {SCENARIO_NAME_RULE}, e.g. {SCENARIO_NAME_EXAMPLE}"


def user_id_problem(user_id: str) -> str | None:
    """Why `user_id` cannot be a new user's id (`USER_ID_RULE`), or None when it can."""
    if _USER_ID.fullmatch(user_id):
        return None
    return f"the user id {user_id!r} is not allowed: use {USER_ID_RULE}, e.g. {USER_ID_EXAMPLE}"
