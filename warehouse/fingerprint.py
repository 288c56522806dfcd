"""Data fingerprints: a short hash of the content of the tables a result was computed from.

Order-independent (a sum of row hashes), so the same data gives the same fingerprint however
it was loaded, and any changed, added or removed row changes it. Replaying a recorded tool
call compares fingerprints to tell "the data changed" from "the code changed".
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

# Tables a fingerprint may cover (names are interpolated into SQL, so they are allow-listed).
FINGERPRINT_TABLES = frozenset(
    {
        "regions",
        "segments",
        "products",
        "stages",
        "geos",
        "territories",
        "territory_geos",
        "reps",
        "accounts",
        "opportunities",
        "opportunity_history",
        "bookings",
        "quotas",
        "targets",
        "comp_plans",
        "headcount_plan",
        "scenarios",
        "scenario_changes",
        "meta",
    }
)


def fingerprint(cur: Any, tables: Iterable[str]) -> str:
    """`sha256:` + 16 hex digits over the named tables' row counts and content hashes."""
    digest = hashlib.sha256()
    for table in sorted(set(tables)):
        if table not in FINGERPRINT_TABLES:
            raise ValueError(f"cannot fingerprint unknown table {table!r}")
        count, total = cur.execute(f"SELECT count(*), sum(hash(t)) FROM {table} t").fetchone()
        digest.update(f"{table}:{count}:{total}".encode())
    return "sha256:" + digest.hexdigest()[:16]
